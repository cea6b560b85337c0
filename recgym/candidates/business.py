"""Business re-scoring of CF candidates (SPEC §1, phase 2)."""

from __future__ import annotations

import numpy as np


def business_scores(
    similarity: np.ndarray,
    views: np.ndarray,
    is_interest: np.ndarray,
    weights: tuple[float, float, float],
    views_scale: float,
) -> np.ndarray:
    """Return ``w1 * similarity + w2 * (views_scale * views) + w3 * is_interest``.

    Parameters
    ----------
    similarity : numpy.ndarray
        CF scores of the candidates.
    views : numpy.ndarray
        Their view counts.
    is_interest : numpy.ndarray
        Whether each candidate's category is one of the user's interests.
    weights : (float, float, float)
        ``(w1, w2, w3)``; the seed's are ``(0.5, 0.1, 0.3)``.
    views_scale : float
        The seed's 0.1 applied to the view count.
    """
    w_similarity, w_views, w_interest = weights
    return w_similarity * similarity + w_views * (views_scale * views) + w_interest * is_interest
