"""Item-item cosine collaborative filtering, kept up to date one interaction at a time.

With ``X`` the item x user matrix of summed interaction scores and ``Y`` its rows scaled to unit
length, the cosine similarity matrix is ``S = Y Y^T`` and a user's CF score of item ``j`` is
``sum_v S[j, v] X[v, u]`` (SPEC §1): the column ``S x_u = Y (Y^T x_u)``. We never form ``S``:
an interaction changes one entry of ``X`` and one row of ``Y`` (``O(n_users)`` work), and scoring
a user costs two dense products of size ``n_items x n_users``. Neither grows with the log.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
from threadpoolctl import ThreadpoolController

from recgym._validation import check_int

_THREADED_BATCH = 8
"""Users scored at once from which BLAS may use all its threads."""


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


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
        # User-major X^T, so a user's score vector is one contiguous row.
        self._user_scores = np.zeros((n_users, n_items), dtype=np.float32)
        # Item-major unit rows Y; an all-zero item stays zero (cosine 0 with everything).
        self._unit_rows = np.zeros((n_items, n_users), dtype=np.float32)
        self._squared_norms = np.zeros(n_items, dtype=np.float64)
        self._seen = np.zeros((n_users, n_items), dtype=bool)
        self.n_interactions = 0

    @property
    def seen(self) -> np.ndarray:
        """``(n_users, n_items)`` bool, read-only: whether the user has interacted with the item."""
        view = self._seen.view()
        view.flags.writeable = False
        return view

    def user_scores(self, users: np.ndarray) -> np.ndarray:
        """Return the users' rows of ``X^T`` (summed interaction scores), shape ``(len(users), n_items)``."""
        return self._user_scores[users]

    def add(self, items: np.ndarray, users: np.ndarray, scores: np.ndarray, *, distinct_pairs: bool = False) -> None:
        """Add interactions ``(items[i], users[i], scores[i])``; repeated pairs accumulate.

        ``distinct_pairs=True`` promises no ``(item, user)`` pair repeats within the call (true of
        one step of concurrent sessions, whose users differ), which allows a faster update.
        """
        items = np.asarray(items, dtype=np.int64)
        users = np.asarray(users, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        if distinct_pairs:
            old = self._user_scores[users, items].astype(np.float64)
            new = old + scores
            self._user_scores[users, items] = new
            np.add.at(self._squared_norms, items, new * new - old * old)
        else:
            np.add.at(self._user_scores, (users, items), scores)
            changed = np.unique(items)
            self._squared_norms[changed] = np.square(self._user_scores[:, changed].astype(np.float64)).sum(axis=0)
        self._seen[users, items] = True
        # The sums hold half-integers (exact in float32 and float64), so the squared norms stay exact.
        norms = np.sqrt(self._squared_norms[items])
        self._unit_rows[items] = self._user_scores[:, items].T / np.where(norms > 0.0, norms, 1.0)[:, None]
        self.n_interactions += len(items)

    def scores(self, users: np.ndarray) -> np.ndarray:
        """Return the CF score of every item for each user, shape ``(len(users), n_items)`` float32."""
        user_rows = self._user_scores[np.asarray(users, dtype=np.int64)]
        # For a few users the products are small, and multi-threaded BLAS on a busy machine spins
        # instead of computing (tens of times slower): run them on one thread.
        small = len(user_rows) < _THREADED_BATCH
        with _blas().limit(limits=1, user_api="blas") if small else contextlib.nullcontext():
            return (user_rows @ self._unit_rows) @ self._unit_rows.T


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
