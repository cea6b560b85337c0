"""The ratings of the last few batches, summed per (user, item) pair and updated batch by batch.

:class:`agents.thompson_mf.ThompsonMF` keeps its last batches revisable: at every ``learn`` it
needs, for each (user, item) pair of the window, how many ratings the pair has and their sum.
Building that from every rating of the window costs a sort of all of them per batch (SciPy's
duplicate summing took a third of a period). Here each batch is summed per pair once, when it
arrives (:func:`pair_ratings`), and :class:`RatingWindow` keeps the window's pairs as sorted keys,
merging the new batch in and taking the oldest out with ``searchsorted``: a batch costs in the
size of the batch and of the window's pairs, never in the number of batches before it.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np


class PairRatings(NamedTuple):
    """Ratings summed per (user, item) pair, the pairs sorted by user, then item.

    Attributes
    ----------
    keys : numpy.ndarray of int64, shape (n_pairs,)
        ``user * n_items + item`` of each pair, strictly increasing.
    users, items : numpy.ndarray of int64, shape (n_pairs,)
        The pairs' users and items.
    counts : numpy.ndarray of float64, shape (n_pairs,)
        Ratings of each pair (whole numbers, >= 1).
    sums : numpy.ndarray of float64, shape (n_pairs,)
        Sum of each pair's ratings.
    """

    keys: np.ndarray
    users: np.ndarray
    items: np.ndarray
    counts: np.ndarray
    sums: np.ndarray


def _from_keys(keys: np.ndarray, counts: np.ndarray, sums: np.ndarray, n_items: int) -> PairRatings:
    users = keys // n_items
    return PairRatings(keys, users, keys - users * n_items, counts, sums)


def _merge(old: np.ndarray, new: np.ndarray, is_new: np.ndarray) -> np.ndarray:
    """``old`` and ``new`` interleaved: ``new`` where ``is_new`` is True, ``old`` elsewhere (both in order)."""
    merged = np.empty(len(is_new), dtype=old.dtype)
    merged[is_new] = new
    merged[~is_new] = old
    return merged


def pair_ratings(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_items: int) -> PairRatings:
    """Sum a batch of ratings per (user, item) pair.

    Parameters
    ----------
    users, items : numpy.ndarray of int64, shape (n,)
        Valid ids (``items`` in ``[0, n_items)``).
    ratings : numpy.ndarray of float64, shape (n,)
    n_items : int

    Returns
    -------
    PairRatings
    """
    keys, inverse = np.unique(users * n_items + items, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(keys)).astype(np.float64)
    sums = np.bincount(inverse, weights=ratings, minlength=len(keys))
    return _from_keys(keys, counts, sums, n_items)


class RatingWindow:
    """The last batches of ratings, each summed per pair, and their union summed per pair.

    Parameters
    ----------
    n_items : int
        Items are ids in ``[0, n_items)`` (they number the keys).

    Examples
    --------
    >>> import numpy as np
    >>> window = RatingWindow(n_items=3)
    >>> window.append(pair_ratings(np.array([0, 0, 1]), np.array([2, 2, 0]), np.array([1.0, 2.0, 4.0]), 3))
    >>> window.append(pair_ratings(np.array([0]), np.array([2]), np.array([5.0]), 3))
    >>> window.pairs().counts.tolist(), window.pairs().sums.tolist()
    ([3.0, 1.0], [8.0, 4.0])
    >>> _ = window.popleft()
    >>> len(window), window.pairs().users.tolist(), window.pairs().sums.tolist()
    (1, [0], [5.0])
    """

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items
        self._batches: deque[PairRatings] = deque()
        self._keys = np.empty(0, dtype=np.int64)
        self._counts = np.empty(0)
        self._sums = np.empty(0)

    def __len__(self) -> int:
        """Number of batches in the window."""
        return len(self._batches)

    def append(self, batch: PairRatings) -> None:
        """Add a batch (from :func:`pair_ratings`) as the newest of the window."""
        position = np.searchsorted(self._keys, batch.keys)
        found = position < len(self._keys)
        found[found] = self._keys[position[found]] == batch.keys[found]
        # The batch's keys are distinct, so each found pair is updated once.
        self._counts[position[found]] += batch.counts[found]
        self._sums[position[found]] += batch.sums[found]
        new = ~found
        if new.any():
            # Merge the new pairs in (the result of np.insert, with its index arithmetic done once for the three arrays).
            at = np.flatnonzero(new)
            merged = np.zeros(len(self._keys) + len(at), dtype=bool)
            merged[position[at] + np.arange(len(at))] = True
            self._keys, self._counts, self._sums = (
                _merge(old, batch_values[at], merged)
                for old, batch_values in ((self._keys, batch.keys), (self._counts, batch.counts), (self._sums, batch.sums))
            )
        self._batches.append(batch)

    def popleft(self) -> PairRatings:
        """Take the oldest batch out of the window and return it."""
        batch = self._batches.popleft()
        position = np.searchsorted(self._keys, batch.keys)
        self._counts[position] -= batch.counts
        self._sums[position] -= batch.sums
        kept = self._counts > 0.5  # counts are whole numbers
        if not kept.all():
            self._keys, self._counts, self._sums = self._keys[kept], self._counts[kept], self._sums[kept]
        return batch

    def pairs(self) -> PairRatings:
        """Every pair of the window with its count and sum of ratings (views of the window's arrays: do not modify)."""
        return _from_keys(self._keys, self._counts, self._sums, self.n_items)
