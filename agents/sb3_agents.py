"""Stable-Baselines3 agents for ``recgym train``: DQN, PPO, A2C, TD3 and SAC on recgym's batched vector envs.

SB3 drives a recgym id's native vector env through :class:`recgym.monitoring.RecGymVecEnv`
(one batched simulator call per step for all ``num_envs`` envs), with
:class:`~recgym.wrappers.RecordRecMetricsVector` and SB3's ``VecMonitor`` in between and, where
the defaults ask for it, ``VecNormalize`` for the observations. SB3's logger writes TensorBoard
event files (``train/*``, ``rollout/*``), :class:`~recgym.monitoring.RecMetricsCallback` adds the
recommender metrics (``rec/*``), and :class:`PeriodicEvaluation` evaluates the greedy policy with
:func:`agents.training.evaluate` (``eval/*``), so the run directory has the same files as for the
own agents.

Default hyperparameters by env family (:func:`default_hyperparameters`; each can be changed):

- short-video ids: ``gamma = 0.9`` (sessions of a few steps). DQN uses
  :class:`~agents.sb3_candidate_policy.CandidateDQNPolicy` (``policy="CandidateDQNPolicy"``: one
  network shared by the candidates, as :class:`agents.dqn.DQN`'s default) with
  :class:`agents.dqn.DQNConfig`'s settings where SB3 has the same knob (one gradient step of 256
  per 16 env steps, ε from 1 to 0.2 over half the run, target copied every 1,000 steps); the
  other algorithms use ``MlpPolicy`` on observations normalised with ``VecNormalize`` (view counts
  and seconds are in the tens to hundreds, codes in units);
- rating ids: ``gamma = 0`` (consecutive requests of an env come from different users: a
  contextual bandit), a 20-period uniform warm-up (``learning_starts = 20 * n_users``) and 32
  gradient steps of 256 per period for the off-policy agents, as in
  :meth:`agents.ddpg.DDPGConfig.ratings_preset`.

SB3 seeds Python's, NumPy's and torch's global generators with the ``seed`` it is given
(``set_random_seed``), and its DQN explores with NumPy's global generator: a run is reproducible
with the same seed, though not independent of other code that draws from those generators.
Gaussian exploration noise of TD3 (:class:`SeededNormalNoise`) has its own generator.
"""

from __future__ import annotations

import inspect
import io
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.vec_env import VecEnv, VecNormalize
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from agents.sb3_candidate_policy import CandidateDQNPolicy, candidate_policy_kwargs
from agents.training import EvalResult, TrainingResult, evaluate, torch_threads
from recgym.envs.registration import RATINGS_IDS
from recgym.monitoring import RecMetricsCallback, make_sb3_vec_env

ALGORITHMS: Mapping[str, type[BaseAlgorithm]] = {"sb3-dqn": DQN, "sb3-ppo": PPO, "sb3-a2c": A2C, "sb3-td3": TD3, "sb3-sac": SAC}
"""SB3 agents of ``recgym train`` and their algorithm classes."""
SB3_AGENTS = tuple(ALGORITHMS)
SB3_ACTIONS: Mapping[str, tuple[type[spaces.Space], ...]] = {
    "sb3-dqn": (spaces.Discrete,),
    "sb3-ppo": (spaces.Discrete, spaces.Box),
    "sb3-a2c": (spaces.Discrete, spaces.Box),
    "sb3-td3": (spaces.Box,),
    "sb3-sac": (spaces.Box,),
}
"""The action spaces each SB3 algorithm acts in."""

OWN_KEYS = ("normalize_observations", "action_noise_sigma", "policy")
"""Hyperparameters handled here rather than passed to the algorithm: ``VecNormalize`` of the
observations, the standard deviation of TD3's Gaussian action noise, and the policy's name."""
POLICIES = ("MlpPolicy", "MultiInputPolicy", "CandidateDQNPolicy")
"""Policy names: SB3's two, and :class:`~agents.sb3_candidate_policy.CandidateDQNPolicy` (``sb3-dqn`` only)."""

CHECKPOINT = "agent.zip"
"""File name of an SB3 run's model (``ALGORITHM.load``)."""
NORMALIZATION = "vecnormalize.pkl"
"""File name of an SB3 run's observation statistics (``VecNormalize.load``), when it normalises."""


# ---------------------------------------------------------------------------------------------- hyperparameters
def default_hyperparameters(agent: str, env_id: str, *, n_envs: int, n_users: int) -> dict[str, Any]:
    """The defaults of ``agent`` on ``env_id``'s family (see the module docstring).

    Parameters
    ----------
    agent : str
        One of :data:`SB3_AGENTS`.
    env_id : str
        A registered recgym id.
    n_envs : int
        Envs of the training vector env.
    n_users : int
        Users of the world (a rating period's requests).

    Returns
    -------
    dict
        Keyword arguments of the algorithm, plus :data:`OWN_KEYS`.
    """
    if agent not in ALGORITHMS:
        raise ValueError(f"agent must be one of {list(SB3_AGENTS)!r}, got {agent!r}")
    ratings = env_id in RATINGS_IDS
    gamma = 0.0 if ratings else 0.9
    common: dict[str, Any] = {"policy": "MlpPolicy", "gamma": gamma, "normalize_observations": not ratings}
    warm_up = {"learning_starts": 20 * n_users, "train_freq": 1, "gradient_steps": 32, "batch_size": 256}
    if agent == "sb3-dqn":
        if ratings:
            return common | warm_up | {"learning_rate": 1e-3, "buffer_size": 100_000, "target_update_interval": 1_000,
                                       "exploration_fraction": 0.5, "exploration_final_eps": 0.05}  # fmt: skip
        return common | {
            "policy": "CandidateDQNPolicy",
            "normalize_observations": False,  # the candidate network's encoder scales the fields itself
            "learning_rate": 5e-4,
            "buffer_size": 100_000,
            "batch_size": 256,
            "learning_starts": 2_000,
            "train_freq": max(1, 16 // n_envs),  # one gradient step per 16 env steps, as DQNConfig
            "gradient_steps": max(1, n_envs // 16),
            "target_update_interval": 1_000,
            "exploration_fraction": 0.5,
            "exploration_final_eps": 0.2,
            "policy_kwargs": {"net_arch": [64, 64]},
        }
    if agent == "sb3-ppo":
        return common | {"n_steps": max(8, 2_048 // n_envs), "batch_size": 256, "n_epochs": 4, "ent_coef": 0.01,
                         "learning_rate": 3e-4}  # fmt: skip
    if agent == "sb3-a2c":
        return common | {"n_steps": 8, "ent_coef": 0.01, "learning_rate": 7e-4}
    if agent == "sb3-td3":
        return common | warm_up | {"learning_rate": 3e-4, "buffer_size": 200_000, "action_noise_sigma": 0.3}
    return common | warm_up | {"learning_rate": 3e-4, "buffer_size": 200_000}  # sb3-sac


def build_hyperparameters(
    agent: str, env_id: str, *, seed: int, n_envs: int, n_users: int, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The run's hyperparameters: :func:`default_hyperparameters` with ``overrides`` applied and ``seed`` set.

    Raises
    ------
    ValueError
        ``overrides`` names a keyword the algorithm does not take (the message lists those it takes).
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ValueError(f"agent_config must be a mapping of {agent} keyword arguments or None, got {overrides!r}")
    algorithm = ALGORITHMS[agent]
    allowed = sorted((set(inspect.signature(algorithm.__init__).parameters) - {"self", "env", "policy", "tensorboard_log"})
                     | set(OWN_KEYS))  # fmt: skip
    unknown = sorted(set(overrides or {}) - set(allowed))
    if unknown:
        raise ValueError(f"agent_config has unknown {algorithm.__name__} keyword(s) {unknown!r}; allowed: {allowed!r}")
    if agent != "sb3-td3" and "action_noise_sigma" in (overrides or {}):
        raise ValueError(f"agent_config: action_noise_sigma is a TD3 setting, not one of {algorithm.__name__}'s")
    policy = (overrides or {}).get("policy", "MlpPolicy")
    if policy not in POLICIES or (policy == "CandidateDQNPolicy" and agent != "sb3-dqn"):
        allowed_policies = POLICIES if agent == "sb3-dqn" else POLICIES[:2]
        raise ValueError(f"agent_config: policy must be one of {list(allowed_policies)!r} for {agent}, got {policy!r}")
    hyperparameters = default_hyperparameters(agent, env_id, n_envs=n_envs, n_users=n_users) | dict(overrides or {})
    hyperparameters.setdefault("seed", seed)
    return hyperparameters


class SeededNormalNoise(ActionNoise):
    """Gaussian action noise ``N(0, sigma^2)`` per action dimension, from its own seeded generator.

    SB3's ``NormalActionNoise`` draws from NumPy's global generator; this one does not.

    Parameters
    ----------
    sigma : float
        Standard deviation.
    size : int
        Action dimensions.
    seed : int or None
        Seed of the generator.
    """

    def __init__(self, sigma: float, size: int, seed: int | None = None) -> None:
        super().__init__()
        if not isinstance(sigma, int | float) or isinstance(sigma, bool) or not math.isfinite(sigma) or sigma < 0:
            raise ValueError(f"action_noise_sigma must be a finite number >= 0, got {sigma!r}")
        self.sigma, self.size = float(sigma), int(size)
        self._rng = np.random.default_rng(seed)

    def __call__(self) -> np.ndarray:
        """One draw: ``size`` float32 values."""
        return self._rng.normal(0.0, self.sigma, self.size).astype(np.float32)

    def __repr__(self) -> str:
        return f"SeededNormalNoise(sigma={self.sigma}, size={self.size})"


def _model(agent: str, env: VecEnv, hyperparameters: Mapping[str, Any]) -> BaseAlgorithm:
    kwargs = {key: value for key, value in hyperparameters.items() if key not in OWN_KEYS}
    if agent == "sb3-td3" and hyperparameters.get("action_noise_sigma"):
        size = int(np.prod(env.action_space.shape))
        kwargs["action_noise"] = SeededNormalNoise(hyperparameters["action_noise_sigma"], size, hyperparameters.get("seed"))
    policy: Any = hyperparameters.get("policy", "MlpPolicy")
    if policy == "CandidateDQNPolicy":
        policy = CandidateDQNPolicy
        kwargs["policy_kwargs"] = dict(candidate_policy_kwargs(env)) | dict(kwargs.get("policy_kwargs") or {})
    return ALGORITHMS[agent](policy, env, **kwargs)


# ---------------------------------------------------------------------------------------------- policy
class SB3Policy:
    """An SB3 model as a policy for :func:`agents.training.evaluate`: ``act(observations)`` on raw observations.

    Parameters
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm
        The trained model.
    normalization : VecNormalize, optional
        The training run's observation statistics; observations are normalised with them first.
    deterministic : bool
        Greedy actions (``model.predict(..., deterministic=True)``).
    """

    def __init__(self, model: BaseAlgorithm, normalization: VecNormalize | None = None, *, deterministic: bool = True) -> None:
        self.model = model
        self.normalization = normalization
        self.deterministic = deterministic

    def act(self, observations: Any) -> np.ndarray:
        """Actions of a batch of observations."""
        if self.normalization is not None:
            observations = self.normalization.normalize_obs(observations)
        actions, _ = self.model.predict(observations, deterministic=self.deterministic)
        return np.asarray(actions)

    @classmethod
    def load(cls, run_dir: str | os.PathLike[str], env: gym.vector.VectorEnv | None = None) -> SB3Policy:
        """The policy saved in an SB3 run directory of ``recgym train`` (``agent.zip``, ``vecnormalize.pkl`` if any).

        Parameters
        ----------
        run_dir : str or os.PathLike
            The run directory.
        env : gymnasium.vector.VectorEnv, optional
            Needed only to attach the saved observation statistics (any vector env of the same id).

        Returns
        -------
        SB3Policy
        """
        run_dir = Path(run_dir)
        config_path = run_dir / "config.json"
        if not config_path.exists():
            raise ValueError(f"run_dir must be a recgym train run directory with config.json, got {str(run_dir)!r}")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        agent = config.get("agent")
        if agent not in ALGORITHMS:
            raise ValueError(f"{config_path} is a run of agent {agent!r}, not one of {list(SB3_AGENTS)!r}")
        model = ALGORITHMS[agent].load(run_dir / CHECKPOINT, device="cpu")
        normalization = None
        if (run_dir / NORMALIZATION).exists():
            if env is None:
                raise ValueError(f"{run_dir / NORMALIZATION} holds observation statistics: pass env to attach them")
            from recgym.monitoring import RecGymVecEnv

            normalization = VecNormalize.load(str(run_dir / NORMALIZATION), RecGymVecEnv(env))
            normalization.training = False
        return cls(model, normalization)


# ---------------------------------------------------------------------------------------------- callbacks
class PeriodicEvaluation(BaseCallback):
    """Evaluate the greedy policy every ``eval_every`` env steps with :func:`agents.training.evaluate`; log ``eval/*``.

    Evaluations due at the run's last step are left to an explicit :meth:`run` after ``learn``
    returns: SB3 updates the model once more after collecting those steps.

    Parameters
    ----------
    eval_env : gymnasium.vector.VectorEnv
        The evaluation env (reset with ``eval_seed`` for each evaluation).
    eval_every : int
        Env steps between evaluations.
    episodes : int
        Episodes per evaluation.
    eval_seed : int or None
        Seed of the evaluation env's reset.
    normalization : VecNormalize, optional
        The training env's observation statistics.
    """

    def __init__(
        self,
        eval_env: gym.vector.VectorEnv,
        eval_every: int,
        episodes: int,
        eval_seed: int | None,
        normalization: VecNormalize | None = None,
    ) -> None:
        super().__init__()
        self.eval_env, self.eval_every, self.episodes, self.eval_seed = eval_env, eval_every, episodes, eval_seed
        self.normalization = normalization
        self.evaluations: list[tuple[int, EvalResult]] = []
        self.seconds = 0.0
        self._next = eval_every

    def _on_step(self) -> bool:
        # The run's last steps come before SB3's last update: the final evaluation follows learn() instead.
        if self._next <= self.num_timesteps < getattr(self.model, "_total_timesteps", math.inf):
            self.run()
            while self._next <= self.num_timesteps:
                self._next += self.eval_every
        return True

    def run(self) -> EvalResult:
        """Evaluate now, record ``eval/*`` and dump the logger at the current step."""
        began = time.perf_counter()
        result = evaluate(SB3Policy(self.model, self.normalization), self.eval_env, self.episodes, seed=self.eval_seed)
        self.seconds += time.perf_counter() - began
        self.evaluations.append((self.num_timesteps, result))
        for key, value in result.as_dict().items():
            if math.isfinite(value):
                self.logger.record(f"eval/{key}", value)
        self.logger.dump(self.num_timesteps)
        return result


class _Episodes(BaseCallback):
    """Returns and lengths of every finished episode (``info["episode"]`` of SB3's ``VecMonitor``), and a progress bar."""

    def __init__(self, total_steps: int, progress_bar: bool) -> None:
        super().__init__()
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self._bar = tqdm(total=total_steps, unit="step", disable=not progress_bar, dynamic_ncols=True, smoothing=0.05)
        self._shown = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get("episode")
            if episode is not None:
                self.returns.append(float(episode["r"]))
                self.lengths.append(int(episode["l"]))
        step = min(self.num_timesteps, self._bar.total)
        self._bar.update(step - self._shown)
        self._shown = step
        if self.returns and self.n_calls % 50 == 0:
            self._bar.set_postfix(ret=f"{np.mean(self.returns[-100:]):.2f}", refresh=False)
        return True

    def close(self) -> None:
        self._bar.close()


# ---------------------------------------------------------------------------------------------- training
def make_training_env(
    env_id: str, num_envs: int, env_kwargs: Mapping[str, Any], hyperparameters: Mapping[str, Any]
) -> tuple[VecEnv, VecNormalize | None]:
    """The SB3 training env: :func:`recgym.monitoring.make_sb3_vec_env`, then ``VecNormalize`` if asked for."""
    env = make_sb3_vec_env(env_id, num_envs, seed=hyperparameters.get("seed"), **env_kwargs)
    if not hyperparameters.get("normalize_observations", False):
        return env, None
    normalization = VecNormalize(env, norm_obs=True, norm_reward=False, gamma=float(hyperparameters.get("gamma", 0.99)))
    return normalization, normalization


class SB3Learner:
    """An SB3 model with its training env, ready to learn on ``env_id`` with TensorBoard, metrics and evaluations.

    Parameters
    ----------
    agent : str
        One of :data:`SB3_AGENTS`.
    env_id : str
        A registered id.
    num_envs : int
        Envs of the training vector env (one native vector env through the adapter).
    env_kwargs : Mapping
        The env's keywords.
    hyperparameters : Mapping
        :func:`build_hyperparameters`'s result.

    Attributes
    ----------
    model : BaseAlgorithm
    env : VecEnv
        The training env (``VecNormalize`` on top when the observations are normalised).
    normalization : VecNormalize or None
        The observation statistics, if any.
    """

    def __init__(self, agent: str, env_id: str, num_envs: int, env_kwargs: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        self.agent = agent
        self.env, self.normalization = make_training_env(env_id, num_envs, env_kwargs, hyperparameters)
        try:
            self.model = _model(agent, self.env, hyperparameters)
        except BaseException:
            self.env.close()
            raise

    @property
    def num_timesteps(self) -> int:
        """Env steps learned so far."""
        return int(self.model.num_timesteps)

    @property
    def policy(self) -> SB3Policy:
        """The greedy policy on raw observations (for :func:`agents.training.evaluate`)."""
        return SB3Policy(self.model, self.normalization)

    def learn(
        self,
        steps: int,
        *,
        tensorboard_dir: str | os.PathLike[str],
        eval_env: gym.vector.VectorEnv,
        eval_every: int,
        eval_episodes: int,
        eval_seed: int | None,
        progress_bar: bool = True,
        before: list[tuple[int, EvalResult]] | None = None,
    ) -> TrainingResult:
        """Learn for ``steps`` env steps, with SB3's logger, :class:`RecMetricsCallback` and :class:`PeriodicEvaluation`.

        Parameters
        ----------
        steps : int
            Env steps (summed over envs; SB3 may overshoot by up to one rollout).
        tensorboard_dir : str or os.PathLike
            Where SB3's logger writes its event file (a new one; nothing there is replaced).
        eval_env : gymnasium.vector.VectorEnv
            Evaluation env.
        eval_every, eval_episodes, eval_seed
            As in :func:`agents.training.train`; a last evaluation follows the last step.
        progress_bar : bool
            Show a ``tqdm`` bar.
        before : list of (int, EvalResult), optional
            Evaluations taken before training (the untrained model at step 0), written to TensorBoard first.

        Returns
        -------
        TrainingResult
            As :func:`agents.training.train` reports it.
        """
        model = self.model
        model.set_logger(configure(str(tensorboard_dir), ["tensorboard"]))
        for step, result in before or []:
            for key, value in result.as_dict().items():
                if math.isfinite(value):
                    model.logger.record(f"eval/{key}", value)
            model.logger.dump(step)
        evaluation = PeriodicEvaluation(eval_env, eval_every, eval_episodes, eval_seed, self.normalization)
        episodes = _Episodes(steps, progress_bar)
        began = time.perf_counter()
        try:
            # One thread for torch and for BLAS (the simulator's CF products): on a busy 2-core machine
            # multi-threaded kernels spin instead of computing.
            with torch_threads(1), threadpool_limits(1):
                model.learn(steps, callback=CallbackList([RecMetricsCallback(), evaluation, episodes]))
                evaluation.run()  # the final model
        finally:
            episodes.close()
            model.logger.close()
        wall = time.perf_counter() - began
        return TrainingResult(
            num_timesteps=int(model.num_timesteps),
            episode_returns=np.asarray(episodes.returns),
            episode_lengths=np.asarray(episodes.lengths, dtype=np.int64),
            evaluations=evaluation.evaluations,
            wall_seconds=wall,
            steps_per_second=model.num_timesteps / max(wall - evaluation.seconds, 1e-9),
        )

    def save(self, run_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``agent.zip`` (and ``vecnormalize.pkl``) into ``run_dir``; existing files are never replaced."""
        from recgym.data.files import write_new_file

        run_dir = Path(run_dir)

        def write_model(temporary: str) -> None:
            buffer = io.BytesIO()  # SB3 would add ".zip" to a path without one; a buffer keeps the name ours
            self.model.save(buffer)
            Path(temporary).write_bytes(buffer.getvalue())

        written = {CHECKPOINT: write_new_file(run_dir / CHECKPOINT, write_model)}
        if self.normalization is not None:
            written[NORMALIZATION] = write_new_file(run_dir / NORMALIZATION, self.normalization.save)
        return written

    def close(self) -> None:
        """Close the training env."""
        self.env.close()
