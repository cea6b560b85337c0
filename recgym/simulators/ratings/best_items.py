"""Each user's best item on mean ratings, found block by block so the users × items matrix never has to fit."""

from __future__ import annotations

import numpy as np


def best_items(
    user_attributes: np.ndarray, item_attributes: np.ndarray, chunk_bytes: int = 64 * 2**20
) -> tuple[np.ndarray, np.ndarray]:
    """Return every user's best item and its mean rating.

    Parameters
    ----------
    user_attributes : ndarray of shape (n_users, n_features)
    item_attributes : ndarray of shape (n_items, n_features)
    chunk_bytes : int
        Bound on the float64 block of mean ratings held at once; rows of users are processed
        ``max(1, chunk_bytes // (8 * n_items))`` at a time.

    Returns
    -------
    best_item : ndarray of int64, shape (n_users,)
        The lowest-numbered item with the highest mean rating (``argmax``'s tie rule).
    best_mean_rating : ndarray of float64, shape (n_users,)
    """
    n_users, n_items = len(user_attributes), len(item_attributes)
    rows = max(1, int(chunk_bytes) // (8 * max(n_items, 1)))
    best = np.empty(n_users, dtype=np.int64)
    best_mean = np.empty(n_users, dtype=np.float64)
    items_t = np.ascontiguousarray(item_attributes.T)
    for start in range(0, n_users, rows):
        block = user_attributes[start : start + rows] @ items_t
        chosen = block.argmax(axis=1)
        best[start : start + rows] = chosen
        best_mean[start : start + rows] = block[np.arange(len(block)), chosen]
        del block  # free it before the next product, so only one block is ever held
    return best, best_mean


def dense_best_items(user_attributes: np.ndarray, item_attributes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference for :func:`best_items`: the whole mean-rating matrix at once (small worlds only)."""
    means = user_attributes @ item_attributes.T
    chosen = means.argmax(axis=1)
    return chosen, means[np.arange(len(means)), chosen]
