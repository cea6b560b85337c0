"""A single ``gymnasium.Env`` seen as a vector env of one, for the batched training loop.

:func:`agents.training.train` and :func:`agents.training.evaluate` speak to vector envs only. A
one-env ``gymnasium.vector.SyncVectorEnv`` would do, but its generic machinery (iterating the
batched action, concatenating observations into a buffer, then deep-copying that buffer) costs
about a third of a recgym env step. :class:`BatchOfOne` returns the same values with the same
same-step autoreset contract (ended episode: ``info["final_obs"]`` and ``info["final_info"]``, the
returned observation is the new episode's first) and builds its infos with Gymnasium's own
``VectorEnv._add_info``, so code written for ``SyncVectorEnv(..., autoreset_mode=SAME_STEP)`` reads
them unchanged. Batching an info costs two small arrays per key (about 30 µs for a short-video
step) and the training loop reads a step's info only when an episode ends or a callback asks, so
the info is a :class:`LazyInfo` that batches itself on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space


def _batched(observation: Any) -> Any:
    """One observation as a batch of one: a fresh ``(1, ...)`` array, or one such array per key of a dict."""
    if isinstance(observation, dict):
        return {key: _batched(value) for key, value in observation.items()}
    return np.array(observation)[None]


_SCALARS = (int, float, bool, str, bytes, np.generic)


def _immutable(info: dict[str, Any]) -> bool:
    """Whether every value of a single-env info is an immutable scalar, which batching later reads the same."""
    return all(isinstance(value, _SCALARS) for value in info.values())


class LazyInfo(MutableMapping[str, Any]):
    """A vector info dict built on first use (any read, write or iteration) by ``build``; a plain dict after that.

    Parameters
    ----------
    build : callable
        Returns the info dict (``VectorEnv._add_info``'s output).
    """

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._data: dict[str, Any] = {}

    def _dict(self) -> dict[str, Any]:
        if self._build is not None:
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._dict()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return f"LazyInfo({self._dict()!r})"


class BatchOfOne(gym.vector.VectorEnv):
    """``env`` as a vector env with ``num_envs = 1`` and same-step autoreset.

    Parameters
    ----------
    env : gymnasium.Env
        The env to step; it is used as it is (not copied) and closed with this wrapper.

    Attributes
    ----------
    envs : tuple of gymnasium.Env
        ``(env,)``, as ``SyncVectorEnv.envs``, for code that reaches the sub-envs (the oracles).
    """

    def __init__(self, env: gym.Env) -> None:
        if not isinstance(env, gym.Env):
            raise ValueError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        self.env = env
        self.envs = (env,)
        self.num_envs = 1
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self.observation_space = batch_space(env.observation_space, 1)
        self.action_space = batch_space(env.action_space, 1)
        self.metadata = {**env.metadata, "autoreset_mode": AutoresetMode.SAME_STEP}
        self.spec = env.spec
        self.render_mode = env.render_mode

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env (a list of seeds must hold one seed); the observation and info batched."""
        if isinstance(seed, list | tuple):
            if len(seed) != 1:
                raise ValueError(f"seed must be an int, None or a list of one seed, got {seed!r}")
            seed = seed[0]
        observation, info = self.env.reset(seed=seed, options=options)
        return _batched(observation), self._add_info({}, info, 0)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, LazyInfo]:
        """Step with ``actions[0]``; an ended episode is reset within the step (its last observation in ``info["final_obs"]``).

        The returned info is a :class:`LazyInfo`: it holds what a one-env ``SyncVectorEnv`` returns,
        batched when first used.
        """
        action = {key: value[0] for key, value in actions.items()} if isinstance(actions, dict) else actions[0]
        observation, reward, terminated, truncated, info = self.env.step(action)
        parts = [info]
        if terminated or truncated:
            parts = [{"final_obs": observation, "final_info": info}]
            observation, reset_info = self.env.reset()
            parts.append(reset_info)

        def build() -> dict[str, Any]:
            infos: dict[str, Any] = {}
            for part in parts:
                infos = self._add_info(infos, part, 0)
            return infos

        lazy = LazyInfo(build)
        if not (_immutable(info) and (len(parts) == 1 or _immutable(parts[1]))):
            len(lazy)  # a value the env might change later (an array, a dict): batch it now, as SyncVectorEnv does
        return (
            _batched(observation),
            np.array([reward], dtype=np.float64),
            np.array([terminated], dtype=np.bool_),
            np.array([truncated], dtype=np.bool_),
            lazy,
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Close the wrapped env."""
        self.env.close()
