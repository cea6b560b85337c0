"""Checks for user-given knobs: each raises ``ValueError`` naming the knob, its value and what is allowed.

``assert`` is never used for user input: it vanishes under ``python -O``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer within ``[minimum, maximum]``."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` within the given bounds."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value!r}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def check_range(name: str, value: Any, *, minimum: float | None = None, integer: bool = False) -> tuple[float, float]:
    """Return a ``(low, high)`` pair with ``low <= high`` (both ``>= minimum`` when given)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
    check = check_int if integer else check_real
    low = check(f"{name}[0]", value[0], minimum=minimum)  # type: ignore[operator]
    high = check(f"{name}[1]", value[1], minimum=minimum)  # type: ignore[operator]
    if low > high:
        raise ValueError(f"{name} must satisfy low <= high, got {value!r}")
    return (low, high)


def check_names(name: str, value: Any, *, minimum_length: int = 1) -> tuple[str, ...]:
    """Return a tuple of distinct, non-empty strings with at least ``minimum_length`` entries."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a sequence of distinct names, got {value!r}")
    names = tuple(value)
    if len(names) < minimum_length:
        raise ValueError(f"{name} must hold at least {minimum_length} names, got {value!r}")
    if not all(isinstance(item, str) and item for item in names):
        raise ValueError(f"{name} must hold non-empty strings, got {value!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{name} must hold distinct names, got {value!r}")
    return names


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)!r}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (not 0, 1 or another truthy value)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value
