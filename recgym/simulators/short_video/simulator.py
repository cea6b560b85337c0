"""The short-video session simulator (SPEC §1): batched over concurrent sessions, pure NumPy."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recgym._indexing import slot_rows
from recgym._validation import check_int
from recgym.simulators.short_video.config import ShortVideoConfig
from recgym.simulators.short_video.log import InteractionLog
from recgym.simulators.short_video.outcomes import LIKED, N_OUTCOMES, SESSION_END, SKIPPED, WATCHED
from recgym.simulators.short_video.response import (
    clip_probability,
    continuation_probability,
    sample_history_outcomes,
    sample_session_outcomes,
)
from recgym.simulators.short_video.sessions import (
    CATEGORY_COUNTS,
    LIKES,
    SECONDS,
    SKIPS,
    STEPS,
    STREAK,
    VIDEOS_WATCHED,
    SessionState,
)
from recgym.simulators.short_video.world import Users, Videos, sample_users, sample_videos

_VIEWED = np.zeros(N_OUTCOMES, dtype=bool)
_VIEWED[[WATCHED, LIKED]] = True
"""Whether an outcome code means the video was viewed (its duration adds to the clock)."""


class StepResult(NamedTuple):
    """What happened in one batched step; every array has one entry per stepped slot.

    Attributes
    ----------
    slots, users, videos, categories, creators : numpy.ndarray
        int64 ids and codes.
    outcomes : numpy.ndarray
        int64 outcome codes.
    rewards, watch_seconds : numpy.ndarray
        float64.
    terminated, truncated : numpy.ndarray
        bool; a truncation is never reported as a termination.
    session_counters : numpy.ndarray
        ``(n, columns)`` float64: the sessions' rows of :attr:`SessionState.counters` after the step.
    """

    slots: np.ndarray
    users: np.ndarray
    videos: np.ndarray
    categories: np.ndarray
    creators: np.ndarray
    outcomes: np.ndarray
    rewards: np.ndarray
    watch_seconds: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    session_counters: np.ndarray


class ShortVideoSimulator:
    """Users, videos, the historical log and ``n_slots`` concurrent sessions.

    Construction draws the world and the historical log from ``rng``. Afterwards
    :meth:`start_sessions` and :meth:`respond` advance any subset of slots in one batched call.

    Parameters
    ----------
    config : ShortVideoConfig
        Every number of the world.
    n_slots : int
        Concurrent sessions (1 for a single env, ``num_envs`` for a vector env); at most
        ``config.n_users``, since a user is in at most one session at a time.
    rng : numpy.random.Generator
        Seeded generator for the world and the history.
    """

    def __init__(self, config: ShortVideoConfig, n_slots: int, rng: np.random.Generator) -> None:
        n_slots = check_int("n_slots", n_slots, minimum=1)
        if n_slots > config.n_users:
            raise ValueError(
                f"the number of concurrent sessions ({n_slots}) must be <= n_users ({config.n_users}): "
                "a user is in at most one session at a time"
            )
        self.config = config
        self.n_slots = n_slots
        self.videos: Videos = sample_videos(config, rng)
        self.users: Users = sample_users(config, rng)
        self.sessions = SessionState(n_slots, config.n_categories)
        self.slot_active = np.zeros(n_slots, dtype=bool)
        self.in_session = np.zeros(config.n_users, dtype=bool)
        # Room for the history and a first stretch of sessions; the log doubles when it fills.
        self.log = InteractionLog(initial_capacity=int(config.n_users * (config.history_mean + config.history_std)) + 4096)
        self._location_effects = config.location_effect_matrix()
        self._rewards = config.reward_table()
        self._fatigue = config.has_fatigue
        self._session_end = np.array(SESSION_END)
        self._max_steps = np.array(float(config.max_steps))
        low, high = config.skip_seconds_range
        self._skip_low, self._skip_span = np.array(low), np.array(high - low)
        # Look-up tables of the two fixed terms of the continuation probability, flat by
        # user * n_categories + category: a step gathers each with one cheap 1-D index.
        self._interest_shift = (config.interest_bonus * self.users.interest_mask).reshape(-1)
        self._location_shift = self._location_effects[self.users.location].reshape(-1)
        self._n_categories = np.array(config.n_categories)
        self._increments = self._counter_increments()
        self._next_session_id = 0
        self._record_history(rng)

    def _counter_increments(self) -> np.ndarray:
        """What showing a video adds to a session's counters, by (outcome code, category).

        Row ``[outcome, category]`` of the ``(4, n_categories, counters)`` table holds one step, the
        watched / liked / skipped flags, one more video in the streak, one count for the category and
        the outcome's reward; the clock and the last category / outcome are set separately.
        """
        n_categories = self.config.n_categories
        table = np.zeros((N_OUTCOMES, n_categories, self.sessions.counters.shape[1]), dtype=np.float64)
        table[:, :, STEPS] = 1.0
        table[:, :, STREAK] = 1.0
        table[[WATCHED, LIKED], :, VIDEOS_WATCHED] = 1.0
        table[LIKED, :, LIKES] = 1.0
        table[SKIPPED, :, SKIPS] = 1.0
        table[:, np.arange(n_categories), CATEGORY_COUNTS + np.arange(n_categories)] = 1.0
        table[:, :, self.sessions.return_column] = self._rewards[:, None]
        return table

    # ------------------------------------------------------------------ response model
    def _draw_uniforms(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        uniforms = rng.random((3, n))
        base_u, outcome_u, seconds_u = uniforms[0], uniforms[1], uniforms[2]
        low, high = self.config.base_propensity_range
        if (low, high) == (0.0, 1.0):
            return base_u, outcome_u, seconds_u  # 0 + 1 * u is u exactly: skip two array operations
        return low + (high - low) * base_u, outcome_u, seconds_u

    def _base_effects(self, users: np.ndarray, categories: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        is_interest = self.users.interest_mask[users, categories]
        location_effect = self._location_effects[self.users.location[users], categories]
        return is_interest, location_effect

    def _seconds(self, videos: np.ndarray, outcomes: np.ndarray, seconds_u: np.ndarray) -> np.ndarray:
        # low + (high - low) * u for skips and session ends, with the bounds of skip_seconds_range.
        return np.where(_VIEWED[outcomes], self.videos.duration[videos], self._skip_low + self._skip_span * seconds_u)

    def expected_continuation(self, slots: np.ndarray, videos: np.ndarray) -> np.ndarray:
        """Mean continuation probability of showing ``videos`` in ``slots`` now (ground truth, for evaluation).

        Averages the clipped probability over the base propensity's uniform draw in closed form.
        """
        users = self.sessions.user[slots]
        categories = self.videos.category[videos]
        is_interest, location_effect = self._base_effects(users, categories)
        shift = self.config.interest_bonus * is_interest + location_effect + self._in_session_shift(slots, categories)
        low, high = self.config.base_propensity_range
        if high == low:
            return np.clip(low + shift, 0.0, 1.0)
        # E[clip(U + shift, 0, 1)] for U ~ Uniform(low, high): integrate the piecewise-linear clip.
        a, b = low + shift, high + shift
        lo, hi = np.clip(a, 0.0, 1.0), np.clip(b, 0.0, 1.0)
        integral = (hi**2 - lo**2) / 2.0 + np.maximum(b - np.maximum(a, 1.0), 0.0)
        return integral / (high - low)

    def _in_session_shift(self, slots: np.ndarray, categories: np.ndarray) -> np.ndarray | float:
        if not self._fatigue:
            return 0.0
        return self.sessions.mood[slots] - self.sessions.boredom[slots, categories]

    # ------------------------------------------------------------------ history
    def _record_history(self, rng: np.random.Generator) -> None:
        config = self.config
        counts = np.rint(np.maximum(config.history_min, rng.normal(config.history_mean, config.history_std, config.n_users)))
        counts = counts.astype(np.int64)
        n = int(counts.sum())
        users = np.repeat(np.arange(config.n_users), counts)
        videos = rng.integers(0, config.n_videos, size=n)
        categories = self.videos.category[videos]
        base, outcome_u, seconds_u = self._draw_uniforms(n, rng)
        is_interest, location_effect = self._base_effects(users, categories)
        p = continuation_probability(base, is_interest, location_effect, config.interest_bonus)
        outcomes = sample_history_outcomes(p, outcome_u)
        self.videos.views[:] += np.bincount(videos, minlength=config.n_videos)
        self.log.append(
            {
                "user_id": users,
                "vid_id": videos,
                "session_id": -1,
                "time_step": np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts),
                "action": outcomes,
                "watch_seconds": self._seconds(videos, outcomes, seconds_u),
                "position": -1,
            }
        )

    # ------------------------------------------------------------------ sessions
    def start_sessions(self, slots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Start a new session in each of ``slots`` for a user drawn uniformly from those not in a session.

        Any session still running in those slots is abandoned first (its user becomes free).

        Returns
        -------
        numpy.ndarray
            ``(len(slots),)`` int64 user ids, distinct.
        """
        slots = np.asarray(slots, dtype=np.int64)
        running = slots[self.slot_active[slots]]
        self.in_session[self.sessions.user[running]] = False
        free = np.flatnonzero(~self.in_session)
        users = rng.choice(free, size=len(slots), replace=False)
        self.in_session[users] = True
        self.slot_active[slots] = True
        session_ids = self._next_session_id + np.arange(len(slots))
        self._next_session_id += len(slots)
        self.sessions.start(slots, users, session_ids)
        return users

    def respond(
        self, slots: np.ndarray, videos: np.ndarray, positions: np.ndarray, rng: np.random.Generator
    ) -> StepResult:
        """Show ``videos[i]`` in ``slots[i]``: draw each user's response and advance clocks, counts and the log.

        Parameters
        ----------
        slots : numpy.ndarray
            ``(n,)`` int64 distinct slots with a running session.
        videos : numpy.ndarray
            ``(n,)`` int64 video ids to show.
        positions : numpy.ndarray
            ``(n,)`` int64 candidate slot the agent picked (recorded in the log).
        rng : numpy.random.Generator
            Seeded generator for the response.

        Returns
        -------
        StepResult
            Sessions that terminated or were truncated are closed (their users become free).
        """
        config, state = self.config, self.sessions
        slots = np.asarray(slots, dtype=np.int64)
        videos = np.asarray(videos, dtype=np.int64)
        if np.count_nonzero(self.slot_active[slots]) != len(slots):
            raise RuntimeError(f"slots {slots[~self.slot_active[slots]].tolist()} have no running session")
        # The arrays here hold one entry per stepped session, often just one: the code favours few
        # operations, out-of-place ufuncs and 0-d array constants, which cost least on tiny arrays.
        users = state.user[slots]
        categories = self.videos.category[videos]
        base, outcome_u, seconds_u = self._draw_uniforms(len(slots), rng)
        # continuation_probability with its fixed terms looked up per (user, category), summed in the same order.
        user_category = users * self._n_categories + categories
        p = base + self._interest_shift[user_category]
        p = p + self._location_shift[user_category]
        if self._fatigue:
            p = p + self._in_session_shift(slots, categories)
        outcomes = sample_session_outcomes(clip_probability(p), outcome_u)
        seconds = self._seconds(videos, outcomes, seconds_u)
        rewards = self._rewards[outcomes]

        np.add.at(self.videos.views, videos, 1)
        # Every counter of the stepped sessions in one (n, columns) block: gathered once, updated, written back.
        rows = slot_rows(slots, self.n_slots)
        counters = state.counters[rows]
        if self.config.log_interactions:
            self.log.append(
                {
                    "user_id": users,
                    "vid_id": videos,
                    "session_id": state.session_id[slots],
                    "time_step": counters[:, STEPS],
                    "action": outcomes,
                    "watch_seconds": seconds,
                    "position": positions,
                }
            )
        last_category, last_outcome = state.last_category_column, state.last_outcome_column
        # A new category restarts the streak: the increment below adds one to it either way.
        counters[:, STREAK] = counters[:, STREAK] * (categories == counters[:, last_category])
        increments = self._increments[outcomes, categories]  # step, watched/liked/skipped, streak, category count, reward
        increments[:, SECONDS] = seconds
        counters = counters + increments
        counters[:, last_category] = categories
        counters[:, last_outcome] = outcomes
        state.counters[rows] = counters
        if self._fatigue:
            state.boredom[rows] *= config.boredom_decay
            state.boredom[slots, categories] += config.boredom_increase
            shift = config.like_mood_shift * (outcomes == LIKED) + config.skip_mood_shift * (outcomes == SKIPPED)
            state.mood[slots] = np.clip(state.mood[slots] + shift, -1.0, 1.0)

        terminated = outcomes == self._session_end
        over = counters[:, STEPS] >= self._max_steps
        truncated = over & ~terminated
        done = slots[terminated | over]
        self.in_session[state.user[done]] = False
        self.slot_active[done] = False
        creators = self.videos.creator[videos]
        return StepResult(slots, users, videos, categories, creators, outcomes, rewards, seconds, terminated, truncated, counters)
