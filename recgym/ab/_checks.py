"""Checks shared by the A/B statistics: probabilities in (0, 1), alternatives, shares."""

from __future__ import annotations

from typing import Any

from recgym._validation import check_choice, check_real

ALTERNATIVES = ("two-sided", "larger", "smaller")
"""Alternative hypotheses of the tests: B differs from A, B is larger, B is smaller."""


def check_open_unit(name: str, value: Any) -> float:
    """Return ``value`` as a float strictly inside (0, 1); raises ``ValueError`` naming ``name`` otherwise."""
    value = check_real(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return value


def check_alternative(alternative: Any) -> str:
    """Return ``alternative`` if it is one of :data:`ALTERNATIVES`."""
    return check_choice("alternative", alternative, ALTERNATIVES)
