"""Top-k selection with the seed's tie order: higher score first, lower item id first among equals."""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the ``k`` best item ids of each row, best first; equal scores keep ascending item id.

    The seed ranks with a stable sort over items in id order, so ties go to the lower id.
    This gives the same result with one partition per row instead of a full sort.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_rows, n_items)`` float scores; ``-inf`` marks items to rank last.
    k : int
        Items to keep, ``1 <= k <= n_items``.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, k)`` int64 item ids.
    """
    n_rows, n_items = scores.shape
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k!r}")
    kth = np.partition(scores, n_items - k, axis=1)[:, n_items - k][:, None]
    above = scores > kth
    tied = scores == kth
    needed = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= needed))
    ids = np.nonzero(chosen)[1].reshape(n_rows, k)  # row-major: ascending ids within each row
    order = np.argsort(-np.take_along_axis(scores, ids, axis=1), axis=1, kind="stable")
    return np.take_along_axis(ids, order, axis=1)
