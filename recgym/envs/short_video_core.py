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

from recgym._indexing import slot_rows
from recgym._validation import check_choice
from recgym.candidates.generator import CandidateConfig, CandidateGenerator
from recgym.data.interaction_log import interaction_frame
from recgym.envs.observation import FLOAT32_MAX, ObservationLayout, binary, categorical, numeric
from recgym.simulators.short_video.config import ShortVideoConfig
from recgym.simulators.short_video.outcomes import N_OUTCOMES, OUTCOME_NAMES
from recgym.simulators.short_video.sessions import LIKES, SECONDS, SKIPS, STEPS, VIDEOS_WATCHED
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
        self._obs = np.zeros((n_slots, self.layout.size), dtype=np.float32)
        self._user_block = self._block("age", "interests")
        self._session_block = self._block("session", "last_outcome")
        self._slate_block = self._block("candidate_category", "candidate_score")
        self._category_names = np.array(self.config.categories, dtype=object)
        self._user_rows = np.zeros((0, self._user_block.stop - self._user_block.start), dtype=np.float32)
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
            max_steps=self.config.max_steps,
        )
        log = simulator.log
        candidates.observe(log.column("vid_id"), log.column("user_id"), log.column("action"))
        self.simulator, self.candidates = simulator, candidates
        # The user fields of the observation never change, so each user's are laid out once here.
        people = simulator.users
        self._user_rows = np.concatenate(
            (people.age[:, None], people.gender[:, None], people.location[:, None], people.interests), axis=1
        ).astype(np.float32)

    def start(self, slots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Start sessions in ``slots`` for users drawn from those not in a session; returns the users."""
        users = self.simulator.start_sessions(slots, rng)
        self.candidates.start(slots, users)
        rows = slot_rows(slots, self.n_slots)
        self._obs[rows, self._user_block] = self._user_rows[users]
        self._write_session(rows)
        self._write_slates(rows)
        return users

    def step(self, slots: np.ndarray, positions: np.ndarray, rng: np.random.Generator) -> StepResult:
        """Show the candidate at ``positions[i]`` of slot ``slots[i]``'s slate, for every ``i`` at once."""
        videos = self.candidates.slates.videos_at(slots, positions)
        result = self.simulator.respond(slots, videos, positions, rng)
        # Concurrent sessions belong to different users, so no (video, user) pair repeats in a step.
        self.candidates.observe(videos, result.users, result.outcomes, distinct_pairs=True)
        self.candidates.advance(slots, positions, result.terminated | result.truncated)
        rows = slot_rows(slots, self.n_slots)
        self._write_session(rows)
        self._write_slates(rows)
        return result

    def check_positions(self, positions: Any) -> np.ndarray:
        """Validate actions: integers in ``[0, n_candidates)``; raises ``ValueError`` otherwise.

        Returns the actions as an int64 array (a scalar action becomes shape ``(1,)``).
        """
        n = self.candidate_config.n_candidates
        if isinstance(positions, (int, np.integer)) and not isinstance(positions, bool) and 0 <= positions < n:
            return np.array([positions], dtype=np.int64)  # the common single action, without array reductions
        array = np.asarray(positions).reshape(-1)
        integral = array.dtype.kind in "iu" or (array.dtype.kind == "f" and bool(np.all(np.mod(array, 1) == 0)))
        if not integral or array.size == 0 or array.min() < 0 or array.max() >= n:
            raise ValueError(f"action must be an integer in [0, {n}) (a candidate slot), got {positions!r}")
        return array.astype(np.int64)

    # ------------------------------------------------------------------ observations and infos
    # Observations live in one float32 row per slot. Each group of fields (user, session, slate) is
    # contiguous in the layout and rewritten in one assignment when its inputs change, so a step
    # costs two block writes and one row copy rather than a rebuild.
    def _block(self, first: str, last: str) -> slice:
        return slice(self.layout[first].offset, self.layout[last].flat_slice.stop)

    def _write_session(self, rows: np.ndarray | slice) -> None:
        # The session fields are the leading columns of the session state's counter table.
        state = self.simulator.sessions
        self._obs[rows, self._session_block] = state.counters[rows, : state.n_observed]

    def _write_slates(self, rows: np.ndarray | slice) -> None:
        self._obs[rows, self._slate_block] = self.candidates.slates.observed(rows)

    def observations(self, slots: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of ``slots`` in the configured mode, batched (a fresh copy)."""
        rows = slot_rows(slots, self.n_slots)
        obs = self._obs[rows].copy() if isinstance(rows, slice) else self._obs[rows]
        return obs if self.observation_mode == "box" else self.layout.unflatten(obs)

    def reset_infos(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Per-slot info arrays at a session's start."""
        state = self.simulator.sessions
        return {
            "user": state.user[slots],
            "session_id": state.session_id[slots],
            "candidates_fresh": self.candidates.slates.fresh[slots],
        }

    def step_infos(self, result: StepResult) -> dict[str, np.ndarray]:
        """Per-slot info arrays after a step: what was shown, the response, and the session totals."""
        slots, state, counters = result.slots, self.simulator.sessions, result.session_counters
        counts = counters[:, : SKIPS + 1].astype(np.int64)  # steps, videos watched, likes, skips
        return {
            "user": result.users,
            "session_id": state.session_id[slots],
            "video": result.videos,
            "category": self._category_names[result.categories],
            "creator": result.creators,
            "outcome": _OUTCOME_NAMES[result.outcomes],
            "watch_seconds": result.watch_seconds,
            "session_steps": counts[:, STEPS],
            "session_videos_watched": counts[:, VIDEOS_WATCHED],
            "session_likes": counts[:, LIKES],
            "session_skips": counts[:, SKIPS],
            "session_watch_seconds": counters[:, SECONDS],
            "session_return": counters[:, state.return_column],
            "candidates_fresh": self.candidates.slates.fresh[slots],
        }

    def interaction_log(self) -> pd.DataFrame:
        """The whole interaction log (history first) as a DataFrame with the seed's columns."""
        if self.simulator is None:
            raise RuntimeError("no world yet: call reset() first")
        if not self.config.log_interactions:
            raise RuntimeError("this env keeps no interaction log (log_interactions=False: only the history is kept); "
                               "make it with log_interactions=True, the default, to read one")
        sim = self.simulator
        return interaction_frame(
            sim.log.columns(),
            config=self.config,
            video_category=sim.videos.category,
            video_creator=sim.videos.creator,
            video_initial_views=sim.videos.initial_views,
            user_age=sim.users.age,
            user_gender=sim.users.gender,
            user_location=sim.users.location,
            user_interests=sim.users.interests,
            cf_score_table=self.candidate_config.cf_score_table(),
        )
