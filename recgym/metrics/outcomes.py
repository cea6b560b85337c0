"""Outcome rates: the share of steps on which the user watched, liked, skipped or ended the session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

OUTCOME_RATES: Mapping[str, str] = {
    "watched": "watch_rate",
    "liked": "like_rate",
    "skipped": "skip_rate",
    "session_end": "end_rate",
}
"""Each ``info["outcome"]`` name of the short-video envs and the name of its rate."""


def outcome_counts(outcomes: ArrayLike) -> dict[str, int]:
    """How many of ``outcomes`` are each name of :data:`OUTCOME_RATES`.

    Parameters
    ----------
    outcomes : array_like of str
        Outcome names, one per step (``info["outcome"]``).

    Returns
    -------
    dict of str to int
        Outcome name to count, in the order of :data:`OUTCOME_RATES` (other names are not counted).
    """
    values = np.asarray(outcomes)
    return {name: int(np.count_nonzero(values == name)) for name in OUTCOME_RATES}


def rates_from_counts(counts: Mapping[str, Any], steps: Any) -> dict[str, Any]:
    """Outcome rates from counts: ``count / steps`` under each rate's name (NaN where ``steps`` is 0).

    Parameters
    ----------
    counts : Mapping of str to int or numpy.ndarray
        Outcome name to count (a name missing counts 0); arrays give one rate per entry.
    steps : int or numpy.ndarray
        Steps the counts were taken over (the denominator; every step has one outcome).

    Returns
    -------
    dict of str to float or numpy.ndarray
        ``watch_rate``, ``like_rate``, ``skip_rate`` and ``end_rate`` (floats for scalar input).

    Examples
    --------
    >>> rates_from_counts({"watched": 3, "skipped": 1}, 4)
    {'watch_rate': 0.75, 'like_rate': 0.0, 'skip_rate': 0.25, 'end_rate': 0.0}
    """
    total = np.asarray(steps)
    if np.any(total < 0):
        raise ValueError(f"steps must be >= 0, got {steps!r}")
    rates = {}
    for name, rate in OUTCOME_RATES.items():
        value = np.where(total > 0, np.asarray(counts.get(name, 0)) / np.maximum(total, 1), np.nan)
        rates[rate] = float(value) if value.ndim == 0 else value
    return rates


def outcome_rates(outcomes: ArrayLike) -> dict[str, float]:
    """The share of ``outcomes`` that is each outcome (see :func:`rates_from_counts`)."""
    values = np.asarray(outcomes)
    return rates_from_counts(outcome_counts(values), values.size)
