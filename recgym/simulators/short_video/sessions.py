"""Per-slot session state: the session clock, counters and the in-session fatigue state.

A slot is one concurrent session (one env of a vector env). All fields are arrays indexed by slot.
"""

from __future__ import annotations

import numpy as np

from recgym._indexing import slot_rows
from recgym.simulators.short_video.outcomes import SESSION_END

# Columns of ``SessionState.counters`` before the per-category counts, in the order of the
# observation's ``session`` field.
STEPS, VIDEOS_WATCHED, LIKES, SKIPS, SECONDS, STREAK = range(6)
CATEGORY_COUNTS = 6
"""First column of the per-category counts in ``SessionState.counters``."""


class SessionState:
    """The state of ``n_slots`` concurrent sessions.

    The counters of a session live in one float64 row of :attr:`counters`, laid out as the
    observation's ``session``, ``category_counts``, ``last_category`` and ``last_outcome`` fields
    followed by the session's return. A step then updates a session with a few whole-row
    operations and writes its observation with one copy; the named attributes are column views.

    Attributes
    ----------
    user, session_id : numpy.ndarray
        ``(n_slots,)`` int64.
    counters : numpy.ndarray
        ``(n_slots, n_categories + 9)`` float64: step, watched, liked, skipped, seconds, streak,
        the per-category counts, last category, last outcome, total reward. Counts and codes are
        whole numbers (exact in float64).
    step, watched, liked, skipped, streak : numpy.ndarray
        ``(n_slots,)`` views of :attr:`counters`. ``watched`` counts watched or liked videos (the
        seed's ``num_vids_session``); ``streak`` counts consecutive videos of the last category.
    seconds, total_reward : numpy.ndarray
        ``(n_slots,)`` views of :attr:`counters`: session clock and return so far.
    last_category : numpy.ndarray
        ``(n_slots,)`` view of :attr:`counters`, ``n_categories`` before the first video of a session.
    last_outcome : numpy.ndarray
        ``(n_slots,)`` view of :attr:`counters`: outcome code, ``SESSION_END`` before the first
        video (the previous session ended), as in the seed.
    category_counts : numpy.ndarray
        ``(n_slots, n_categories)`` view of :attr:`counters`: videos shown per category this session.
    mood : numpy.ndarray
        ``(n_slots,)`` float64 in-session mood.
    boredom : numpy.ndarray
        ``(n_slots, n_categories)`` float64 in-session boredom per category.
    """

    def __init__(self, n_slots: int, n_categories: int) -> None:
        self.n_categories = n_categories
        self.last_category_column = CATEGORY_COUNTS + n_categories
        self.last_outcome_column = self.last_category_column + 1
        self.return_column = self.last_outcome_column + 1
        self.n_observed = self.return_column
        """Leading columns of :attr:`counters` that form the observation's session fields."""
        self._fresh_row = np.zeros(self.return_column + 1, dtype=np.float64)
        self._fresh_row[self.last_category_column] = n_categories
        self._fresh_row[self.last_outcome_column] = SESSION_END
        self.user = np.full(n_slots, -1, dtype=np.int64)
        self.session_id = np.full(n_slots, -1, dtype=np.int64)
        self.counters = np.tile(self._fresh_row, (n_slots, 1))
        self.mood = np.zeros(n_slots, dtype=np.float64)
        self.boredom = np.zeros((n_slots, n_categories), dtype=np.float64)

    @property
    def step(self) -> np.ndarray:
        """Steps taken this session (view of a column of :attr:`counters`)."""
        return self.counters[:, STEPS]

    @property
    def watched(self) -> np.ndarray:
        """Videos watched or liked this session (view)."""
        return self.counters[:, VIDEOS_WATCHED]

    @property
    def liked(self) -> np.ndarray:
        """Likes this session (view)."""
        return self.counters[:, LIKES]

    @property
    def skipped(self) -> np.ndarray:
        """Skips this session (view)."""
        return self.counters[:, SKIPS]

    @property
    def seconds(self) -> np.ndarray:
        """The session clock in seconds (view)."""
        return self.counters[:, SECONDS]

    @property
    def streak(self) -> np.ndarray:
        """Consecutive videos of the last category (view)."""
        return self.counters[:, STREAK]

    @property
    def category_counts(self) -> np.ndarray:
        """``(n_slots, n_categories)`` videos shown per category this session (view)."""
        return self.counters[:, CATEGORY_COUNTS : self.last_category_column]

    @property
    def last_category(self) -> np.ndarray:
        """Category of the last video, ``n_categories`` before the first (view)."""
        return self.counters[:, self.last_category_column]

    @property
    def last_outcome(self) -> np.ndarray:
        """Outcome code of the last video, ``SESSION_END`` before the first (view)."""
        return self.counters[:, self.last_outcome_column]

    @property
    def total_reward(self) -> np.ndarray:
        """The session's return so far (view)."""
        return self.counters[:, self.return_column]

    def start(self, slots: np.ndarray, users: np.ndarray, session_ids: np.ndarray) -> None:
        """Begin new sessions for ``users`` in ``slots``, clearing every counter."""
        rows = slot_rows(slots, len(self.user))
        self.user[slots] = users
        self.session_id[slots] = session_ids
        self.counters[rows] = self._fresh_row
        self.mood[slots] = 0.0
        self.boredom[rows] = 0.0
