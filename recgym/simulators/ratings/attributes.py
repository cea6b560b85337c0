"""Distributions of the hidden user and item attributes (seed 000 draws both from Uniform(0, 1))."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from recgym._validation import check_choice, check_real

Sampler = Callable[[np.random.Generator, float, float, tuple[int, ...]], np.ndarray]

ATTRIBUTE_DISTRIBUTIONS: Mapping[str, Sampler] = {
    "uniform": lambda rng, a, b, shape: rng.uniform(a, b, size=shape),
    "normal": lambda rng, a, b, shape: rng.normal(a, b, size=shape),
    "beta": lambda rng, a, b, shape: rng.beta(a, b, size=shape),
}
"""Name -> sampler. Parameters ``(a, b)`` are (low, high) for ``uniform``, (mean, std) for ``normal``
and (alpha, beta) for ``beta``."""


def check_distribution(name: str, distribution: Any, params_name: str, params: Any) -> tuple[str, tuple[float, float]]:
    """Validate a distribution name and its two parameters; return them normalised."""
    check_choice(name, distribution, tuple(ATTRIBUTE_DISTRIBUTIONS))
    if isinstance(params, np.ndarray):
        params = params.tolist()
    if not isinstance(params, Sequence) or isinstance(params, str) or len(params) != 2:
        raise ValueError(f"{params_name} must be a pair of numbers, got {params!r}")
    a = check_real(f"{params_name}[0]", params[0])
    b = check_real(f"{params_name}[1]", params[1])
    if distribution == "uniform" and a > b:
        raise ValueError(f"{params_name} must be (low, high) with low <= high for 'uniform', got {params!r}")
    if distribution == "normal" and b < 0:
        raise ValueError(f"{params_name} must be (mean, std) with std >= 0 for 'normal', got {params!r}")
    if distribution == "beta" and (a <= 0 or b <= 0):
        raise ValueError(f"{params_name} must be (alpha, beta), both > 0, for 'beta', got {params!r}")
    return distribution, (a, b)


def sample_attributes(
    rng: np.random.Generator, distribution: str, params: tuple[float, float], n: int, n_features: int
) -> np.ndarray:
    """Draw ``(n, n_features)`` float64 attributes."""
    a, b = params
    return np.asarray(ATTRIBUTE_DISTRIBUTIONS[distribution](rng, a, b, (n, n_features)), dtype=np.float64)
