"""Item-item cosine collaborative filtering, kept up to date one interaction at a time.

With ``X`` the item x user matrix of summed interaction scores and ``Y`` its rows scaled to unit
length, the cosine similarity matrix is ``S = Y Y^T`` and a user's CF score of item ``j`` is
``sum_v S[j, v] X[v, u]`` (SPEC §1): the column ``S x_u = Y (Y^T x_u)``. We never form ``S``:
an interaction changes one entry of ``X`` and one row of ``Y`` (``O(n_users)`` work), and scoring
a user costs two dense products of size ``n_items x n_users``. Neither grows with the log.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import ThreadpoolController

from recgym._validation import check_int

if TYPE_CHECKING:
    from threadpoolctl import LibController

_THREADED_BATCH = 8
"""Users scored at once from which BLAS may use all its threads."""

_SEEN = np.float32(-np.inf)
"""The offset of a seen (user, item) pair."""

_MAX_PENDING = 4096
"""Interactions of ``add(distinct_pairs=True)`` held back at most before they are applied."""


@functools.cache
def _blas_libraries() -> list[LibController]:
    return ThreadpoolController().select(user_api="blas").lib_controllers


def _limit_blas_to_one_thread() -> list[tuple[LibController, int]]:
    """Put every BLAS library on one thread; return those changed, with their previous thread counts.

    The effect of ``threadpoolctl``'s ``limit(limits=1, user_api="blas")``, through the library
    controllers directly: the limiter also queries every library's full info on each entry, which
    costs more than the small products it guards. :func:`_restore_blas` undoes it.
    """
    changed = []
    for library in _blas_libraries():
        n_threads = library.get_num_threads()
        if n_threads != 1:
            library.set_num_threads(1)
            changed.append((library, n_threads))
    return changed


def _restore_blas(changed: list[tuple[LibController, int]]) -> None:
    for library, n_threads in changed:
        library.set_num_threads(n_threads)
        # threadpoolctl >= 3.8 gives OpenBLAS to the thread that sets its limit; its limiters hand
        # control back on exit, and so does this (a no-op where this thread does not hold it).
        release = getattr(library, "clear_controlling_thread", None)
        if release is not None:
            release()


class ItemItemCosineCF:
    """Incremental item-item cosine CF over ``n_items`` items and ``n_users`` users.

    Parameters
    ----------
    n_items, n_users : int
        Sizes of the item x user score matrix.

    Notes
    -----
    Scores are summed exactly (float32 holds sums of the default half-integer scores exactly);
    products are float32, so scores agree with a float64 brute force to about 1e-6 relatively.
    """

    def __init__(self, n_items: int, n_users: int) -> None:
        self.n_items = check_int("n_items", n_items, minimum=1)
        self.n_users = check_int("n_users", n_users, minimum=1)
        # User-major X^T, so a user's score vector is one contiguous row, and the same sums item-major,
        # so an item's row (to rescale into Y) is contiguous too.
        self._user_scores = np.zeros((n_users, n_items), dtype=np.float32)
        self._item_scores = np.zeros((n_items, n_users), dtype=np.float32)
        # Item-major unit rows Y; an all-zero item stays zero (cosine 0 with everything).
        self._unit_rows = np.zeros((n_items, n_users), dtype=np.float32)
        self._squared_norms = np.zeros(n_items, dtype=np.float64)
        # Whether the user has interacted with the item, as an offset to add to scores: -inf if so, else 0.
        # Adding a user's row ranks the seen items last in one cheap addition (a masked copy costs
        # several times more).
        self._seen_offsets = np.zeros((n_users, n_items), dtype=np.float32)
        # Items whose unit row is out of date (repeats allowed): rows are rescaled at the next scoring,
        # not at every interaction (the result is the same: a row depends only on the item's sums).
        self._stale = np.zeros(n_items, dtype=np.int64)
        self._n_stale = 0
        self._n_items, self._n_users = np.array(n_items), np.array(n_users)  # 0-d: cheap in index arithmetic
        # Interactions of add(distinct_pairs=True) not applied yet, in call order: they are applied
        # together just before the statistics are next read. A single env adds one interaction per step
        # and reads at the next session's retrieval, so a session's steps share one update.
        self._pending_items = np.zeros(_MAX_PENDING, dtype=np.int64)
        self._pending_users = np.zeros(_MAX_PENDING, dtype=np.int64)
        self._pending_scores = np.zeros(_MAX_PENDING, dtype=np.float32)
        self._n_pending = 0
        self._pending_calls = 0
        self._n_applied = 0

    @property
    def n_interactions(self) -> int:
        """Interactions added so far."""
        return self._n_applied + self._n_pending

    @property
    def seen(self) -> np.ndarray:
        """``(n_users, n_items)`` bool, read-only: whether the user has interacted with the item."""
        self._apply_pending()
        seen = self._seen_offsets < 0.0
        seen.flags.writeable = False
        return seen

    def seen_offsets(self, users: np.ndarray) -> np.ndarray:
        """``(len(users), n_items)`` float32: ``-inf`` where the user has interacted with the item, else 0.

        Added to finite scores, it ranks the seen items last, as :func:`~recgym.candidates.top_k`'s
        ``exclude`` does with the :attr:`seen` rows.
        """
        self._apply_pending()
        return self._seen_offsets[users]

    def user_scores(self, users: np.ndarray) -> np.ndarray:
        """Return the users' rows of ``X^T`` (summed interaction scores), shape ``(len(users), n_items)``."""
        self._apply_pending()
        return self._user_scores[users]

    def add(self, items: np.ndarray, users: np.ndarray, scores: np.ndarray, *, distinct_pairs: bool = False) -> None:
        """Add interactions ``(items[i], users[i], scores[i])``; repeated pairs accumulate.

        ``distinct_pairs=True`` promises no ``(item, user)`` pair repeats within the call (true of
        one step of concurrent sessions, whose users differ), which allows a faster update. Such
        calls are applied when the statistics are next read (or many are pending), with the same
        result as applying them one by one.
        """
        if distinct_pairs and len(items) <= _MAX_PENDING:
            start, end = self._n_pending, self._n_pending + len(items)
            if end > _MAX_PENDING:
                self._apply_pending()
                start, end = 0, len(items)
            self._pending_items[start:end] = items
            self._pending_users[start:end] = users
            self._pending_scores[start:end] = scores
            self._n_pending = end
            self._pending_calls = 1 if start == 0 else self._pending_calls + 1
            return
        self._apply_pending()
        if distinct_pairs:
            self._add_distinct(np.asarray(items, dtype=np.int64), np.asarray(users, dtype=np.int64),
                               np.asarray(scores, dtype=np.float32))
            return
        items = np.asarray(items, dtype=np.int64)
        users = np.asarray(users, dtype=np.int64)
        np.add.at(self._user_scores, (users, items), np.asarray(scores, dtype=np.float32))
        changed = np.unique(items)
        self._item_scores[changed] = self._user_scores[:, changed].T
        self._squared_norms[changed] = np.square(self._user_scores[:, changed].astype(np.float64)).sum(axis=0)
        self._seen_offsets[users, items] = _SEEN
        self._mark_stale(items)
        self._n_applied += len(items)

    def _apply_pending(self) -> None:
        """Apply the pending interactions: in one batch when no (item, user) pair repeats among them.

        Otherwise one at a time, in order: the calls that added them held distinct pairs, so either
        way gives the result of applying the calls one by one.
        """
        n = self._n_pending
        if not n:
            return
        self._n_pending = 0
        items, users, scores = self._pending_items[:n], self._pending_users[:n], self._pending_scores[:n]
        if self._pending_calls == 1:  # one call's pairs: distinct, as the caller promised
            self._add_distinct(items, users, scores)
            return
        pairs = np.sort(users * self._n_items + items)
        if not np.any(pairs[1:] == pairs[:-1]):
            self._add_distinct(items, users, scores)
        else:
            for i in range(n):
                self._add_distinct(items[i : i + 1], users[i : i + 1], scores[i : i + 1])

    def _add_distinct(self, items: np.ndarray, users: np.ndarray, scores: np.ndarray) -> None:
        # Flat positions in the matrices: 1-D gathers and scatters are the cheapest on a few pairs
        # (and a scatter of values already in the array's dtype is much cheaper than a converting one).
        by_user = users * self._n_items + items
        old = self._user_scores.reshape(-1)[by_user].astype(np.float64)
        new = old + scores
        new_float32 = new.astype(np.float32)
        self._user_scores.reshape(-1)[by_user] = new_float32
        self._item_scores.reshape(-1)[items * self._n_users + users] = new_float32
        # In call order, so a repeated item accumulates as it would one call at a time.
        np.add.at(self._squared_norms, items, new * new - old * old)
        self._seen_offsets.reshape(-1)[by_user] = _SEEN
        self._mark_stale(items)
        self._n_applied += len(items)

    def _mark_stale(self, items: np.ndarray) -> None:
        start, end = self._n_stale, self._n_stale + len(items)
        if end > len(self._stale):  # the buffer is full: rescale the pending rows now
            self._update_unit_rows()
            if len(items) > len(self._stale):  # a batch larger than the buffer (the history)
                items = np.unique(items)
            start, end = 0, len(items)
        self._stale[start:end] = items
        self._n_stale = end

    def _update_unit_rows(self) -> None:
        """Rescale the rows of ``Y`` whose items gained interactions since the last scoring."""
        stale = self._stale[: self._n_stale]
        if len(stale):
            # The sums hold half-integers (exact in float32 and float64), so the squared norms stay exact.
            norms = np.sqrt(self._squared_norms[stale])
            unit_rows = self._item_scores[stale] / np.where(norms > 0.0, norms, 1.0)[:, None]
            self._unit_rows[stale] = unit_rows.astype(np.float32)  # converting first makes the scatter cheaper
            self._n_stale = 0

    def scores(self, users: np.ndarray) -> np.ndarray:
        """Return the CF score of every item for each user, shape ``(len(users), n_items)`` float32."""
        self._apply_pending()
        self._update_unit_rows()
        user_rows = self._user_scores[np.asarray(users, dtype=np.int64)]
        # For a few users the products are small, and multi-threaded BLAS on a busy machine spins
        # instead of computing (tens of times slower): run them on one thread.
        if len(user_rows) >= _THREADED_BATCH:
            return (user_rows @ self._unit_rows) @ self._unit_rows.T
        changed = _limit_blas_to_one_thread()
        try:
            return (user_rows @ self._unit_rows) @ self._unit_rows.T
        finally:
            _restore_blas(changed)


def brute_force_scores(
    items: np.ndarray, users: np.ndarray, scores: np.ndarray, n_items: int, n_users: int, for_users: np.ndarray
) -> np.ndarray:
    """Reference CF scores recomputed from the whole log in float64, as the seed does at every step.

    Builds the item x user matrix of summed scores, the full cosine similarity matrix, and
    ``S @ X[:, u]`` for each requested user. ``O(n_items^2 n_users)``: for tests and small worlds.

    Returns
    -------
    numpy.ndarray
        ``(len(for_users), n_items)`` float64.
    """
    matrix = np.zeros((n_items, n_users), dtype=np.float64)
    np.add.at(matrix, (np.asarray(items), np.asarray(users)), np.asarray(scores, dtype=np.float64))
    norms = np.linalg.norm(matrix, axis=1)
    unit = matrix / np.where(norms > 0.0, norms, 1.0)[:, None]
    similarity = unit @ unit.T
    return (similarity @ matrix[:, np.asarray(for_users)]).T
