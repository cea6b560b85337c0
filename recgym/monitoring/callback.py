"""``RecMetricsCallback``: recommender metrics of finished episodes in SB3's logger, next to ``rollout/ep_rew_mean``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from recgym.wrappers import REC_METRICS_KEY, RecordRecMetrics, RecordRecMetricsVector


class RecMetricsCallback(BaseCallback):
    """Log each ``info["rec_metrics"]`` metric, averaged over the last episodes, through ``self.logger.record``.

    SB3 writes what its logger records to every output it was configured with, TensorBoard
    included (``tensorboard_log=...``), at its own dump points. Each metric of
    :mod:`recgym.wrappers.episode_metrics` appears as ``rec/<metric>`` (``rec/watch_rate``,
    ``rec/diversity``, ``rec/creator_gini``, ``rec/regret`` …): the mean over the last
    ``stats_window_size`` finished episodes that reported it, the window SB3 uses for
    ``rollout/ep_rew_mean`` (100 by default). NaN values (``diversity`` of a one-step episode) are
    left out of the means.

    The episodes' metrics come from the env: wrap single envs in
    :class:`~recgym.wrappers.RecordRecMetrics`, or build a vector env with
    :func:`~recgym.monitoring.make_sb3_vec_env` (which wraps it in
    :class:`~recgym.wrappers.RecordRecMetricsVector`).

    Parameters
    ----------
    prefix : str
        Namespace of the logged keys.
    stats_window_size : int, optional
        Episodes averaged; default: the model's ``stats_window_size``.
    info_key : str
        The ``info`` key holding an episode's metrics.
    require_metrics : bool
        Raise ``ValueError`` at the start of training if the training env is not wrapped in
        either metrics wrapper (set False if the metrics come from elsewhere).
    verbose : int
        SB3's verbosity.

    Examples
    --------
    >>> import gymnasium as gym, recgym
    >>> from stable_baselines3 import DQN
    >>> from recgym.wrappers import RecordRecMetrics
    >>> env = RecordRecMetrics(gym.make("RecGym-ShortVideo-v0"))
    >>> model = DQN("MlpPolicy", env, tensorboard_log="runs/sb3", seed=0)  # doctest: +SKIP
    >>> model.learn(10_000, callback=RecMetricsCallback())  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        prefix: str = "rec",
        stats_window_size: int | None = None,
        info_key: str = REC_METRICS_KEY,
        require_metrics: bool = True,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if not isinstance(prefix, str) or not prefix or "/" in prefix:
            raise ValueError(f"prefix must be a non-empty name without '/', got {prefix!r}")
        if stats_window_size is not None and (
            isinstance(stats_window_size, bool) or not isinstance(stats_window_size, int) or stats_window_size < 1
        ):
            raise ValueError(f"stats_window_size must be a positive integer or None, got {stats_window_size!r}")
        self.prefix = prefix
        self.stats_window_size = stats_window_size
        self.info_key = info_key
        self.require_metrics = bool(require_metrics)
        self.episodes = 0
        """Episodes whose metrics were received so far."""
        self._columns: dict[str, int] = {}
        self._window = np.full((1, 0), np.nan)

    def _init_callback(self) -> None:
        size = self.stats_window_size or int(getattr(self.model, "_stats_window_size", 100))
        self._window = np.full((size, len(self._columns)), np.nan)
        self.episodes = 0
        if self.require_metrics and not self._env_records_metrics():
            raise ValueError(
                "RecMetricsCallback needs the episodes' metrics in info['rec_metrics']: wrap single envs in "
                "recgym.wrappers.RecordRecMetrics, or build the vector env with recgym.monitoring.make_sb3_vec_env "
                "(or pass require_metrics=False)"
            )

    def _env_records_metrics(self) -> bool:
        env = self.training_env
        for wrapper in (RecordRecMetrics, RecordRecMetricsVector):
            try:
                if any(env.env_is_wrapped(wrapper)):
                    return True
            except (AttributeError, NotImplementedError):
                continue
        return False

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals.get("infos", [])
        dones = self.locals.get("dones")
        received = False
        for i, info in enumerate(infos):
            metrics = info.get(self.info_key)
            if metrics is None or (dones is not None and not dones[i]):
                continue
            self._add(metrics)
            received = True
        if received:
            self._record()
        return True

    def _add(self, metrics: dict[str, float]) -> None:
        for key in metrics:
            if key not in self._columns:
                self._columns[key] = len(self._columns)
                self._window = np.hstack([self._window, np.full((len(self._window), 1), np.nan)])
        row = self.episodes % len(self._window)
        self._window[row] = np.nan
        for key, value in metrics.items():
            self._window[row, self._columns[key]] = float(value)
        self.episodes += 1

    def means(self) -> dict[str, float]:
        """Each metric's mean over the window (metrics with no finite value in it are left out)."""
        filled = self._window[: min(self.episodes, len(self._window))]
        finite = np.isfinite(filled)
        counts = finite.sum(axis=0)
        sums = np.where(finite, filled, 0.0).sum(axis=0)
        return {key: float(sums[column] / counts[column]) for key, column in self._columns.items() if counts[column]}

    def _record(self) -> None:
        for key, value in self.means().items():
            if math.isfinite(value):
                self.logger.record(f"{self.prefix}/{key}", value)
