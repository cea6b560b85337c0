"""Regret summaries: how far the recommended items' mean ratings fall below the best item's."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def regret_summary(regrets: ArrayLike) -> dict[str, float]:
    """Mean and total of per-step regrets (``info["regret"]`` of the rating envs).

    Parameters
    ----------
    regrets : array_like of float
        One regret per step, each ``>= 0`` (best mean rating minus the recommended item's).

    Returns
    -------
    dict of str to float
        ``regret`` (mean per step; NaN for no steps), ``cumulative_regret`` (sum) and
        ``zero_regret_rate`` (share of steps that recommended a best item; NaN for no steps).

    Examples
    --------
    >>> regret_summary([0.0, 0.5, 1.0])
    {'regret': 0.5, 'cumulative_regret': 1.5, 'zero_regret_rate': 0.3333333333333333}
    """
    values = np.asarray(regrets, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError("regrets must be finite")
    return regret_from_totals(float(values.sum()), int(np.count_nonzero(values == 0.0)), values.size)


def regret_from_totals(total: Any, zero_steps: Any, steps: Any) -> dict[str, Any]:
    """:func:`regret_summary` from running totals: the regrets' sum, the steps with zero regret, and the steps.

    Arrays give one summary per entry (NaN means where ``steps`` is 0); scalars give floats.
    """
    total, zero_steps, steps = (np.asarray(value, dtype=np.float64) for value in (total, zero_steps, steps))
    denominator = np.maximum(steps, 1.0)
    summary = {
        "regret": np.where(steps > 0, total / denominator, np.nan),
        "cumulative_regret": total,
        "zero_regret_rate": np.where(steps > 0, zero_steps / denominator, np.nan),
    }
    return {key: float(value) if value.ndim == 0 else value for key, value in summary.items()}
