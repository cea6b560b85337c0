"""A Gymnasium ``VectorEnv`` over a batched core: reset, step and autoreset written once for every env family.

The core owns the simulator and the observation rows of ``num_envs`` slots; this class adds
Gymnasium's contract: spaces, seeding, ``reset_mask`` and the two autoreset modes.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from recgym._validation import check_int
from recgym.envs.observation import ObservationLayout

AUTORESET_MODES = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    AutoresetMode.NEXT_STEP: AutoresetMode.NEXT_STEP,
    AutoresetMode.SAME_STEP: AutoresetMode.SAME_STEP,
}


class StepBatch(Protocol):
    """What a core's ``step`` returns (per stepped slot)."""

    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class BatchedCore(Protocol):
    """The engine a :class:`BatchedVectorEnv` drives (``ShortVideoCore``, ``RatingsCore``)."""

    layout: ObservationLayout
    single_observation_space: spaces.Space
    single_action_space: spaces.Space

    @property
    def built(self) -> bool:
        """Whether a world exists."""

    def build(self, rng: np.random.Generator) -> None:
        """Draw a new world."""

    def start(self, slots: np.ndarray, rng: np.random.Generator) -> Any:
        """Start new episodes in ``slots``."""

    def check_actions(self, actions: Any, batch: int | None = None) -> np.ndarray:
        """Validate ``batch`` actions and return them as an array."""

    def step(self, slots: np.ndarray, actions: np.ndarray, rng: np.random.Generator) -> StepBatch:
        """Step ``slots`` with validated ``actions``."""

    def step_infos(self, step: Any) -> dict[str, np.ndarray]:
        """Per-slot info arrays of a step."""

    def reset_infos(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Per-slot info arrays of a reset."""

    def observations(self, slots: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of ``slots``."""


def scatter_infos(num_envs: int, slots: np.ndarray, values: dict[str, np.ndarray], into: dict[str, Any]) -> None:
    """Write per-slot info arrays into full-width arrays with Gymnasium's ``_key`` masks."""
    present = None
    for key, value in values.items():
        column = into.get(key)
        if column is None:
            if present is None:
                present = np.zeros(num_envs, dtype=bool)
                present[slots] = True
            column = np.full(num_envs, None, dtype=object) if value.dtype == object else np.zeros(num_envs, value.dtype)
            into[key] = column
            into[f"_{key}"] = present.copy()
        else:
            into[f"_{key}"][slots] = True
        column[slots] = value


def masked_infos(values: dict[str, np.ndarray], mask: np.ndarray, into: dict[str, Any]) -> None:
    """Copy full-width info arrays into ``into`` with ``_key`` masks, zeroing the entries where ``mask`` is unset.

    The other entries are zero (``None`` for objects), as :func:`scatter_infos` leaves them.
    """
    unset = np.flatnonzero(~mask)  # positions: cheaper than a boolean mask for each array
    for key, value in values.items():
        column = value.copy()
        if len(unset):
            column[unset] = None if value.dtype == object else _zero(value.dtype)
        into[key] = column
        into[f"_{key}"] = mask.copy()


@functools.cache
def _zero(dtype: np.dtype) -> Any:
    return np.zeros((), dtype)[()]


def check_autoreset_mode(autoreset_mode: Any) -> AutoresetMode:
    """Return the ``AutoresetMode`` for ``"next_step"``, ``"same_step"`` or the enum itself."""
    try:
        return AUTORESET_MODES[autoreset_mode]
    except (KeyError, TypeError):
        raise ValueError(
            f"autoreset_mode must be 'next_step', 'same_step' or the matching AutoresetMode, got {autoreset_mode!r}"
        ) from None


class BatchedVectorEnv(VectorEnv):
    """``num_envs`` envs of one shared world, stepped by one batched core call.

    Autoreset follows Gymnasium: with ``autoreset_mode="next_step"`` (default) the step after an
    episode ends resets that env, ignores its action and returns reward 0 and
    ``terminated = truncated = False``; with ``"same_step"`` the reset happens in the same step,
    the returned observation is the new episode's, and ``info["final_obs"]`` / ``info["final_info"]``
    hold the ended episode's last observation and info (as in Gymnasium's ``SyncVectorEnv``).

    Parameters
    ----------
    core : BatchedCore
        The engine, built for ``num_envs`` slots.
    num_envs : int
    autoreset_mode : {"next_step", "same_step"} or AutoresetMode
    """

    def __init__(self, core: BatchedCore, num_envs: int, autoreset_mode: str | AutoresetMode) -> None:
        self.num_envs = num_envs
        self.render_mode = None
        self.metadata = {"autoreset_mode": check_autoreset_mode(autoreset_mode), "render_modes": []}
        self._core = core
        self.single_observation_space = core.single_observation_space
        self.single_action_space = core.single_action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._slots = np.arange(num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(num_envs, dtype=bool)

    @staticmethod
    def checked_num_envs(num_envs: Any, render_mode: Any) -> int:
        """Validate the constructor's ``num_envs`` and ``render_mode`` (vector envs do not render)."""
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the vector env, got {render_mode!r}")
        return check_int("num_envs", num_envs, minimum=1)

    @property
    def observation_layout(self) -> ObservationLayout:
        """The single observation's fields, kinds and offsets in the flat ``Box``."""
        return self._core.layout

    def _checked_actions(self, actions: Any) -> np.ndarray:
        """Validate a batch of ``num_envs`` actions (raises ``ValueError``) and return it as an array."""
        return self._core.check_actions(actions, self.num_envs)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start new episodes in every env (or those in ``options["reset_mask"]``); a ``seed`` draws a new world."""
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
        scatter_infos(self.num_envs, slots, self._core.reset_infos(slots), infos)
        return self._core.observations(self._slots), infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env at once (see the class docstring for autoreset)."""
        if not self._core.built:
            raise RuntimeError("call reset() before step()")
        n, rng, core = self.num_envs, self.np_random, self._core
        actions = self._checked_actions(actions)
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
            result = core.step(stepping, actions[stepping], rng)
            rewards[stepping] = result.rewards
            terminated[stepping] = result.terminated
            truncated[stepping] = result.truncated
            step_infos = core.step_infos(result)
            ended_now = result.terminated | result.truncated
            if next_step:
                scatter_infos(n, stepping, step_infos, infos)
            else:
                # Every env stepped. An ended env's info is the new episode's reset info (as in
                # Gymnasium's SyncVectorEnv); its last step's info goes to final_info.
                masked_infos(step_infos, ~ended_now, infos)
        done = terminated | truncated
        if not next_step and done.any():
            ended = self._slots[done]
            final_obs = core.observations(ended)
            final = np.full(n, None, dtype=object)
            for i, slot in enumerate(ended):
                final[slot] = final_obs[i] if not isinstance(final_obs, dict) else {k: v[i] for k, v in final_obs.items()}
            final_info: dict[str, Any] = {}
            masked_infos(step_infos, ended_now, final_info)
            infos.update({"final_obs": final, "_final_obs": done.copy(), "final_info": final_info, "_final_info": done.copy()})
            resetting = ended
        if len(resetting):
            core.start(resetting, rng)
            scatter_infos(n, resetting, core.reset_infos(resetting), infos)
        self._needs_reset = done if next_step else np.zeros(n, dtype=bool)
        return core.observations(self._slots), rewards, terminated, truncated, infos
