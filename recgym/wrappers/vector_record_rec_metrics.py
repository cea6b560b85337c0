"""``RecordRecMetricsVector``: each ended episode's recommender metrics in a vector env's ``info``."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from recgym.wrappers.episode_metrics import DEFAULT_WINDOW, INFO_KEYS, REC_METRICS_KEY, recorder_for
from recgym.wrappers.vector_infos import transition_infos


def autoreset_mode(env: VectorEnv) -> AutoresetMode:
    """The env's ``metadata["autoreset_mode"]`` as an ``AutoresetMode`` (``NEXT_STEP`` when it declares none)."""
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    return AutoresetMode(mode) if isinstance(mode, str) else mode


class RecordRecMetricsVector(VectorWrapper):
    """The vector counterpart of :class:`~recgym.wrappers.RecordRecMetrics`, for every autoreset mode.

    On a step where envs' episodes end, ``info["rec_metrics"]`` is a dict with one float64
    array of ``num_envs`` values per metric (NaN for the other envs) and ``info["_rec_metrics"]``
    flags the envs whose episode ended, as Gymnasium's vector ``RecordEpisodeStatistics`` reports
    ``info["episode"]``. The metrics are those of :mod:`recgym.wrappers.episode_metrics`;
    ``catalogue_coverage`` and ``creator_gini`` are taken over the last ``window`` impressions of
    all envs together.

    Autoreset: with ``next_step`` the reset step is not part of any episode; with ``same_step`` an
    ended env's last step is read from ``info["final_info"]`` and its new episode starts at once;
    with ``disabled`` (and after a ``reset`` with ``options["reset_mask"]`` in any mode) the masked
    envs start new episodes on ``reset``.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        A recgym vector env (native or ``SyncVectorEnv``), or any vector env whose infos carry the keys.
    window, buffer_length, catalogue_size, categories, n_creators, info_key
        As for :class:`~recgym.wrappers.RecordRecMetrics`.

    Examples
    --------
    >>> import gymnasium as gym, recgym
    >>> env = RecordRecMetricsVector(gym.make_vec("RecGym-ShortVideo-v0", num_envs=4,
    ...                              vectorization_mode="vector_entry_point", n_users=30, n_videos=200))
    >>> _ = env.reset(seed=0)
    >>> while len(env.metrics_queue) == 0:
    ...     _, _, _, _, info = env.step(np.zeros(4, dtype=np.int64))
    >>> bool(info["_rec_metrics"].any()), "watch_rate" in info["rec_metrics"]
    (True, True)
    """

    def __init__(
        self,
        env: VectorEnv,
        *,
        window: int = DEFAULT_WINDOW,
        buffer_length: int = 100,
        catalogue_size: int | None = None,
        categories: Sequence[str] | None = None,
        n_creators: int | None = None,
        info_key: str = REC_METRICS_KEY,
    ) -> None:
        super().__init__(env)
        self.recorder = recorder_for(env, self.num_envs, window=window, buffer_length=buffer_length, info_key=info_key,
                                     catalogue_size=catalogue_size, categories=categories, n_creators=n_creators)  # fmt: skip
        self.info_key = info_key
        self.metrics_queue: deque[dict[str, float]] = deque(maxlen=buffer_length)
        """The metrics of the last ``buffer_length`` episodes (of any env), oldest first."""
        self.episode_count = 0
        self._mode = autoreset_mode(env)
        self._slots = np.arange(self.num_envs)
        self._resetting = np.zeros(self.num_envs, dtype=bool)  # next_step: envs whose next step is a reset

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env (all envs, or those of ``options["reset_mask"]``) and start their episodes' sums."""
        mask = None if options is None else options.get("reset_mask")  # read first: SyncVectorEnv pops it
        obs, infos = self.env.reset(seed=seed, options=options)
        started = self._slots if mask is None else self._slots[np.asarray(mask, dtype=bool)]
        self.recorder.start(started)
        self._resetting[started] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step the env, add the transitions to their episodes, and report the episodes that ended."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        done = np.logical_or(terminated, truncated)
        if self._mode == AutoresetMode.NEXT_STEP:
            valid = ~self._resetting
            if self._resetting.any():
                self.recorder.start(self._slots[self._resetting])
            done &= valid
            step_infos = infos
        else:
            valid = np.ones(self.num_envs, dtype=bool)
            step_infos = transition_infos(infos, done, INFO_KEYS) if self._mode == AutoresetMode.SAME_STEP else infos
        self.recorder.add(valid, np.asarray(rewards, dtype=np.float64), step_infos)
        if done.any():
            ended = self._slots[done]
            metrics = self.recorder.finish(ended)
            full = {}
            for key, values in metrics.items():
                full[key] = np.full(self.num_envs, np.nan)
                full[key][ended] = values
            infos = {**infos, self.info_key: full, f"_{self.info_key}": done.copy()}
            for row in range(len(ended)):
                self.metrics_queue.append({key: float(values[row]) for key, values in metrics.items()})
            self.episode_count += len(ended)
            if self._mode == AutoresetMode.SAME_STEP:
                self.recorder.start(ended)
        self._resetting = done if self._mode == AutoresetMode.NEXT_STEP else np.zeros(self.num_envs, dtype=bool)
        return obs, rewards, terminated, truncated, infos
