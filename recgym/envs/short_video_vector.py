"""Native vector env for the short-video ids: ``num_envs`` concurrent sessions in one batched call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from gymnasium.vector import AutoresetMode

from recgym.data.interaction_log import save_interaction_log
from recgym.envs.batched_vector import BatchedVectorEnv
from recgym.envs.short_video_core import ShortVideoCore


class ShortVideoVectorEnv(BatchedVectorEnv):
    """``num_envs`` sessions of different users of one shared world, stepped together.

    All sessions share the population, the catalogue, the log and the CF state, as concurrent
    users of one platform do; a user is never in two sessions at once, so ``num_envs`` must not
    exceed ``n_users``. Keyword arguments are those of :class:`~recgym.envs.short_video.ShortVideoEnv`.

    Autoreset follows Gymnasium (see :class:`~recgym.envs.batched_vector.BatchedVectorEnv`): with
    ``autoreset_mode="next_step"`` (default) the step after an episode ends resets that env,
    ignores its action and returns reward 0 and ``terminated = truncated = False``; with
    ``"same_step"`` the reset happens in the same step, the returned observation is the new
    session's, and ``info["final_obs"]`` / ``info["final_info"]`` hold the ended episode's last
    observation and info.

    Parameters
    ----------
    num_envs : int
        Concurrent sessions.
    observation_mode : {"box", "dict"}
        Observation form.
    autoreset_mode : {"next_step", "same_step"} or AutoresetMode
        See above.
    **kwargs
        Any world or candidate knob.
    """

    def __init__(
        self,
        num_envs: int = 1,
        observation_mode: str = "box",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        num_envs = self.checked_num_envs(num_envs, render_mode)
        super().__init__(ShortVideoCore(num_envs, observation_mode, kwargs), num_envs, autoreset_mode)

    @property
    def core(self) -> ShortVideoCore:
        """The batched engine (simulator, candidates); its simulator holds the ground truth for evaluation."""
        return self._core

    def _checked_actions(self, actions: Any) -> np.ndarray:
        positions = self._core.check_positions(actions)
        if positions.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got shape {positions.shape}")
        return positions

    def interaction_log(self) -> pd.DataFrame:
        """The shared interaction log (history first, then every step of every env)."""
        return self._core.interaction_log()

    def save_interaction_log(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                             format: str | None = None) -> Path:
        """Save :meth:`interaction_log` to Parquet or CSV; an existing file is kept unless ``overwrite``."""
        return save_interaction_log(self.interaction_log(), path, overwrite=overwrite, format=format)
