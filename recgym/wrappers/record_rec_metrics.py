"""``RecordRecMetrics``: a single env's episode recommender metrics in the final step's ``info``."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from recgym.wrappers.episode_metrics import DEFAULT_WINDOW, REC_METRICS_KEY, recorder_for

_SLOT = np.zeros(1, dtype=np.int64)


class RecordRecMetrics(gym.Wrapper):
    """Put an episode's recommender metrics in the ``info`` of its last step, like Gymnasium's ``RecordEpisodeStatistics``.

    When an episode terminates or is truncated, ``info["rec_metrics"]`` is a dict of floats:
    ``return``, ``length``, and where the env reports what they need, ``watch_seconds``,
    ``watch_rate``, ``like_rate``, ``skip_rate``, ``end_rate``, ``category_coverage``,
    ``diversity``, ``regret``, ``cumulative_regret``, ``zero_regret_rate``,
    ``catalogue_coverage`` and ``creator_gini`` (definitions in
    :mod:`recgym.wrappers.episode_metrics`). The last ``buffer_length`` episodes' dicts are kept
    in :attr:`metrics_queue`.

    Parameters
    ----------
    env : gymnasium.Env
        A recgym env (any env whose infos carry some of ``outcome``, ``watch_seconds``,
        ``category``, ``creator``, ``video``/``item``, ``regret``).
    window : int
        Impressions over which ``catalogue_coverage`` and ``creator_gini`` are taken.
    buffer_length : int
        Episodes kept in :attr:`metrics_queue`.
    catalogue_size, categories, n_creators : optional
        The world's sizes; read from a recgym env's config when omitted
        (:func:`~recgym.wrappers.env_facts.catalogue_facts`).
    info_key : str
        The ``info`` key of the metrics.

    Examples
    --------
    >>> import gymnasium as gym, recgym
    >>> env = RecordRecMetrics(gym.make("RecGym-ShortVideo-v0", n_users=30, n_videos=200))
    >>> _ = env.reset(seed=0)
    >>> done = False
    >>> while not done:
    ...     _, _, terminated, truncated, info = env.step(0)
    ...     done = terminated or truncated
    >>> sorted(info["rec_metrics"])[:4]
    ['catalogue_coverage', 'category_coverage', 'creator_gini', 'diversity']
    """

    def __init__(
        self,
        env: gym.Env,
        *,
        window: int = DEFAULT_WINDOW,
        buffer_length: int = 100,
        catalogue_size: int | None = None,
        categories: Sequence[str] | None = None,
        n_creators: int | None = None,
        info_key: str = REC_METRICS_KEY,
    ) -> None:
        super().__init__(env)
        self.recorder = recorder_for(env, 1, window=window, buffer_length=buffer_length, info_key=info_key,
                                     catalogue_size=catalogue_size, categories=categories, n_creators=n_creators)  # fmt: skip
        self.info_key = info_key
        self.metrics_queue: deque[dict[str, float]] = deque(maxlen=buffer_length)
        """The metrics of the last ``buffer_length`` episodes, oldest first."""
        self.episode_count = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env and start the new episode's sums."""
        obs, info = super().reset(seed=seed, options=options)
        self.recorder.start(slice(None))
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env, add the step to the episode's sums, and report the metrics if the episode ended."""
        obs, reward, terminated, truncated, info = super().step(action)
        self.recorder.add_one(0, float(reward), info)
        if terminated or truncated:
            metrics = {key: float(value[0]) for key, value in self.recorder.finish(_SLOT).items()}
            self.metrics_queue.append(metrics)
            self.episode_count += 1
            info = {**info, self.info_key: metrics}
        return obs, reward, terminated, truncated, info
