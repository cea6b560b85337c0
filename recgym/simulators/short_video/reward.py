"""Rewards and collaborative-filtering scores: plain table look-ups by outcome code (RecSim's injected reward)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recgym.simulators.short_video.outcomes import OUTCOME_NAMES


def outcome_table(name: str, values: Mapping[str, float]) -> np.ndarray:
    """Turn a ``{outcome name: value}`` mapping into a float64 array indexed by outcome code.

    Parameters
    ----------
    name : str
        The knob's name, for error messages.
    values : Mapping[str, float]
        One finite value for each of ``watched``, ``skipped``, ``liked`` and ``session_end``.

    Returns
    -------
    numpy.ndarray
        Shape ``(4,)``, dtype float64.
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"{name} must be a mapping from outcome names {list(OUTCOME_NAMES)} to numbers, got {values!r}")
    unknown = set(values) - set(OUTCOME_NAMES)
    missing = set(OUTCOME_NAMES) - set(values)
    if unknown or missing:
        raise ValueError(
            f"{name} must have exactly the keys {list(OUTCOME_NAMES)}, got {sorted(map(str, values))!r}"
        )
    table = np.empty(len(OUTCOME_NAMES), dtype=np.float64)
    for code, outcome in enumerate(OUTCOME_NAMES):
        value = values[outcome]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
            raise ValueError(f"{name}[{outcome!r}] must be a finite number, got {value!r}")
        table[code] = float(value)
    return table

