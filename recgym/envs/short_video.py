"""``RecGym-ShortVideo-v0`` and ``RecGym-ShortVideoFatigue-v0``: one user session per episode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pandas as pd

from recgym.data.interaction_log import save_interaction_log
from recgym.envs.observation import ObservationLayout
from recgym.envs.short_video_core import ShortVideoCore

_SLOT = np.zeros(1, dtype=np.int64)


class ShortVideoEnv(gym.Env):
    """A short-video feed: each step shows one of ``n_candidates`` CF candidates to the session's user.

    ## Description
    The world of seed 003 (SPEC §1): users with demographics and two interest categories,
    videos with a category, a creator and a view count, and a historical log. Candidates come
    from item-item cosine CF over the whole log, re-scored by business weights; the agent picks
    one; the user watches, likes, skips or ends the session. The log and the CF state persist
    across episodes; ``reset(seed=...)`` draws a new world from the seed.

    ## Action Space
    ``Discrete(n_candidates)``: the slot of the candidate to show. Slots are sorted by the
    business score, best first, so action 0 is the greedy choice.

    ## Observation Space
    ``observation_mode="box"`` (default) gives a flat float32 ``Box``; ``"dict"`` a ``Dict`` with
    one key per field. ``env.unwrapped.observation_layout`` lists the fields and their offsets:

    | field | kind | shape |
    |---|---|---|
    | age | numeric | (1,) |
    | gender, location | categorical | () |
    | interests | categorical | (n_interests,) |
    | session | numeric: steps, videos watched, likes, skips, seconds, category streak | (6,) |
    | category_counts | numeric: videos shown per category this session | (n_categories,) |
    | last_category | categorical (n_categories = none yet) | () |
    | last_outcome | categorical (session_end = first step) | () |
    | candidate_category, candidate_creator | categorical | (n_candidates,) |
    | candidate_is_interest | binary | (n_candidates,) |
    | candidate_views, candidate_similarity, candidate_score | numeric | (n_candidates,) |

    ## Rewards
    watched +1, liked +2, skipped -2, session_end -0.5 (the ``rewards`` knob).

    ## Starting State
    A user drawn uniformly from the population, a fresh session clock and fresh candidates.

    ## Episode End
    Terminated when the user ends the session; truncated after ``max_steps`` (50) steps.

    ## Arguments
    >>> import gymnasium as gym
    >>> import recgym
    >>> env = gym.make("RecGym-ShortVideo-v0", n_candidates=5)
    >>> obs, info = env.reset(seed=0)
    >>> env.action_space
    Discrete(5)

    Every field of :class:`recgym.simulators.short_video.ShortVideoConfig` and
    :class:`recgym.candidates.CandidateConfig` is a keyword argument, plus
    ``observation_mode`` and ``render_mode`` (``"ansi"``). ``docs/environments.md`` has the table.

    ## Vectorized environment
    ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` gives a
    :class:`~recgym.envs.short_video_vector.ShortVideoVectorEnv` stepping N sessions in one call.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, observation_mode: str = "box", render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']!r} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self._core = ShortVideoCore(1, observation_mode, kwargs)
        self.observation_space = self._core.single_observation_space
        self.action_space = self._core.single_action_space
        self._running = False
        self._last_info: dict[str, Any] = {}

    @property
    def observation_layout(self) -> ObservationLayout:
        """The observation's fields, kinds and offsets in the flat ``Box``."""
        return self._core.layout

    @property
    def core(self) -> ShortVideoCore:
        """The batched engine (simulator, candidates); its simulator holds the ground truth for evaluation."""
        return self._core

    def _observation(self) -> np.ndarray | dict[str, Any]:
        obs = self._core.observations(_SLOT)
        if isinstance(obs, dict):
            return {key: value[0] for key, value in obs.items()}
        return obs[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start a session of a user drawn from the population; a ``seed`` also draws a new world."""
        super().reset(seed=seed)
        if seed is not None or not self._core.built:
            self._core.build(self.np_random)
        self._core.start(_SLOT, self.np_random)
        self._running = True
        info = {key: value.tolist()[0] for key, value in self._core.reset_infos(_SLOT).items()}
        self._last_info = info
        return self._observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Show the candidate in slot ``action``."""
        if not self._running:
            raise RuntimeError("the episode has ended (or never started): call reset() before step()")
        position = self._core.check_positions(action)
        if position.shape != (1,) or (type(action) is not int and np.ndim(action) > 1):
            raise ValueError(f"action must be a single integer candidate slot, got {action!r}")
        result = self._core.step(_SLOT, position, self.np_random)
        terminated, truncated = result.terminated.tolist()[0], result.truncated.tolist()[0]
        self._running = not (terminated or truncated)
        # tolist() turns NumPy values into Python ones (str names stay str) more cheaply than .item().
        info = {key: value.tolist()[0] for key, value in self._core.step_infos(result).items()}
        self._last_info = info
        return self._observation(), result.rewards.tolist()[0], terminated, truncated, info

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, describe the session and the current candidates as text."""
        if self.render_mode is None:
            gym.logger.warn("render() was called without a render_mode; pass render_mode='ansi' to gym.make")
            return None
        if not self._core.built:
            return "(no session yet: call reset())"
        slates, categories = self._core.candidates.slates, self._core.config.categories
        lines = [f"user {self._core.simulator.sessions.user[0]}  last: {self._last_info.get('outcome', '-')}"]
        for slot in range(self._core.candidate_config.n_candidates):
            lines.append(
                f"  [{slot}] {categories[slates.category[0, slot]]:<12} views={slates.views[0, slot]:>6d} "
                f"sim={slates.similarity[0, slot]:+.3f} score={slates.score[0, slot]:.3f}"
            )
        return "\n".join(lines)

    def interaction_log(self) -> pd.DataFrame:
        """The interaction log (history first, then every step taken) with the seed's columns."""
        return self._core.interaction_log()

    def save_interaction_log(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                             format: str | None = None) -> Path:
        """Save :meth:`interaction_log` to Parquet or CSV; an existing file is kept unless ``overwrite``."""
        return save_interaction_log(self.interaction_log(), path, overwrite=overwrite, format=format)
