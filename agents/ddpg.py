"""DDPG (Lillicrap et al., 2016) for ``Box`` actions: actor, critic, their target networks and soft updates.

Seed 001 (SPEC §3) trained DDPG over item embeddings: the actor proposes a point in item-embedding
space and ``RecGym-RatingsEmbedding-v0`` recommends the item nearest to it. Here:

- the actor ``mu(s)`` (:class:`~agents.networks.Actor`, ``tanh`` scaled to the action bounds) and the
  critic ``Q(s, a)`` (:class:`~agents.networks.Critic`) each have a target copy (``copy.deepcopy``)
  that follows them by a soft update of exactly ``tau`` after every gradient step;
- the critic regresses on ``r + gamma * (1 - terminated) * Q'(s', mu'(s'))``: a time-limit
  truncation still bootstraps, only a true termination does not;
- exploration adds Gaussian or Ornstein-Uhlenbeck noise (:mod:`agents.noise`) to the actor's action
  and clips the sum to the action bounds; before ``learning_starts`` transitions, actions are
  uniform within the bounds. Every action :meth:`DDPG.act` returns lies within the bounds;
- observations are encoded by the env's declared layout
  (:class:`~agents.encoder.ObservationEncoder`) when the env has one, else flattened
  (:class:`~agents.encoder.FlatEncoder`).

Examples
--------
>>> import gymnasium as gym, recgym
>>> env = gym.make("RecGym-RatingsEmbedding-v0", n_users=50, n_items=40)
>>> agent = DDPG.for_env(env, DDPGConfig(learning_starts=0, batch_size=8, seed=0))
>>> obs, _ = env.reset(seed=0)
>>> agent.act(obs[None]).shape
(1, 16)
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from agents.base import Agent, Observations
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.encoder import FlatEncoder, ObservationEncoder
from agents.networks import Actor, Critic, polyak_update
from agents.noise import GaussianNoise, LinearSchedule, OrnsteinUhlenbeckNoise
from agents.optimizers import adam
from agents.replay_buffer import ReplayBuffer, TensorBatch, to_torch
from recgym.envs.observation import ObservationLayout

CHECKPOINT_KIND = "ddpg"
NOISE_KINDS = ("gaussian", "ou")


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating) and math.isfinite(value)


@dataclass(frozen=True)
class DDPGConfig:
    """DDPG's hyperparameters; every value is checked at construction (``ValueError`` naming the field).

    Counts of "transitions" are summed over the envs of a vector env (one vector step of
    ``n_envs`` envs is ``n_envs`` transitions); ``train_freq`` counts vector steps (calls to
    :meth:`DDPG.observe`).
    """

    actor_lr: float = 1e-4
    """Adam learning rate of the actor (> 0)."""
    critic_lr: float = 1e-3
    """Adam learning rate of the critic (> 0)."""
    buffer_size: int = 100_000
    """Replay capacity in transitions."""
    batch_size: int = 256
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount in [0, 1]."""
    tau: float = 0.005
    """Soft-update rate in (0, 1]: ``target <- tau * online + (1 - tau) * target`` after each gradient step."""
    learning_starts: int = 1_000
    """Transitions of uniformly random actions (within the bounds) before the actor acts and learning starts."""
    train_freq: int = 1
    """Train every ``train_freq`` calls to :meth:`DDPG.observe` (vector steps)."""
    gradient_steps: int = 1
    """Gradient steps (each one critic step, one actor step and the soft updates) per training."""
    noise: str = "gaussian"
    """Exploration noise: ``"gaussian"`` or ``"ou"`` (Ornstein-Uhlenbeck, one process per env)."""
    noise_sigma: float = 0.1
    """Noise ``sigma`` (>= 0), in units of half the action range: ``(high - low) / 2``."""
    noise_theta: float = 0.15
    """OU mean-reversion rate (> 0)."""
    noise_dt: float = 1e-2
    """OU time step (> 0)."""
    noise_final_scale: float = 1.0
    """Multiplier of the noise after ``noise_decay_steps`` transitions (>= 0); 1 keeps it constant."""
    noise_decay_steps: int = 0
    """Transitions over which the noise multiplier goes linearly from 1 to ``noise_final_scale`` (0: no decay)."""
    actor_hidden: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the actor (the seed used 256)."""
    critic_hidden: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the critic."""
    max_grad_norm: float | None = None
    """Clip each network's gradient to this global norm (> 0); None: no clipping."""
    seed: int | None = 0
    """Seed of the networks' initialisation, the random actions, the noise and the replay sampling (None: fresh entropy)."""

    def __post_init__(self) -> None:
        for name in ("actor_lr", "critic_lr"):
            value = getattr(self, name)
            if not _is_number(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name, minimum in (
            ("buffer_size", 1),
            ("batch_size", 1),
            ("learning_starts", 0),
            ("train_freq", 1),
            ("gradient_steps", 1),
            ("noise_decay_steps", 0),
        ):
            value = getattr(self, name)
            if not _is_int(value) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not _is_number(self.gamma) or not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be a number in [0, 1], got {self.gamma!r}")
        if not _is_number(self.tau) or not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be a number in (0, 1], got {self.tau!r}")
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        for name in ("noise_sigma", "noise_final_scale"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("noise_theta", "noise_dt"):
            value = getattr(self, name)
            if not _is_number(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name in ("actor_hidden", "critic_hidden"):
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
            sizes = tuple(value)
            if not all(_is_int(size) and size >= 1 for size in sizes):
                raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
            object.__setattr__(self, name, tuple(int(size) for size in sizes))
        if self.max_grad_norm is not None and (not _is_number(self.max_grad_norm) or self.max_grad_norm <= 0):
            raise ValueError(f"max_grad_norm must be None or a finite number > 0, got {self.max_grad_norm!r}")
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise ValueError(f"seed must be None or an integer >= 0, got {self.seed!r}")

    @classmethod
    def ratings_preset(cls, **overrides: Any) -> DDPGConfig:
        """Settings measured on ``RecGym-RatingsEmbedding-v0`` with a 1,000-env vector env (one vector step = one period).

        Consecutive requests of a slot come from different users, so the env is close to a
        contextual bandit: ``gamma=0``. Slow actor, 32 gradient steps of 256 per vector step, a
        20-period uniform warm-up and wide noise. On the default world (1,000 users x 1,000 items)
        200 periods (about 70-100 s on one CPU thread) gave a deterministic-policy regret 72-93 %
        below the uniformly random policy's over five world seeds.

        Parameters
        ----------
        **overrides
            Fields to change.

        Returns
        -------
        DDPGConfig
            The preset with ``overrides`` applied.
        """
        preset = {
            "gamma": 0.0,
            "learning_starts": 20_000,
            "gradient_steps": 32,
            "batch_size": 256,
            "noise_sigma": 0.3,
            "actor_lr": 1e-5,
            "critic_lr": 3e-4,
        }
        return cls(**(preset | overrides))

    def replace(self, **changes: Any) -> DDPGConfig:
        """A copy with some fields changed (validated again); unknown names raise ``ValueError``."""
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown DDPGConfig field(s) {unknown}")
        return dataclasses.replace(self, **changes)


@torch.no_grad()
def _row(observations: Observations, index: int) -> np.ndarray | dict[str, np.ndarray]:
    """Row ``index`` of a batch of observations (of every field for a dict)."""
    if isinstance(observations, Mapping):
        return {key: np.asarray(value)[index] for key, value in observations.items()}
    return np.asarray(observations)[index]


def _spaces_of(env: gym.Env | gym.vector.VectorEnv) -> tuple[spaces.Space, spaces.Space, int]:
    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space, int(env.num_envs)
    return env.observation_space, env.action_space, 1


class DDPG(Agent):
    """Deep Deterministic Policy Gradient over a ``Box`` action space.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Dict
        One env's observation space (a ``Dict`` needs ``layout``).
    action_space : gymnasium.spaces.Box
        One env's action space, with finite bounds.
    config : DDPGConfig, optional
        Hyperparameters (defaults if None).
    n_envs : int
        Envs acting together (the vector env's ``num_envs``): one Ornstein-Uhlenbeck process each.
    layout : ObservationLayout, optional
        The env's declared layout; observations then go through an
        :class:`~agents.encoder.ObservationEncoder` (one per network), else a
        :class:`~agents.encoder.FlatEncoder`.
    device : str or torch.device
        Where the networks live.

    Attributes
    ----------
    actor, critic : Actor, Critic
        The online networks.
    actor_target, critic_target : Actor, Critic
        Their target copies, changed only by soft updates.
    replay_buffer : ReplayBuffer
        Transitions seen, sampled uniformly.
    noise : GaussianNoise or OrnsteinUhlenbeckNoise
        Exploration noise (``sigma`` relative to half the action range).
    num_timesteps : int
        Transitions observed (summed over envs).
    n_updates : int
        Gradient steps taken.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        config: DDPGConfig | None = None,
        *,
        n_envs: int = 1,
        layout: ObservationLayout | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.config = DDPGConfig() if config is None else config
        if not isinstance(self.config, DDPGConfig):
            raise ValueError(f"config must be a DDPGConfig, got {type(self.config).__name__}")
        if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
            raise ValueError(f"DDPG needs a 1-D Box action space, got {action_space}")
        if not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()):
            raise ValueError(f"DDPG needs finite action bounds, got {action_space}")
        if layout is None and not isinstance(observation_space, spaces.Box):
            raise ValueError(f"without an observation layout the observation space must be a Box, got {observation_space}")
        if not _is_int(n_envs) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.layout = layout
        self.n_envs = int(n_envs)
        self.device = torch.device(device)
        cfg = self.config
        self.action_dim = int(action_space.shape[0])
        self.action_low = action_space.low.astype(np.float64)
        self.action_high = action_space.high.astype(np.float64)
        self._half_range = (self.action_high - self.action_low) / 2.0

        # One seed sequence gives independent streams: networks, random actions, noise, replay sampling.
        torch_seed, action_seed, noise_seed, buffer_seed = np.random.SeedSequence(cfg.seed).spawn(4)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch_seed.generate_state(1, np.uint64)[0]))
            self.actor = Actor(self._encoder(), self.action_dim, cfg.actor_hidden, self.action_low, self.action_high)
            self.critic = Critic(self._encoder(), self.action_dim, cfg.critic_hidden)
        self.actor.to(self.device)
        self.critic.to(self.device)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_optimizer = adam(self.actor.parameters(), cfg.actor_lr)
        self.critic_optimizer = adam(self.critic.parameters(), cfg.critic_lr)

        self.rng = np.random.default_rng(action_seed)
        schedule = None
        if cfg.noise_decay_steps > 0:
            schedule = LinearSchedule(1.0, cfg.noise_final_scale, cfg.noise_decay_steps)
        noise_rng = np.random.default_rng(noise_seed)
        self.noise: GaussianNoise | OrnsteinUhlenbeckNoise
        if cfg.noise == "ou":
            self.noise = OrnsteinUhlenbeckNoise(
                cfg.noise_theta, cfg.noise_sigma, cfg.noise_dt, self.action_dim, self.n_envs, noise_rng, scale_schedule=schedule
            )
        else:
            self.noise = GaussianNoise(cfg.noise_sigma, self.action_dim, noise_rng, scale_schedule=schedule)
        # One transition per add: a training loop may hand over fewer rows than envs (see observe).
        self.replay_buffer = ReplayBuffer(
            observation_space, action_space, cfg.buffer_size, n_envs=1, seed=int(buffer_seed.generate_state(1, np.uint64)[0])
        )
        self.num_timesteps = 0
        self.n_updates = 0
        self._steps_since_train = 0

    def _encoder(self) -> nn.Module:
        if self.layout is not None:
            return ObservationEncoder(self.layout)
        return FlatEncoder(tuple(self.observation_space.shape or ()))

    @classmethod
    def for_env(
        cls, env: gym.Env | gym.vector.VectorEnv, config: DDPGConfig | None = None, *, device: str | torch.device = "cpu"
    ) -> DDPG:
        """Build an agent for ``env`` (a single env, or a vector env whose ``num_envs`` becomes ``n_envs``).

        The encoder follows ``env.unwrapped.observation_layout`` when the env declares one (recgym
        envs do), else observations are flattened.
        """
        observation_space, action_space, n_envs = _spaces_of(env)
        layout = getattr(env.unwrapped, "observation_layout", None)
        return cls(observation_space, action_space, config, n_envs=n_envs, layout=layout, device=device)

    # -- acting ----------------------------------------------------------------------------------

    def _tensor(self, observations: Observations) -> torch.Tensor | dict[str, torch.Tensor]:
        if isinstance(observations, Mapping):
            return {key: torch.as_tensor(np.asarray(value), device=self.device) for key, value in observations.items()}
        return torch.as_tensor(np.asarray(observations), device=self.device)

    @staticmethod
    def _batch_size(observations: Observations) -> int:
        if isinstance(observations, Mapping):
            return len(next(iter(observations.values())))
        return len(observations)

    def act(self, observations: Observations, *, deterministic: bool = False) -> np.ndarray:
        """Actions for a batch of observations: ``(n, action_dim)`` in the action space's dtype, within its bounds.

        Deterministic: the actor's action. Otherwise uniform random actions during the first
        ``learning_starts`` transitions, then the actor's action plus noise, clipped to the bounds.
        """
        n = self._batch_size(observations)
        if not deterministic and self.num_timesteps < self.config.learning_starts:
            actions = self.rng.uniform(self.action_low, self.action_high, (n, self.action_dim))
        else:
            with torch.no_grad():
                actions = self.actor(self._tensor(observations)).cpu().numpy().astype(np.float64)
            if not deterministic:
                actions += self.noise.sample(n, self.num_timesteps) * self._half_range
        return np.clip(actions, self.action_low, self.action_high).astype(self.action_space.dtype)

    def exploration(self) -> dict[str, float]:
        """``{"noise_scale": sigma}``: the noise's current ``sigma`` (after decay), relative to half the action range."""
        return {"noise_scale": self.noise.current_sigma(self.num_timesteps)}

    # -- learning --------------------------------------------------------------------------------

    def observe(
        self,
        observations: Observations,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: Observations,
        terminated: np.ndarray,
        truncated: np.ndarray,
    ) -> None:
        """Store a batch of ``n`` transitions (``n`` counts as ``n`` env steps); restart the noise of envs whose episode ended.

        A full batch has one row per env (``n_envs``), in env order. A training loop may leave out
        rows (the reset steps of a ``next_step`` vector env); such a partial batch is stored all the
        same, but its rows cannot be matched to envs, so it restarts no Ornstein-Uhlenbeck process
        (with ``same_step`` autoreset every batch is full).
        """
        actions, rewards = np.asarray(actions), np.asarray(rewards)
        terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        n = self._batch_size(observations)
        lengths = (self._batch_size(next_observations), len(actions), len(rewards), len(terminated), len(truncated))
        if any(length != n for length in lengths):
            raise ValueError(
                "observe needs one row per transition in every argument, got "
                f"{n} observations, {lengths[0]} next observations, {lengths[1]} actions, {lengths[2]} rewards, "
                f"{lengths[3]} terminated and {lengths[4]} truncated"
            )
        add = self.replay_buffer.add
        for i in range(n):
            add(_row(observations, i), _row(next_observations, i), actions[i], rewards[i], terminated[i], truncated[i])
        done = terminated | truncated
        if n == self.n_envs and done.any():
            self.noise.reset(np.flatnonzero(done))
        self.num_timesteps += n
        self._steps_since_train += 1

    def critic_targets(self, batch: TensorBatch) -> torch.Tensor:
        """``r + gamma * (1 - terminated) * Q'(s', mu'(s'))`` for a batch: ``(B,)`` float32, without gradient.

        Truncated transitions bootstrap like any other; only ``terminated`` stops it.
        """
        with torch.no_grad():
            next_q = self.critic_target(batch.next_observations, self.actor_target(batch.next_observations))
            return batch.rewards + self.config.gamma * (1.0 - batch.terminated) * next_q

    def _step(self, optimizer: torch.optim.Optimizer, network: nn.Module, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(network.parameters(), self.config.max_grad_norm)
        optimizer.step()

    def _gradient_step(self, batch: TensorBatch) -> tuple[float, float, float]:
        """One critic step, one actor step, then both soft updates; return (critic loss, actor loss, mean Q)."""
        target = self.critic_targets(batch)
        q = self.critic(batch.observations, batch.actions)
        critic_loss = F.mse_loss(q, target)
        self._step(self.critic_optimizer, self.critic, critic_loss)

        actor_loss = -self.critic(batch.observations, self.actor(batch.observations)).mean()
        self._step(self.actor_optimizer, self.actor, actor_loss)

        polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.config.tau)
        polyak_update(self.actor.parameters(), self.actor_target.parameters(), self.config.tau)
        self.n_updates += 1
        return critic_loss.item(), actor_loss.item(), q.detach().mean().item()

    def update(self) -> dict[str, float]:
        """Train if due: after ``learning_starts`` transitions, every ``train_freq`` observe calls, ``gradient_steps`` steps.

        Returns
        -------
        dict of str to float
            ``critic_loss``, ``actor_loss`` and ``mean_q`` (the critic's mean value of the replayed
            actions), averaged over the gradient steps; ``{}`` if no training was due.
        """
        cfg = self.config
        if self.num_timesteps < cfg.learning_starts or len(self.replay_buffer) == 0 or self._steps_since_train < cfg.train_freq:
            return {}
        self._steps_since_train = 0
        totals = np.zeros(3)
        for _ in range(cfg.gradient_steps):
            batch = to_torch(self.replay_buffer.sample(cfg.batch_size), self.device)
            totals += self._gradient_step(batch)
        critic_loss, actor_loss, mean_q = totals / cfg.gradient_steps
        return {"critic_loss": float(critic_loss), "actor_loss": float(actor_loss), "mean_q": float(mean_q)}

    # -- checkpoints -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False, replay_buffer: bool = True) -> Path:
        """Write a checkpoint: networks, optimisers, counters, noise and RNG states, config and spaces.

        Parameters
        ----------
        path : str or os.PathLike
            File to write (never replaced unless ``overwrite``).
        overwrite : bool
            Replace an existing file.
        replay_buffer : bool
            Include the stored transitions, so that training continues exactly as it would have.
            Without them a loaded agent acts identically but starts learning from an empty buffer.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        state = {
            "config": dataclasses.asdict(self.config),
            "observation_space": self.observation_space,
            "action_space": self.action_space,
            "layout": self.layout,
            "n_envs": self.n_envs,
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "num_timesteps": self.num_timesteps,
            "n_updates": self.n_updates,
            "steps_since_train": self._steps_since_train,
            "rng": self.rng.bit_generator.state,
            "noise": self.noise.state_dict(),
            "replay_buffer": self.replay_buffer.to_bytes() if replay_buffer else None,
        }
        return save_checkpoint(path, CHECKPOINT_KIND, state, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **overrides: Any) -> DDPG:
        """Rebuild an agent from :meth:`save`'s checkpoint; it acts identically and continues training identically.

        Parameters
        ----------
        path : str or os.PathLike
            A DDPG checkpoint.
        **overrides
            ``device``, or :class:`DDPGConfig` fields to change (e.g. ``actor_lr``; the network sizes
            must stay those of the checkpoint).
        """
        state = load_checkpoint(path, CHECKPOINT_KIND)
        device = overrides.pop("device", "cpu")
        config = DDPGConfig(**state["config"]).replace(**overrides)
        agent = cls(
            state["observation_space"],
            state["action_space"],
            config,
            n_envs=state["n_envs"],
            layout=state["layout"],
            device=device,
        )
        for name in ("actor", "critic", "actor_target", "critic_target", "actor_optimizer", "critic_optimizer"):
            getattr(agent, name).load_state_dict(state[name])
        for optimizer, lr in ((agent.actor_optimizer, config.actor_lr), (agent.critic_optimizer, config.critic_lr)):
            for group in optimizer.param_groups:
                group["lr"] = lr
        agent.num_timesteps = int(state["num_timesteps"])
        agent.n_updates = int(state["n_updates"])
        agent._steps_since_train = int(state["steps_since_train"])
        agent.rng.bit_generator.state = state["rng"]
        agent.noise.load_state_dict(state["noise"])
        if state["replay_buffer"] is not None:
            agent._load_buffer_bytes(state["replay_buffer"], config.buffer_size)
        return agent

    def _load_buffer_bytes(self, data: bytes, capacity: int) -> None:
        buffer = ReplayBuffer.from_bytes(data)
        if buffer.capacity != capacity:
            raise ValueError(f"the checkpoint's replay buffer holds {buffer.capacity} transitions; buffer_size={capacity}")
        self.replay_buffer = buffer

    def __repr__(self) -> str:
        return (
            f"DDPG(action_dim={self.action_dim}, n_envs={self.n_envs}, num_timesteps={self.num_timesteps}, "
            f"n_updates={self.n_updates}, config={self.config})"
        )
