"""Helpers shared by the test modules (imported as ``helpers``; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os

import numpy as np
import pytest

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


# ---------------------------------------------------------------------------------------------- rating world
RATINGS_IDS = ("RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0")
SMALL_RATINGS_WORLD = {"n_users": 12, "n_items": 20, "n_features": 4, "frame_size": 4, "embedding_dim": 5}
"""A rating world small enough for brute-force checks (both rating ids accept every key)."""


def ratings_actions(env_id: str, users: np.ndarray, n_items: int, embedding_dim: int) -> np.ndarray:
    """A deterministic policy: item ``(user * 7) % n_items``, or a fixed vector in [-1, 1] per user (embedding id)."""
    users = np.asarray(users, dtype=np.int64)
    if env_id == "RecGym-Ratings-v0":
        return (users * 7) % n_items
    return np.sin(np.outer(users + 1, np.arange(1, embedding_dim + 1)) * 0.7).astype(np.float32)


def brute_force_regrets(user_attributes: np.ndarray, item_attributes: np.ndarray, users, items) -> np.ndarray:
    """``max_j P_u · Q_j - P_u · Q_i`` for each pair, one dot product at a time (independent of the package)."""
    out = []
    for user, item in zip(np.asarray(users).tolist(), np.asarray(items).tolist(), strict=True):
        means = [float(np.dot(user_attributes[user], q)) for q in item_attributes]
        out.append(max(means) - means[item])
    return np.asarray(out)


def expected_frame(log, user_uid: int, item_uid: np.ndarray, frame_size: int) -> tuple[np.ndarray, np.ndarray]:
    """A user's frame rebuilt from the interaction log: the last ``frame_size`` ratings by ``user_uid``, newest
    first; entries whose item has since been retired (its position now holds another ``item_uid``) are -1."""
    rows = log[log["user_uid"] == user_uid].iloc[::-1].iloc[:frame_size]
    items = np.full(frame_size, -1, dtype=np.int64)
    ratings = np.zeros(frame_size, dtype=np.float64)
    for j, (item, uid, rating) in enumerate(zip(rows["item"], rows["item_uid"], rows["rating"], strict=True)):
        if item_uid[item] == uid:
            items[j], ratings[j] = item, rating
    return items, ratings


# ---------------------------------------------------------------------------------------------- real rating log
def real_log_path():
    """MovieLens-100K inside recbole: skipped when recbole is absent, except under CI where it must be installed."""
    from recgym.data import movielens_100k_path
    from recgym.data.movielens import RECBOLE_INSTALL

    try:
        return movielens_100k_path()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install the real log: {error}")
        pytest.skip(f"MovieLens-100K not installed ({RECBOLE_INSTALL}): {error}")


def assert_same(a, b) -> None:
    """Equal values of equal types through dicts, tuples and lists; arrays element for element."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b
