"""Baseline policies for the short-video envs: random, greedy by business score, and category rotation.

They read observations only through the env's declared layout (``env.unwrapped.observation_layout``),
so they work with ``Box`` and ``Dict`` observations, single or batched.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from recgym.envs.observation import ObservationLayout


def _layout_of(env: gym.Env | gym.vector.VectorEnv) -> ObservationLayout:
    layout = getattr(env.unwrapped, "observation_layout", None)
    if layout is None:
        raise ValueError(f"env must declare an observation_layout (a recgym env), got {env!r}")
    return layout


class _LayoutPolicy:
    """Shared parsing: turns a single or batched observation into named ``(n, ...)`` fields."""

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        self.layout = _layout_of(env)

    def _fields(self, observation: Any) -> tuple[dict[str, np.ndarray], bool]:
        if isinstance(observation, dict):
            single = np.ndim(observation["candidate_score"]) == 1
            batch = {k: np.asarray(v)[None] if single else np.asarray(v) for k, v in observation.items()}
            return batch, single
        rows = np.asarray(observation)
        single = rows.ndim == 1
        return self.layout.unflatten(rows[None] if single else rows), single

    def act(self, observation: Any) -> Any:
        """Return the action (an ``int``) for one observation, or an int64 array for a batch."""
        fields, single = self._fields(observation)
        actions = self._act_batch(fields)
        return int(actions[0]) if single else actions

    __call__ = act

    def _act_batch(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class RandomPolicy(_LayoutPolicy):
    """Show a uniformly random candidate.

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        A recgym short-video env.
    seed : int, optional
        Seed of the policy's own generator.
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv, seed: int | None = None) -> None:
        super().__init__(env)
        self.rng = np.random.default_rng(seed)

    def _act_batch(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        n, r = fields["candidate_score"].shape
        return self.rng.integers(0, r, size=n)


class GreedyBusinessPolicy(_LayoutPolicy):
    """Show the candidate with the highest business score (the platform's own ranking)."""

    def _act_batch(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        return np.argmax(fields["candidate_score"], axis=1)


class CategoryRotationPolicy(_LayoutPolicy):
    """Show the best-scored candidate whose category differs from the last video's (greedy if none does).

    A simple non-greedy policy: it gives up some immediate score to avoid repeating a category,
    which pays off when users tire of repeats (``RecGym-ShortVideoFatigue-v0``).
    """

    def _act_batch(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        score = fields["candidate_score"].astype(np.float64)
        repeats = fields["candidate_category"] == fields["last_category"][:, None]
        allowed = np.where(repeats.all(axis=1, keepdims=True), score, np.where(repeats, -np.inf, score))
        return np.argmax(allowed, axis=1)
