"""Helpers shared by the test modules (imported as ``helpers``; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import numpy as np

ENV_IDS = ("RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0")
SMALL_WORLD = {"n_users": 30, "n_videos": 200}
"""A world small enough for brute-force checks and fast episodes."""

OUTCOMES = ("watched", "skipped", "liked", "session_end")
DEFAULT_REWARDS = {"watched": 1.0, "liked": 2.0, "skipped": -2.0, "session_end": -0.5}


def expected_clipped_uniform(shift: float, low: float = 0.0, high: float = 1.0, n: int = 400_000) -> float:
    """E[clip(U + shift, 0, 1)] for U ~ Uniform(low, high), by midpoint quadrature (independent of the package)."""
    if high == low:
        return float(np.clip(low + shift, 0.0, 1.0))
    u = low + (high - low) * (np.arange(n) + 0.5) / n
    return float(np.clip(u + shift, 0.0, 1.0).mean())


def binomial_tolerance(probability: float, n: int, sigmas: float = 5.0) -> float:
    """``sigmas`` standard errors of a frequency with success probability ``probability`` over ``n`` draws."""
    return sigmas * float(np.sqrt(max(probability * (1.0 - probability), 1e-12) / n))


def expected_clipped_standard_uniform(shift: np.ndarray) -> np.ndarray:
    """E[clip(U + shift, 0, 1)] for U ~ Uniform(0, 1), elementwise in closed form.

    ``shift + (1 - shift^2) / 2`` on [0, 1], ``(1 + shift)^2 / 2`` on [-1, 0], 1 above, 0 below
    (checked against :func:`expected_clipped_uniform` in test_response_model.py).
    """
    s = np.asarray(shift, dtype=np.float64)
    return np.where(s >= 1.0, 1.0, np.where(s >= 0.0, s + (1.0 - s**2) / 2.0, np.where(s >= -1.0, (1.0 + s) ** 2 / 2.0, 0.0)))
