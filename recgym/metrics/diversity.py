"""Diversity of what was shown: how often two shown items belong to different categories.

**Intra-list diversity** of a list of ``n`` shown items (an episode's impressions) is the share of
its ``n (n - 1) / 2`` unordered pairs of positions whose items have different categories::

    diversity = 1 - sum_c n_c (n_c - 1) / (n (n - 1))

where ``n_c`` items of the list are in category ``c``. It is 0 when every item shares one
category, and 1 when no two items share one (possible only when ``n <= n_categories``). It is
undefined (NaN) for fewer than two items. It is the unbiased Gini-Simpson index of the
categories shown, and the mean pairwise distance of the list under the 0/1 category distance.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def diversity_from_counts(counts: ArrayLike) -> np.ndarray | float:
    """Intra-list diversity (see the module docstring) from per-category counts.

    Parameters
    ----------
    counts : array_like of int, shape ``(n_categories,)`` or ``(n_lists, n_categories)``
        Items of each category in a list (a row per list).

    Returns
    -------
    float or numpy.ndarray of float64, shape ``(n_lists,)``
        The diversity of each list; NaN for lists of fewer than two items.

    Examples
    --------
    >>> round(diversity_from_counts([2, 1, 0]), 4)  # pairs: (a, a) same, (a, b) twice different
    0.6667
    """
    values = np.asarray(counts, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"counts must have 1 or 2 dimensions, got shape {values.shape}")
    if np.any(values < 0):
        raise ValueError("counts must be non-negative")
    rows = np.atleast_2d(values)
    n = rows.sum(axis=1)
    same = np.sum(rows * (rows - 1.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(n >= 2, 1.0 - same / (n * (n - 1.0)), np.nan)
    return float(result[0]) if values.ndim == 1 else result


def intra_list_diversity(categories: ArrayLike) -> float:
    """Intra-list diversity (see the module docstring) of a list of shown items' categories.

    Parameters
    ----------
    categories : array_like
        The category (code or name) of each shown item, in any order.

    Returns
    -------
    float
        Share of pairs of shown items in different categories; NaN for fewer than two items.

    Examples
    --------
    >>> round(intra_list_diversity(["comedy", "comedy", "news"]), 4)
    0.6667
    """
    _, counts = np.unique(np.asarray(categories).ravel(), return_counts=True)
    return float(diversity_from_counts(counts)) if counts.size else float("nan")
