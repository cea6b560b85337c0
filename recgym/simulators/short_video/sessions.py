"""Per-slot session state: the session clock, counters and the in-session fatigue state.

A slot is one concurrent session (one env of a vector env). All fields are arrays indexed by slot.
"""

from __future__ import annotations

import numpy as np

from recgym.simulators.short_video.outcomes import SESSION_END


class SessionState:
    """The state of ``n_slots`` concurrent sessions.

    Attributes
    ----------
    user, session_id, step, watched, liked, skipped, streak : numpy.ndarray
        ``(n_slots,)`` int64. ``watched`` counts watched or liked videos (the seed's
        ``num_vids_session``); ``streak`` counts consecutive videos of the last category.
    seconds, total_reward, mood : numpy.ndarray
        ``(n_slots,)`` float64: session clock, return so far, in-session mood.
    last_category : numpy.ndarray
        ``(n_slots,)`` int64, ``n_categories`` before the first video of a session.
    last_outcome : numpy.ndarray
        ``(n_slots,)`` int64 outcome code, ``SESSION_END`` before the first video (the previous
        session ended), as in the seed.
    category_counts : numpy.ndarray
        ``(n_slots, n_categories)`` int64 videos shown per category this session.
    boredom : numpy.ndarray
        ``(n_slots, n_categories)`` float64 in-session boredom per category.
    """

    def __init__(self, n_slots: int, n_categories: int) -> None:
        self.n_categories = n_categories
        shape = (n_slots,)
        self.user = np.full(shape, -1, dtype=np.int64)
        self.session_id = np.full(shape, -1, dtype=np.int64)
        self.step = np.zeros(shape, dtype=np.int64)
        self.watched = np.zeros(shape, dtype=np.int64)
        self.liked = np.zeros(shape, dtype=np.int64)
        self.skipped = np.zeros(shape, dtype=np.int64)
        self.streak = np.zeros(shape, dtype=np.int64)
        self.seconds = np.zeros(shape, dtype=np.float64)
        self.total_reward = np.zeros(shape, dtype=np.float64)
        self.mood = np.zeros(shape, dtype=np.float64)
        self.last_category = np.full(shape, n_categories, dtype=np.int64)
        self.last_outcome = np.full(shape, SESSION_END, dtype=np.int64)
        self.category_counts = np.zeros((n_slots, n_categories), dtype=np.int64)
        self.boredom = np.zeros((n_slots, n_categories), dtype=np.float64)

    def start(self, slots: np.ndarray, users: np.ndarray, session_ids: np.ndarray) -> None:
        """Begin new sessions for ``users`` in ``slots``, clearing every counter."""
        self.user[slots] = users
        self.session_id[slots] = session_ids
        for counter in (self.step, self.watched, self.liked, self.skipped, self.streak):
            counter[slots] = 0
        for value in (self.seconds, self.total_reward, self.mood):
            value[slots] = 0.0
        self.last_category[slots] = self.n_categories
        self.last_outcome[slots] = SESSION_END
        self.category_counts[slots] = 0
        self.boredom[slots] = 0.0
