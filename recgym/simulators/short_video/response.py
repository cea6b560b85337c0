"""How a user responds to a shown video: the continuation probability and the outcome draw (SPEC §1)."""

from __future__ import annotations

import numpy as np

from recgym.simulators.short_video.outcomes import LIKED, SESSION_END, SKIPPED, WATCHED

# Constants as 0-d arrays: ufuncs on the tiny arrays of a step take them faster than Python floats.
_ZERO, _ONE, _EPSILON, _MINUS_ONE = (np.array(value) for value in (0.0, 1.0, 1e-12, -1.0))


def _outcome_table(*alternatives: int) -> tuple[np.ndarray, np.ndarray]:
    """Outcome codes indexed as in _draw, and the number of alternatives to "watched"."""
    # Index n (u just below 1 may round the ratio up to 1) repeats the last alternative; index -1 is WATCHED.
    codes = np.array([*alternatives, alternatives[-1], WATCHED], dtype=np.int64)
    return codes, np.array(float(len(alternatives)))


_SESSION_OUTCOMES = _outcome_table(SKIPPED, LIKED, SESSION_END)
_HISTORY_OUTCOMES = _outcome_table(SKIPPED, LIKED)


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


def clip_probability(p: np.ndarray) -> np.ndarray:
    """Clip ``p`` to [0, 1] (the last step of :func:`continuation_probability`)."""
    return np.minimum(np.maximum(p, _ZERO), _ONE)


def _draw(p: np.ndarray, uniforms: np.ndarray, table: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    # One uniform per outcome: below p is "watched"; the rest of [p, 1) splits evenly among the
    # n alternatives, by the integer part of ``(u - p) / (1 - p) * n``, which is at most n (u < 1).
    # It is negative exactly when u < p: clipped to -1, it picks WATCHED, the last code.
    codes, n_alternatives = table
    index = (uniforms - p) / np.maximum(_ONE - p, _EPSILON) * n_alternatives
    return codes[np.maximum(np.floor(index), _MINUS_ONE).astype(np.int64)]


def sample_session_outcomes(p: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Int64 outcome codes in a session: watched with probability ``p``; skipped, liked, session_end ``(1-p)/3`` each.

    ``uniforms`` are ``Uniform(0, 1)`` draws of the same shape as ``p`` (the caller's seeded generator).
    """
    return _draw(p, uniforms, _SESSION_OUTCOMES)


def sample_history_outcomes(p: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Int64 outcome codes of the historical log: watched with probability ``p``; skipped, liked ``(1-p)/2`` each."""
    return _draw(p, uniforms, _HISTORY_OUTCOMES)
