"""How a user responds to a shown video: the continuation probability and the outcome draw (SPEC §1)."""

from __future__ import annotations

import numpy as np

from recgym.simulators.short_video.outcomes import LIKED, SESSION_END, SKIPPED, WATCHED

_SESSION_ALTERNATIVES = np.array([SKIPPED, LIKED, SESSION_END], dtype=np.int8)
_HISTORY_ALTERNATIVES = np.array([SKIPPED, LIKED], dtype=np.int8)


def continuation_probability(
    base: np.ndarray,
    is_interest: np.ndarray,
    location_effect: np.ndarray,
    interest_bonus: float,
    in_session_shift: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Return ``clip(base + interest_bonus * is_interest + location_effect + in_session_shift, 0, 1)``.

    Parameters
    ----------
    base : numpy.ndarray
        ``(n,)`` float64 draws of the base propensity.
    is_interest : numpy.ndarray
        ``(n,)`` bool, whether the video's category is one of the user's interests.
    location_effect : numpy.ndarray
        ``(n,)`` float64 location bonus or penalty for the (user location, category) pair.
    interest_bonus : float
        Added for in-interest videos.
    in_session_shift : numpy.ndarray or float
        Mood minus boredom in the fatigue variant; 0 otherwise.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64 in [0, 1]. The seed only capped at 1, so its outcome weights could go
        negative; clipping at 0 fixes that.
    """
    p = base + interest_bonus * is_interest + location_effect + in_session_shift
    return np.minimum(np.maximum(p, 0.0), 1.0)


def _draw(p: np.ndarray, uniforms: np.ndarray, alternatives: np.ndarray) -> np.ndarray:
    # One uniform per outcome: below p is "watched"; the rest of [p, 1) splits evenly among the alternatives.
    rest = (uniforms - p) / np.maximum(1.0 - p, 1e-12) * len(alternatives)
    picked = alternatives[np.minimum(np.maximum(rest, 0.0), len(alternatives) - 1).astype(np.int64)]
    return np.where(uniforms < p, np.int8(WATCHED), picked)


def sample_session_outcomes(p: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Outcome codes in a session: watched with probability ``p``; skipped, liked, session_end ``(1-p)/3`` each.

    ``uniforms`` are ``Uniform(0, 1)`` draws of the same shape as ``p`` (the caller's seeded generator).
    """
    return _draw(p, uniforms, _SESSION_ALTERNATIVES)


def sample_history_outcomes(p: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Outcome codes of the historical log: watched with probability ``p``; skipped, liked ``(1-p)/2`` each."""
    return _draw(p, uniforms, _HISTORY_ALTERNATIVES)
