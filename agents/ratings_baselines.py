"""Reference policies for the rating envs: uniformly random actions and the population's best item.

- :class:`RandomActionPolicy` draws each action uniformly from the env's action space: a uniform
  item for ``RecGym-Ratings-v0``, a uniform point of the ``Box`` for
  ``RecGym-RatingsEmbedding-v0`` (the env recommends the item nearest to it). The latter is
  what :class:`~agents.ddpg.DDPG` plays during its warm-up and what
  :meth:`~agents.ddpg.DDPGConfig.ratings_preset`'s regret figure is measured against.
- :class:`PopulationBestPolicy` recommends, to everybody, the one item with the highest mean
  rating for the average user (SPEC §2's reference point, regret ≈ 0.19 on seed 000's world),
  chosen once per world from the ground truth. Like the oracles of :mod:`agents.oracle` it reads
  the simulator through the evaluation back door: for **evaluation only**.

Both take a batch of observations and return one action per row, so they plug into
:func:`agents.training.evaluate`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.base import Observations


def _rows(observations: Observations) -> int:
    if isinstance(observations, dict):
        return len(next(iter(observations.values())))
    return len(observations)


def _single_action_space(env: gym.Env | gym.vector.VectorEnv) -> spaces.Space:
    return env.single_action_space if isinstance(env, gym.vector.VectorEnv) else env.action_space


class RandomActionPolicy:
    """Draw every action uniformly from the action space (``Discrete`` or bounded ``Box``).

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        The env whose (single) action space is sampled.
    seed : int, optional
        Seed of the policy's own generator.

    Examples
    --------
    >>> import gymnasium as gym, recgym
    >>> env = gym.make_vec("RecGym-RatingsEmbedding-v0", num_envs=4, vectorization_mode="vector_entry_point", n_users=10)
    >>> RandomActionPolicy(env, seed=0).act(env.reset(seed=0)[0]).shape
    (4, 16)
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv, seed: int | None = None) -> None:
        space = _single_action_space(env)
        if isinstance(space, spaces.Box):
            if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
                raise ValueError(f"a uniformly random action needs finite Box bounds, got {space}")
        elif not isinstance(space, spaces.Discrete):
            raise ValueError(f"RandomActionPolicy supports Discrete and Box action spaces, got {space}")
        self.action_space = space
        self.rng = np.random.default_rng(seed)

    def act(self, observations: Observations) -> np.ndarray:
        """One uniformly random action per observation: ``(n,)`` int64 items or ``(n, dim)`` Box points."""
        n, space = _rows(observations), self.action_space
        if isinstance(space, spaces.Discrete):
            return self.rng.integers(int(space.start), int(space.start) + int(space.n), size=n)
        return self.rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)

    __call__ = act


class PopulationBestPolicy:
    """Recommend to everybody the item with the highest mean rating for the average user (ground truth).

    The item is ``argmax_i Q_i · mean_u(P_u)`` over the world's hidden attributes, chosen at the
    first action in each new world (a seeded reset draws a new one) and kept: with catalogue
    churn it goes stale once its item is retired, as in ``examples/ratings_reference_points.py``.
    On ``RecGym-RatingsEmbedding-v0`` the action is that item's public embedding.

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        A ``RecGym-Ratings-v0`` / ``RecGym-RatingsEmbedding-v0`` env (single, native vector or
        ``SyncVectorEnv``); pass the very env the policy acts in.
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        subs = getattr(env, "envs", None)
        self.envs: list[Any] = [sub.unwrapped for sub in subs] if subs is not None else [env.unwrapped]
        for sub in self.envs:
            if getattr(sub, "action_kind", None) not in ("item", "embedding") or not hasattr(sub, "simulator"):
                raise ValueError(f"env must be a recgym ratings env (with a simulator and an action_kind), got {sub!r}")
        self._chosen: list[tuple[Any, int] | None] = [None] * len(self.envs)

    def item(self, index: int = 0) -> int:
        """The item chosen for the current world of sub-env ``index``."""
        simulator = self.envs[index].simulator
        if simulator is None:
            raise RuntimeError("the env has no world yet: reset it before acting")
        chosen = self._chosen[index]
        if chosen is None or chosen[0] is not simulator:
            means = simulator.item_attributes @ simulator.user_attributes.mean(axis=0)
            chosen = (simulator, int(np.argmax(means)))
            self._chosen[index] = chosen
        return chosen[1]

    def act(self, observations: Observations | None = None) -> np.ndarray:
        """``(n_envs,)`` items or ``(n_envs, embedding_dim)`` embeddings, the same for every env (observations unused)."""
        rows = []
        for index, sub in enumerate(self.envs):
            item = self.item(index)
            n = int(getattr(sub, "num_envs", 1))
            if sub.action_kind == "item":
                rows.append(np.full(n, item, dtype=np.int64))
            else:
                rows.append(np.repeat(np.asarray(sub.simulator.embeddings[item])[None], n, axis=0))
        return np.concatenate(rows, axis=0)

    __call__ = act
