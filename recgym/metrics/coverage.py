"""Coverage: how much of the catalogue, or of the categories, a policy showed."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def distinct_share(ids: ArrayLike, size: int) -> float:
    """Distinct values of ``ids`` divided by ``size``: the share of a set of ``size`` things that was shown.

    Parameters
    ----------
    ids : array_like of int
        Shown ids (repeats count once), each in ``[0, size)``.
    size : int
        Size of the set (catalogue, categories).

    Returns
    -------
    float
        In ``[0, 1]``; 0 for no ids.

    Examples
    --------
    >>> distinct_share([3, 3, 7], 10)
    0.2
    """
    size = _positive("size", size)
    values = np.asarray(ids, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= size):
        raise ValueError(f"ids must lie in [0, {size}), got values from {values.min()} to {values.max()}")
    return float(np.unique(values).size / size)


def share_shown(counts: ArrayLike) -> float:
    """Share of holders with at least one impression, from impressions per holder (``bincount`` over every holder)."""
    values = np.asarray(counts).ravel()
    if values.size == 0:
        raise ValueError("counts must hold at least one holder")
    return float(np.count_nonzero(values) / values.size)


def catalogue_coverage(items: ArrayLike, catalogue_size: int) -> float:
    """Share of the catalogue's ``catalogue_size`` items that appear in ``items`` (distinct items / catalogue size)."""
    return distinct_share(items, catalogue_size)


def category_coverage(categories: ArrayLike, n_categories: int) -> float:
    """Share of the ``n_categories`` categories that appear in ``categories`` (category codes)."""
    return distinct_share(categories, n_categories)
