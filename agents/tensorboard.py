"""TensorBoard monitoring for :func:`agents.training.train`, through ``torch.utils.tensorboard``.

Scalars written (step axis: the agent's env steps), averaged over each ``log_every`` window:

============================  ==========================================================================
tag                           value
============================  ==========================================================================
``rollout/episode_return``    mean undiscounted return of the episodes that ended in the window
``rollout/episode_length``    their mean length
``rollout/epsilon``           the agent's exploration parameters (``agent.exploration()``, one tag each)
``rollout/watch_seconds``     mean ``info["watch_seconds"]`` per step (short-video envs)
``rollout/watch_rate`` …      share of steps with ``info["outcome"]`` watched / liked / skipped /
                              session_end (``watch_rate``, ``like_rate``, ``skip_rate``, ``end_rate``)
``rollout/coverage``          distinct items shown since the start / catalogue size (``distinct_items``
                              is written too, and alone when the catalogue size is unknown)
``rollout/regret``            mean ``info["regret"]`` per step (ratings envs)
``train/loss``, ``train/*``   means of the metrics the agent's ``update()`` returned (DQN: ``loss``,
                              ``q_mean``, ``grad_norm``, ``gradient_steps``)
``eval/*``                    each periodic evaluation: ``mean_return``, ``std_return``, ``stderr``,
                              ``mean_length`` and the evaluation's info metrics
``time/steps_per_second``     training throughput, at the end
============================  ==========================================================================

Each :class:`TensorBoardCallback` opens one ``SummaryWriter``, which writes a new event file with
a unique name (time, host, process, counter): files already in ``logdir`` are never touched.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.tensorboard import SummaryWriter

from agents.training import (
    Callback,
    EpisodeRecord,
    EvalResult,
    InfoMetrics,
    StepRecord,
    TrainingResult,
    TrainingRun,
    catalogue_size,
)


class TensorBoardCallback(Callback):
    """Write training scalars to TensorBoard event files in ``logdir``.

    Parameters
    ----------
    logdir : str or os.PathLike
        Directory of the event files (created if missing).
    log_every : int
        Env steps between two written points of the ``rollout/`` and ``train/`` scalars.
    catalogue_size : int, optional
        Items the env can show, for ``rollout/coverage``; read from a recgym env's config when omitted.
    flush_secs : int
        How often the writer flushes to disk.

    Examples
    --------
    >>> from agents.training import train  # doctest: +SKIP
    >>> train(agent, env, 50_000, callbacks=[TensorBoardCallback("runs/dqn-0")])  # doctest: +SKIP
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        log_every: int = 1_000,
        catalogue_size: int | None = None,
        flush_secs: int = 30,
    ) -> None:
        if isinstance(log_every, bool) or not isinstance(log_every, int | np.integer) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
        if catalogue_size is not None and (not isinstance(catalogue_size, int | np.integer) or catalogue_size < 1):
            raise ValueError(f"catalogue_size must be a positive integer or None, got {catalogue_size!r}")
        self.logdir = Path(logdir)
        self.log_every = int(log_every)
        self._catalogue_size = catalogue_size
        self.writer = SummaryWriter(log_dir=str(self.logdir), flush_secs=flush_secs)
        self._agent: Any = None
        self._metrics = InfoMetrics(catalogue_size)
        self._returns: list[float] = []
        self._lengths: list[int] = []
        self._updates: dict[str, list[float]] = defaultdict(list)
        self._next_log = self.log_every
        self._last_step = 0

    def on_start(self, run: TrainingRun) -> None:
        """Remember the agent, find the catalogue size, write the agent's config as text."""
        self._agent = run.agent
        self._metrics = InfoMetrics(self._catalogue_size or catalogue_size(run.env))
        self._last_step = run.agent.num_timesteps
        self._next_log = self._last_step + self.log_every
        config = getattr(run.agent, "config", None)
        if config is not None:
            self.writer.add_text("agent/config", f"`{config!r}`", self._last_step)

    def on_episode_end(self, episode: EpisodeRecord) -> None:
        """Collect the episode's return and length."""
        self._returns.append(episode.episode_return)
        self._lengths.append(episode.length)

    def on_step(self, step: StepRecord) -> None:
        """Collect the step's info metrics; write a point every ``log_every`` env steps."""
        self._metrics.add(step.infos, step.valid)
        self._last_step = step.num_timesteps
        if step.num_timesteps >= self._next_log:
            self._write(step.num_timesteps)
            while self._next_log <= step.num_timesteps:
                self._next_log += self.log_every

    def on_update(self, metrics: Mapping[str, float], num_timesteps: int) -> None:
        """Collect the agent's update metrics."""
        for key, value in metrics.items():
            self._updates[key].append(float(value))

    def on_eval(self, result: EvalResult, num_timesteps: int) -> None:
        """Write the evaluation's scalars under ``eval/``."""
        for key, value in result.as_dict().items():
            if np.isfinite(value):
                self.writer.add_scalar(f"eval/{key}", value, num_timesteps)

    def on_end(self, result: TrainingResult) -> None:
        """Write what is left of the last window and the throughput, then close the writer."""
        self._write(self._last_step)
        self.writer.add_scalar("time/steps_per_second", result.steps_per_second, self._last_step)
        self.close()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.flush()
        self.writer.close()

    def _write(self, step: int) -> None:
        scalar = self.writer.add_scalar
        if self._returns:
            scalar("rollout/episode_return", float(np.mean(self._returns)), step)
            scalar("rollout/episode_length", float(np.mean(self._lengths)), step)
        for key, value in self._metrics.summary().items():
            scalar(f"rollout/{key}", value, step)
        for key, values in self._updates.items():
            scalar(f"train/{key}", float(np.mean(values)), step)
        if self._agent is not None:
            for key, value in self._agent.exploration().items():
                scalar(f"rollout/{key}", float(value), step)
        self._returns.clear()
        self._lengths.clear()
        self._updates.clear()
        self._metrics.clear()
