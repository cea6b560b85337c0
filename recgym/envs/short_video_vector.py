"""Native vector env for the short-video ids: ``num_envs`` concurrent sessions in one batched call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from recgym._validation import check_int
from recgym.data.interaction_log import save_interaction_log
from recgym.envs.observation import ObservationLayout
from recgym.envs.short_video_core import ShortVideoCore

_AUTORESET_MODES = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    AutoresetMode.NEXT_STEP: AutoresetMode.NEXT_STEP,
    AutoresetMode.SAME_STEP: AutoresetMode.SAME_STEP,
}


def _scatter(num_envs: int, slots: np.ndarray, values: dict[str, np.ndarray], into: dict[str, Any]) -> None:
    """Write per-slot info arrays into full-width arrays with Gymnasium's ``_key`` masks."""
    for key, value in values.items():
        if key not in into:
            into[key] = np.zeros(num_envs, dtype=value.dtype) if value.dtype != object else np.full(num_envs, None, dtype=object)
            into[f"_{key}"] = np.zeros(num_envs, dtype=bool)
        into[key][slots] = value
        into[f"_{key}"][slots] = True


class ShortVideoVectorEnv(VectorEnv):
    """``num_envs`` sessions of different users of one shared world, stepped together.

    All sessions share the population, the catalogue, the log and the CF state, as concurrent
    users of one platform do; a user is never in two sessions at once, so ``num_envs`` must not
    exceed ``n_users``. Keyword arguments are those of :class:`~recgym.envs.short_video.ShortVideoEnv`.

    Autoreset follows Gymnasium: with ``autoreset_mode="next_step"`` (default) the step after an
    episode ends resets that env, ignores its action and returns reward 0 and
    ``terminated = truncated = False``; with ``"same_step"`` the reset happens in the same step,
    the returned observation is the new session's, and ``info["final_obs"]`` / ``info["final_info"]``
    hold the ended episode's last observation and info.

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
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        try:
            mode = _AUTORESET_MODES[autoreset_mode]
        except (KeyError, TypeError):
            raise ValueError(
                f"autoreset_mode must be 'next_step', 'same_step' or the matching AutoresetMode, got {autoreset_mode!r}"
            ) from None
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the vector env, got {render_mode!r}")
        self.render_mode = None
        self.metadata = {"autoreset_mode": mode, "render_modes": []}
        self._core = ShortVideoCore(self.num_envs, observation_mode, kwargs)
        self.single_observation_space = self._core.single_observation_space
        self.single_action_space = self._core.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._slots = np.arange(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    @property
    def observation_layout(self) -> ObservationLayout:
        """The single observation's fields, kinds and offsets in the flat ``Box``."""
        return self._core.layout

    @property
    def core(self) -> ShortVideoCore:
        """The batched engine (simulator, candidates); its simulator holds the ground truth for evaluation."""
        return self._core

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start new sessions in every env (or those in ``options["reset_mask"]``); a ``seed`` draws a new world."""
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an int or None (the envs share one world), got {seed!r}")
        mask = None if options is None else options.get("reset_mask")
        super().reset(seed=seed)
        if seed is not None or not self._core.built:
            if mask is not None and not np.all(mask):
                raise ValueError("reset_mask must be all True when a new world is drawn (first reset or a seed)")
            self._core.build(self.np_random)
            mask = None
        slots = self._slots
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
                raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},), got {mask!r}")
            slots = self._slots[mask]
        self._core.start(slots, self.np_random)
        self._needs_reset[slots] = False
        infos: dict[str, Any] = {}
        _scatter(self.num_envs, slots, self._core.reset_infos(slots), infos)
        return self._core.observations(self._slots), infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env at once (see the class docstring for autoreset)."""
        if not self._core.built:
            raise RuntimeError("call reset() before step()")
        positions = self._core.check_positions(actions)
        if positions.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got shape {positions.shape}")
        n, rng, core = self.num_envs, self.np_random, self._core
        rewards = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        infos: dict[str, Any] = {}
        next_step = self.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP

        resetting = self._slots[self._needs_reset] if next_step else self._slots[:0]
        stepping = self._slots[~self._needs_reset] if next_step else self._slots
        step_infos: dict[str, np.ndarray] = {}
        ended_now = np.zeros(len(stepping), dtype=bool)
        if len(stepping):
            result = core.step(stepping, positions[stepping], rng)
            rewards[stepping] = result.rewards
            terminated[stepping] = result.terminated
            truncated[stepping] = result.truncated
            step_infos = core.step_infos(result)
            ended_now = result.terminated | result.truncated
            # With same-step autoreset an ended env's info is the new session's reset info (as in
            # Gymnasium's SyncVectorEnv); its last step's info goes to final_info.
            kept = slice(None) if next_step else ~ended_now
            _scatter(n, stepping[kept], {k: v[kept] for k, v in step_infos.items()}, infos)
        done = terminated | truncated
        if not next_step and done.any():
            ended = self._slots[done]
            final_obs = core.observations(ended)
            final = np.full(n, None, dtype=object)
            for i, slot in enumerate(ended):
                final[slot] = final_obs[i] if not isinstance(final_obs, dict) else {k: v[i] for k, v in final_obs.items()}
            final_info: dict[str, Any] = {}
            _scatter(n, ended, {k: v[ended_now] for k, v in step_infos.items()}, final_info)
            infos.update({"final_obs": final, "_final_obs": done.copy(), "final_info": final_info, "_final_info": done.copy()})
            resetting = ended
        if len(resetting):
            core.start(resetting, rng)
            _scatter(n, resetting, core.reset_infos(resetting), infos)
        self._needs_reset = done if next_step else np.zeros(n, dtype=bool)
        return core.observations(self._slots), rewards, terminated, truncated, infos

    def interaction_log(self) -> pd.DataFrame:
        """The shared interaction log (history first, then every step of every env)."""
        return self._core.interaction_log()

    def save_interaction_log(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                             format: str | None = None) -> Path:
        """Save :meth:`interaction_log` to Parquet or CSV; an existing file is kept unless ``overwrite``."""
        return save_interaction_log(self.interaction_log(), path, overwrite=overwrite, format=format)
