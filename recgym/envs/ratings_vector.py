"""Native vector envs for the rating ids: ``num_envs`` requests served in one batched call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from gymnasium.vector import AutoresetMode

from recgym.data.tables import save_frame
from recgym.envs.batched_vector import BatchedVectorEnv
from recgym.envs.ratings_core import RatingsCore
from recgym.simulators.ratings.simulator import RatingsSimulator


class RatingsVectorEnv(BatchedVectorEnv):
    """The next ``num_envs`` requests of the rating world's stream, served together.

    Each step serves one request per env, in env order, from the same stream a single env walks
    one request at a time. With ``num_envs = n_users`` (and every env stepping) one step is
    exactly one period of seed 000: every user requests once, and the result equals ``n_users``
    single-env steps from the same seed and actions. With fewer envs a step may span the end of a
    period: the next period (its arrivals, drift and order) is drawn when its first request is
    handed out, and a user can then appear twice in one step; the second request's observation
    was formed before the first was served. ``num_envs`` must not exceed ``n_users``.

    Autoreset is Gymnasium's (see :class:`~recgym.envs.batched_vector.BatchedVectorEnv`); an env
    that resets keeps its pending request, so no request is lost or drawn twice.

    Parameters
    ----------
    num_envs : int
    observation_mode : {"box", "dict"}
    autoreset_mode : {"next_step", "same_step"} or AutoresetMode
    **kwargs
        Any keyword argument of :class:`~recgym.envs.ratings.RatingsEnv`.
    """

    action_kind: ClassVar[str] = "item"

    def __init__(
        self,
        num_envs: int = 1,
        observation_mode: str = "box",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        num_envs = self.checked_num_envs(num_envs, render_mode)
        super().__init__(RatingsCore(num_envs, self.action_kind, observation_mode, kwargs), num_envs, autoreset_mode)

    @property
    def core(self) -> RatingsCore:
        """The batched engine (simulator, pending requests, observations)."""
        return self._core

    @property
    def simulator(self) -> RatingsSimulator | None:
        """The world's ground truth, for evaluation and oracles only (never part of the observation)."""
        return self._core.simulator

    @property
    def pending_users(self) -> np.ndarray:
        """The users whose requests the next step serves, one per env."""
        return self._core.pending_users(self._slots)

    def oracle_actions(self) -> np.ndarray:
        """The ground-truth best action for each env's pending request (evaluation back door)."""
        return self._core.oracle_actions(self._slots)

    def interaction_log(self) -> pd.DataFrame:
        """Every rating so far (history first), shared by all envs."""
        return self._core.interaction_log()

    def save_interaction_log(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                             format: str | None = None) -> Path:
        """Save :meth:`interaction_log` to Parquet or CSV; an existing file is kept unless ``overwrite``."""
        return save_frame(self.interaction_log(), path, overwrite=overwrite, format=format)


class RatingsEmbeddingVectorEnv(RatingsVectorEnv):
    """The vector form of :class:`~recgym.envs.ratings.RatingsEmbeddingEnv` (actions are embedding vectors)."""

    action_kind: ClassVar[str] = "embedding"
