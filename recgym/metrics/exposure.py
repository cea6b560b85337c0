"""Exposure concentration: how unequally impressions are spread over creators (or items), as a Gini coefficient."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def gini(values: ArrayLike) -> float:
    """Gini coefficient of non-negative amounts (exposure per creator, say).

    ``G = sum_i sum_j |x_i - x_j| / (2 K sum_i x_i)`` over the ``K`` amounts, computed from the
    sorted amounts as ``2 sum_i i x_(i) / (K sum x) - (K + 1) / K``. 0 when every amount is equal;
    ``(K - 1) / K`` when one holder has everything. Holders with nothing count: pass every creator,
    including those never shown.

    Parameters
    ----------
    values : array_like of float, shape ``(K,)``
        Non-negative amounts, ``K >= 1``.

    Returns
    -------
    float
        In ``[0, (K - 1) / K]``; NaN when every amount is 0.

    Examples
    --------
    >>> gini([0, 0, 0, 4])
    0.75
    >>> gini([2, 2])
    0.0
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if x.size == 0:
        raise ValueError("values must hold at least one amount")
    if not np.all(np.isfinite(x)) or x[0] < 0:
        raise ValueError("values must be finite and non-negative")
    total = x.sum()
    if total == 0:
        return float("nan")
    k = x.size
    ranks = np.arange(1, k + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, x) / (k * total) - (k + 1.0) / k)


def exposure_counts(ids: ArrayLike, size: int) -> np.ndarray:
    """Impressions of each of ``size`` holders (creators, items) from the shown ids: ``bincount`` with every holder."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    values = np.asarray(ids, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= size):
        raise ValueError(f"ids must lie in [0, {size}), got values from {values.min()} to {values.max()}")
    return np.bincount(values, minlength=size)


def exposure_gini(ids: ArrayLike, size: int) -> float:
    """Gini coefficient of the impressions of ``size`` holders, given the holder of each impression.

    Examples
    --------
    >>> exposure_gini([1, 1, 1, 1], 4)  # every impression to one of four creators
    0.75
    """
    return gini(exposure_counts(ids, size))
