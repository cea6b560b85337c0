"""The batched engine behind both short-video envs: simulator + candidate generator + observations.

A single env is a batch of one slot and a native vector env a batch of ``num_envs`` slots; both
call these methods, so they share one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from gymnasium import spaces

from recgym._validation import check_choice
from recgym.candidates.generator import CandidateConfig, CandidateGenerator
from recgym.data.interaction_log import interaction_frame
from recgym.envs.observation import FLOAT32_MAX, ObservationLayout, binary, categorical, numeric
from recgym.simulators.short_video.config import ShortVideoConfig
from recgym.simulators.short_video.outcomes import N_OUTCOMES, OUTCOME_NAMES
from recgym.simulators.short_video.simulator import ShortVideoSimulator, StepResult

OBSERVATION_MODES = ("box", "dict")
SESSION_FEATURES = ("steps", "videos_watched", "likes", "skips", "session_seconds", "category_streak")
"""Entries of the ``session`` observation field, in order."""

_OUTCOME_NAMES = np.array(OUTCOME_NAMES, dtype=object)


def split_kwargs(kwargs: Mapping[str, Any]) -> tuple[ShortVideoConfig, CandidateConfig]:
    """Build the simulator and candidate configs from one flat set of keyword arguments."""
    sim_names, candidate_names = ShortVideoConfig.field_names(), CandidateConfig.field_names()
    unknown = set(kwargs) - sim_names - candidate_names
    if unknown:
        allowed = sorted(sim_names | candidate_names | {"observation_mode", "render_mode"})
        raise ValueError(f"unknown keyword argument(s) {sorted(unknown)!r}; allowed: {allowed!r}")
    sim_config = ShortVideoConfig(**{k: v for k, v in kwargs.items() if k in sim_names})
    candidate_config = CandidateConfig(**{k: v for k, v in kwargs.items() if k in candidate_names})
    if candidate_config.n_candidates > sim_config.n_videos:
        raise ValueError(
            f"n_candidates must be <= n_videos ({sim_config.n_videos}), got {candidate_config.n_candidates!r}"
        )
    return sim_config, candidate_config


def observation_layout(config: ShortVideoConfig, candidates: CandidateConfig) -> ObservationLayout:
    """The observation fields of a short-video env: user, session, then each candidate."""
    n_categories, r = config.n_categories, candidates.n_candidates
    session_high = max(float(config.max_steps), config.max_session_seconds)
    return ObservationLayout(
        [
            numeric("age", config.age_range[0], config.age_range[1]),
            categorical("gender", len(config.genders)),
            categorical("location", len(config.locations)),
            categorical("interests", n_categories, (config.n_interests,)),
            numeric("session", 0.0, session_high, (len(SESSION_FEATURES),)),
            numeric("category_counts", 0.0, float(config.max_steps), (n_categories,)),
            categorical("last_category", n_categories + 1),
            categorical("last_outcome", N_OUTCOMES),
            categorical("candidate_category", n_categories, (r,)),
            categorical("candidate_creator", config.n_creators, (r,)),
            binary("candidate_is_interest", (r,)),
            numeric("candidate_views", 0.0, FLOAT32_MAX, (r,)),
            numeric("candidate_similarity", -FLOAT32_MAX, FLOAT32_MAX, (r,)),
            numeric("candidate_score", -FLOAT32_MAX, FLOAT32_MAX, (r,)),
        ]
    )


class ShortVideoCore:
    """Simulator, candidates and observations for ``n_slots`` concurrent sessions.

    Parameters
    ----------
    n_slots : int
        Concurrent sessions.
    observation_mode : {"box", "dict"}
        Flat float32 ``Box`` or ``Dict`` observations.
    kwargs : Mapping[str, Any]
        Any field of :class:`ShortVideoConfig` or :class:`CandidateConfig`.
    """

    def __init__(self, n_slots: int, observation_mode: str, kwargs: Mapping[str, Any]) -> None:
        self.observation_mode = check_choice("observation_mode", observation_mode, OBSERVATION_MODES)
        self.config, self.candidate_config = split_kwargs(kwargs)
        if n_slots > self.config.n_users:
            raise ValueError(
                f"num_envs ({n_slots}) must be <= n_users ({self.config.n_users}): "
                "each concurrent session belongs to a different user"
            )
        self.n_slots = n_slots
        self.layout = observation_layout(self.config, self.candidate_config)
        self.single_observation_space: spaces.Space = (
            self.layout.box_space() if observation_mode == "box" else self.layout.dict_space()
        )
        self.single_action_space = spaces.Discrete(self.candidate_config.n_candidates)
        self.simulator: ShortVideoSimulator | None = None
        self.candidates: CandidateGenerator | None = None

    @property
    def built(self) -> bool:
        """Whether a world exists (after the first reset)."""
        return self.simulator is not None

    def build(self, rng: np.random.Generator) -> None:
        """Draw a new world and its history from ``rng`` and feed the history to the CF model."""
        simulator = ShortVideoSimulator(self.config, self.n_slots, rng)
        candidates = CandidateGenerator(
            self.candidate_config,
            item_category=simulator.videos.category,
            item_creator=simulator.videos.creator,
            item_views=simulator.videos.views,
            user_interest_mask=simulator.users.interest_mask,
            n_slots=self.n_slots,
        )
        log = simulator.log
        candidates.observe(log.column("vid_id"), log.column("user_id"), log.column("action"))
        self.simulator, self.candidates = simulator, candidates

    def start(self, slots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Start sessions in ``slots`` for users drawn from those not in a session; returns the users."""
        users = self.simulator.start_sessions(slots, rng)
        self.candidates.start(slots, users)
        return users

    def step(self, slots: np.ndarray, positions: np.ndarray, rng: np.random.Generator) -> StepResult:
        """Show the candidate at ``positions[i]`` of slot ``slots[i]``'s slate, for every ``i`` at once."""
        videos = self.candidates.slates.video[slots, positions]
        result = self.simulator.respond(slots, videos, positions, rng)
        self.candidates.observe(videos, result.users, result.outcomes)
        self.candidates.advance(slots, positions)
        return result

    def check_positions(self, positions: np.ndarray) -> np.ndarray:
        """Validate actions: integers in ``[0, n_candidates)``; raises ``ValueError`` otherwise."""
        array = np.asarray(positions)
        n = self.candidate_config.n_candidates
        if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and np.all(np.mod(array, 1) == 0)):
            raise ValueError(f"action must be an integer in [0, {n}) (a candidate slot), got {positions!r}")
        if np.any(array < 0) or np.any(array >= n):
            raise ValueError(f"action must be an integer in [0, {n}) (a candidate slot), got {positions!r}")
        return array.astype(np.int64)

    # ------------------------------------------------------------------ observations and infos
    def observation_batch(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """The ``Dict`` observations of ``slots`` as a batch (one row per slot)."""
        sim, slates = self.simulator, self.candidates.slates
        state, users = sim.sessions, sim.sessions.user[slots]
        f32 = np.float32
        session = np.stack(
            (state.step[slots], state.watched[slots], state.liked[slots], state.skipped[slots], state.seconds[slots], state.streak[slots]),
            axis=1,
        ).astype(f32)
        return {
            "age": sim.users.age[users, None].astype(f32),
            "gender": sim.users.gender[users],
            "location": sim.users.location[users],
            "interests": sim.users.interests[users],
            "session": session,
            "category_counts": state.category_counts[slots].astype(f32),
            "last_category": state.last_category[slots],
            "last_outcome": state.last_outcome[slots],
            "candidate_category": slates.category[slots],
            "candidate_creator": slates.creator[slots],
            "candidate_is_interest": slates.is_interest[slots].astype(np.int8),
            "candidate_views": slates.views[slots].astype(f32),
            "candidate_similarity": np.clip(slates.similarity[slots], -FLOAT32_MAX, FLOAT32_MAX).astype(f32),
            "candidate_score": np.clip(slates.score[slots], -FLOAT32_MAX, FLOAT32_MAX).astype(f32),
        }

    def observations(self, slots: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of ``slots`` in the configured mode, batched."""
        batch = self.observation_batch(slots)
        return self.layout.flatten(batch) if self.observation_mode == "box" else batch

    def reset_infos(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Per-slot info arrays at a session's start."""
        state = self.simulator.sessions
        return {
            "user": state.user[slots].copy(),
            "session_id": state.session_id[slots].copy(),
            "candidates_fresh": self.candidates.slates.fresh[slots].copy(),
        }

    def step_infos(self, result: StepResult) -> dict[str, np.ndarray]:
        """Per-slot info arrays after a step: what was shown, the response, and the session totals."""
        slots, state = result.slots, self.simulator.sessions
        categories = np.array(self.config.categories, dtype=object)
        return {
            "user": result.users,
            "session_id": state.session_id[slots].copy(),
            "video": result.videos,
            "category": categories[result.categories],
            "creator": result.creators,
            "outcome": _OUTCOME_NAMES[result.outcomes],
            "watch_seconds": result.watch_seconds,
            "session_steps": state.step[slots].copy(),
            "session_videos_watched": state.watched[slots].copy(),
            "session_likes": state.liked[slots].copy(),
            "session_skips": state.skipped[slots].copy(),
            "session_watch_seconds": state.seconds[slots].copy(),
            "session_return": state.total_reward[slots].copy(),
            "candidates_fresh": self.candidates.slates.fresh[slots].copy(),
        }

    def interaction_log(self) -> pd.DataFrame:
        """The whole interaction log (history first) as a DataFrame with the seed's columns."""
        if self.simulator is None:
            raise RuntimeError("no world yet: call reset() first")
        sim = self.simulator
        return interaction_frame(
            sim.log.columns(),
            config=self.config,
            video_category=sim.videos.category,
            video_creator=sim.videos.creator,
            user_age=sim.users.age,
            user_gender=sim.users.gender,
            user_location=sim.users.location,
            user_interests=sim.users.interests,
            cf_score_table=self.candidate_config.cf_score_table(),
        )
