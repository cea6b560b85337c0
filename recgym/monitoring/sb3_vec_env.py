"""An SB3 ``VecEnv`` over a Gymnasium vector env, so that SB3 drives recgym's native vector envs in one batched call.

Stable-Baselines3 steps a :class:`~stable_baselines3.common.vec_env.VecEnv`: ``reset()`` returns
observations only, ``step`` returns ``(obs, rewards, dones, infos)`` with a list of one info dict
per env, and an env whose episode ended is reset **within** the step: the returned observation
is its new episode's first, its info holds ``terminal_observation`` (the last observation of the
ended episode) and ``TimeLimit.truncated`` (truncated and not terminated), and its reset info
goes to ``reset_infos``. :class:`RecGymVecEnv` gives a Gymnasium vector env that contract, so
PPO or A2C collect ``N`` users' steps in one call of the batched simulator instead of ``N``
single envs stepped one after the other in ``DummyVecEnv``.

With same-step autoreset (what :func:`make_sb3_vec_env` builds) the vector env resets ended envs
itself and reports their last step in ``info["final_obs"]`` / ``info["final_info"]``. With
``next_step`` or ``disabled`` autoreset the adapter resets ended envs right after the step, with
``reset(options={"reset_mask": dones})``. Both give the same trajectories: the simulator draws
the new episodes after the step's responses either way.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common import env_util
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from recgym._validation import check_int
from recgym.wrappers import DEFAULT_WINDOW, REC_METRICS_KEY, RecordRecMetricsVector, autoreset_mode
from recgym.wrappers.vector_infos import FINAL_KEYS

EPISODE_INFO_KEYS = ("episode", REC_METRICS_KEY)
"""Keys that episode-statistics wrappers (Gymnasium's ``RecordEpisodeStatistics``, recgym's
``RecordRecMetricsVector``) put at the top level of a vector info for the episode that ended.
With same-step autoreset the adapter keeps them with the ended episode's info, not its reset info."""


def _rows(infos: Mapping[str, Any], n: int, indices: list[int] | None = None) -> list[dict[str, Any]]:
    """A vector info dict as per-env dicts of Python values, for every env or the envs ``indices`` only.

    Keys whose ``_key`` flag is unset for an env are left out of its dict; nested dicts are read the
    same way. The dicts are filled key by key, one loop over a key's values (the cheapest way in
    Python); the keys of a step share a few flag arrays, whose set envs are found once each.
    """
    index = None if indices is None else np.asarray(indices, dtype=np.int64)
    m = n if indices is None else len(indices)
    rows: list[dict[str, Any]] = [{} for _ in range(m)]
    present_of: dict[bytes, list[int] | None] = {}
    for key, value in infos.items():
        if key.startswith("_") or key in FINAL_KEYS:
            continue
        flags = infos.get("_" + key)
        present = None  # every env has the key
        if flags is not None:
            flags = np.asarray(flags) if index is None else np.asarray(flags)[index]
            signature = flags.tobytes()
            if signature not in present_of:
                positions = np.flatnonzero(flags).tolist()
                present_of[signature] = None if len(positions) == m else positions
            present = present_of[signature]
            if present is not None and not present:
                continue
        if isinstance(value, np.ndarray):  # the common case first: an ABC check costs more
            values = (value if index is None else value[index]).tolist()
        elif isinstance(value, Mapping):
            values = _rows(value, n, indices)
        else:
            values = value if index is None else np.asarray(value)[index].tolist()
        if present is None:
            for row, item in zip(rows, values):  # noqa: B905 (one value per env; strict costs a check per item)
                row[key] = item
        else:
            for i in present:
                rows[i][key] = values[i]
    return rows


def _copy(observation: Any) -> Any:
    """A copy of one env's observation (arrays copied; NumPy scalars, which cannot change, kept)."""
    if isinstance(observation, Mapping):
        return {key: _copy(value) for key, value in observation.items()}
    return observation.copy() if isinstance(observation, np.ndarray) else observation


def _obs_row(observations: Any, i: int) -> Any:
    """Env ``i``'s observation of a batch (an array, or a dict of arrays for ``Dict`` spaces), copied."""
    if isinstance(observations, Mapping):
        return {key: _copy(value[i]) for key, value in observations.items()}
    return _copy(observations[i])


class RecGymVecEnv(VecEnv):
    """Stable-Baselines3 ``VecEnv`` adapter of a Gymnasium vector env (recgym's native vector envs above all).

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        The vector env, in any autoreset mode (``same_step`` saves a reset call per step), possibly
        wrapped (e.g. by :class:`~recgym.wrappers.RecordRecMetricsVector`).

    Notes
    -----
    Seeds: SB3's ``seed(s)`` asks for ``s + i`` in env ``i`` at the next reset; the adapter passes
    ``reset(seed=s)``, which a ``SyncVectorEnv`` turns into ``s + i`` per env and a recgym native
    vector env uses for its one shared world. ``seed(None)`` leaves the next reset unseeded (the
    env's own generator continues); it does not draw from NumPy's global generator.

    Attributes and methods: the ``N`` envs of a native vector env are slots of one world, not
    ``N`` objects. :meth:`get_attr` returns the vector env's attribute once per requested index,
    :meth:`env_method` calls the vector env's method **once** and returns its result once per
    index, :meth:`set_attr` sets it on the vector env and accepts only all indices, and
    :meth:`env_is_wrapped` tells whether the vector env's wrapper chain holds the class. Over a
    ``SyncVectorEnv`` they act on each sub-env as in SB3's ``DummyVecEnv``.
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        if not isinstance(env, gym.vector.VectorEnv):
            raise ValueError(f"env must be a gymnasium.vector.VectorEnv, got {type(env).__name__}")
        self.env = env
        self._mode = autoreset_mode(env)
        self._actions: np.ndarray | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    # ------------------------------------------------------------------------------------------ stepping
    def reset(self) -> VecEnvObs:
        """Reset every env with the seeds and options set by :meth:`seed` / ``set_options`` (used once)."""
        observations, infos = self.env.reset(seed=self._next_seed(), options=self._next_options())
        self.reset_infos = _rows(infos, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions of the next :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every env at once; ended envs are reset within the step (see the module docstring)."""
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        actions, self._actions = self._actions, None
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        dones = terminated | truncated
        rows = _rows(infos, self.num_envs)
        if dones.any():
            ended = np.flatnonzero(dones).tolist()
            if self._mode == AutoresetMode.SAME_STEP:
                last = _rows(infos["final_info"], self.num_envs, ended)
                for i, final in zip(ended, last, strict=True):
                    episode = {key: rows[i].pop(key) for key in EPISODE_INFO_KEYS if key in rows[i]}
                    self.reset_infos[i] = rows[i]
                    rows[i] = {**final, **episode, "terminal_observation": _copy(infos["final_obs"][i])}
            else:
                for i in ended:
                    rows[i]["terminal_observation"] = _obs_row(observations, i)
                observations, reset_infos = self.env.reset(options={"reset_mask": dones})
                for i, reset_info in zip(ended, _rows(reset_infos, self.num_envs, ended), strict=True):
                    self.reset_infos[i] = reset_info
        timeouts = (truncated & ~terminated).tolist()
        for row, timeout in zip(rows, timeouts, strict=True):
            row["TimeLimit.truncated"] = timeout
        return observations, np.asarray(rewards, dtype=np.float32), dones, rows

    def close(self) -> None:
        """Close the vector env."""
        self.env.close()

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeds of the next reset: ``seed + i`` for env ``i`` (see the class notes); None leaves it unseeded."""
        if seed is None:
            self._seeds = [None] * self.num_envs
        else:
            self._seeds = [int(seed) + i for i in range(self.num_envs)]
        return self._seeds

    def _next_seed(self) -> int | list[int] | None:
        seeds = self._seeds
        if all(seed is None for seed in seeds):
            return None
        first = seeds[0]
        if first is not None and list(seeds) == [first + i for i in range(self.num_envs)]:
            return first
        if self._sub_envs() is not None and all(seed is not None for seed in seeds):
            return list(seeds)  # type: ignore[arg-type]
        raise ValueError(f"the envs of a native vector env share one world: they take one seed s (s + i per env), got {seeds!r}")

    def _next_options(self) -> dict[str, Any] | None:
        options = self._options
        if any(option != options[0] for option in options):
            raise ValueError(f"every env must get the same reset options (one vector reset), got {options!r}")
        return dict(options[0]) if options[0] else None

    # ------------------------------------------------------------------------------------------ attributes
    def _sub_envs(self) -> list[gym.Env] | None:
        envs = getattr(self.env.unwrapped, "envs", None)
        return list(envs) if envs else None

    def _vector_chain(self) -> list[Any]:
        chain, env = [], self.env
        while True:
            chain.append(env)
            if not isinstance(env, gym.vector.VectorWrapper):
                return chain
            env = env.env

    def _vector_attr(self, name: str) -> Any:
        for env in self._vector_chain():
            if name in vars(env) or hasattr(type(env), name):
                return getattr(env, name)
        raise AttributeError(f"the vector env has no attribute {name!r}")

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each requested env (see the class notes for a native vector env)."""
        envs = self._sub_envs()
        indices = list(self._get_indices(indices))
        if envs is not None:
            return [envs[i].get_wrapper_attr(attr_name) for i in indices]
        value = self._vector_attr(attr_name)
        return [value for _ in indices]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute in each requested env (a native vector env: on the vector env, all indices only)."""
        envs = self._sub_envs()
        indices = list(self._get_indices(indices))
        if envs is not None:
            for i in indices:
                setattr(envs[i], attr_name, value)
            return
        if sorted(indices) != list(range(self.num_envs)):
            raise ValueError(f"the envs of a native vector env share one world: set_attr needs every index, got {indices!r}")
        for env in self._vector_chain():
            if attr_name in vars(env) or hasattr(type(env), attr_name):
                setattr(env, attr_name, value)
                return
        setattr(self.env.unwrapped, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        """Call the method in each requested env (a native vector env: once, its result repeated per index)."""
        envs = self._sub_envs()
        indices = list(self._get_indices(indices))
        if envs is not None:
            return [envs[i].get_wrapper_attr(method_name)(*method_args, **method_kwargs) for i in indices]
        result = self._vector_attr(method_name)(*method_args, **method_kwargs)
        return [result for _ in indices]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        """Whether each requested env is wrapped in ``wrapper_class`` (a vector wrapper counts for every env)."""
        indices = list(self._get_indices(indices))
        in_chain = any(isinstance(env, wrapper_class) for env in self._vector_chain())
        envs = self._sub_envs()
        if envs is not None:
            return [in_chain or env_util.is_wrapped(envs[i], wrapper_class) for i in indices]
        return [in_chain for _ in indices]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """A list of None, with a warning as in ``DummyVecEnv``: recgym envs render text, not images."""
        warnings.warn("recgym envs render text (render_mode='ansi'), not rgb_array images", stacklevel=2)
        return [None for _ in range(self.num_envs)]

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        chosen = list(super()._get_indices(indices))
        for i in chosen:
            if not 0 <= i < self.num_envs:
                raise ValueError(f"indices must lie in [0, {self.num_envs}), got {i!r}")
        return chosen


def make_vector_env(env_id: str, n_envs: int, **env_kwargs: Any) -> gym.vector.VectorEnv:
    """``n_envs`` envs of ``env_id`` with same-step autoreset: the id's native vector env, or a ``SyncVectorEnv``."""
    n_envs = check_int("n_envs", n_envs, minimum=1)
    spec = gym.spec(env_id)
    if spec.vector_entry_point is not None:
        return gym.make_vec(env_id, n_envs, vectorization_mode="vector_entry_point",
                            autoreset_mode=AutoresetMode.SAME_STEP, **env_kwargs)  # fmt: skip
    return gym.make_vec(env_id, n_envs, vectorization_mode="sync", vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                        **env_kwargs)  # fmt: skip


def make_sb3_vec_env(
    env_id: str,
    n_envs: int = 16,
    *,
    seed: int | None = None,
    record_metrics: bool = True,
    monitor: bool = True,
    window: int = DEFAULT_WINDOW,
    **env_kwargs: Any,
) -> VecEnv:
    """An SB3 ``VecEnv`` of ``n_envs`` envs of ``env_id`` in one batched simulator: what to pass to ``PPO(..., env)``.

    Parameters
    ----------
    env_id : str
        A registered id (recgym's have native vector envs; others get a ``SyncVectorEnv``).
    n_envs : int
        Concurrent episodes (for the short-video ids at most ``n_users``: a user has one session at a time).
    seed : int, optional
        Seed of the first reset (the world of a recgym id; ``seed + i`` per env of a ``SyncVectorEnv``).
    record_metrics : bool
        Wrap in :class:`~recgym.wrappers.RecordRecMetricsVector`, so that ended episodes' infos hold
        ``rec_metrics`` for :class:`~recgym.monitoring.RecMetricsCallback`.
    monitor : bool
        Wrap the result in SB3's ``VecMonitor`` (episode returns and lengths for SB3's ``rollout/ep_rew_mean``).
    window : int
        Impressions of the coverage and creator-Gini metrics (see :class:`~recgym.wrappers.RecordRecMetricsVector`).
    **env_kwargs
        The env's keyword arguments.

    Returns
    -------
    stable_baselines3.common.vec_env.VecEnv

    Examples
    --------
    >>> from stable_baselines3 import PPO
    >>> env = make_sb3_vec_env("RecGym-ShortVideo-v0", 16, seed=0, n_users=50)
    >>> model = PPO("MlpPolicy", env, n_steps=32, seed=0).learn(1_024)  # doctest: +SKIP
    """
    vector = make_vector_env(env_id, n_envs, **env_kwargs)
    if record_metrics:
        vector = RecordRecMetricsVector(vector, window=window)
    adapter: VecEnv = RecGymVecEnv(vector)
    if monitor:
        adapter = VecMonitor(adapter)
    if seed is not None:
        adapter.seed(check_int("seed", seed, minimum=0))
    return adapter
