"""The course's rating protocol over RecGym-Ratings-v0, checked against the env's own log (no HTTP here)."""

import math

import gymnasium as gym
import numpy as np
import pytest
from helpers import binomial_tolerance

import recgym  # noqa: F401  (registers the ids)
from recgym.serve.rating_protocol import RatingProtocol, history_arrays

WORLD = {"n_users": 20, "n_items": 15, "n_features": 4, "n_history": 3}


def _exchange(seed, predictions, **kwargs):
    protocol = RatingProtocol(gym.make("RecGym-Ratings-v0", **{**WORLD, **kwargs}))
    first = protocol.reset(seed)
    answers = [protocol.predict(score) for score in predictions]
    return protocol, first, answers


def test_reset_returns_the_worlds_history_aligned_and_the_first_pair():
    protocol, first, _ = _exchange(7, [])
    log = protocol.env.unwrapped.interaction_log()
    history = log[log["period"] == -1]
    users, items, ratings = history_arrays(first)
    assert len(users) == WORLD["n_users"] * WORLD["n_history"]
    assert np.array_equal(users, history["user_uid"]) and np.array_equal(items, history["item_uid"])
    assert np.array_equal(ratings, history["rating"])
    assert (first["nb_users"], first["nb_items"]) == (WORLD["n_users"], WORLD["n_items"])
    simulator = protocol.env.unwrapped.simulator
    assert first["next_user"] == simulator.user_uid[protocol.env.unwrapped.pending_user]
    assert 0 <= first["next_item"] < WORLD["n_items"]


def test_each_rating_is_the_proposed_users_rating_of_the_proposed_item():
    predictions = np.linspace(0.0, 3.0, 70)
    protocol, first, answers = _exchange(3, predictions)
    log = protocol.env.unwrapped.interaction_log()
    served = log[log["period"] >= 0]
    proposed = [(first["next_user"], first["next_item"])] + [(a["next_user"], a["next_item"]) for a in answers[:-1]]
    assert list(zip(served["user_uid"], served["item_uid"], strict=True)) == proposed
    assert [a["rating"] for a in answers] == served["rating"].tolist()
    # The ratings are the world's: mean Q_i . P_u plus noise of std noise_std (0.1).
    residuals = served["rating"] - served["mean_rating"]
    assert abs(residuals.std() - 0.1) < 0.03
    score = protocol.score()
    errors = predictions - served["rating"].to_numpy()
    assert score["predictions"] == 70
    assert score["rmse"] == pytest.approx(math.sqrt(np.mean(errors**2)), rel=1e-12)
    assert score["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-12)
    assert score["oracle_rmse"] == pytest.approx(math.sqrt(np.mean(residuals**2)), rel=1e-12)


def test_every_user_comes_once_per_period_and_items_are_uniform():
    n_users, n_items, periods = WORLD["n_users"], WORLD["n_items"], 150
    _, first, answers = _exchange(11, np.zeros(n_users * periods))
    users = np.array([first["next_user"]] + [a["next_user"] for a in answers[:-1]]).reshape(periods, n_users)
    assert all(sorted(row) == list(range(n_users)) for row in users)
    items = np.array([first["next_item"]] + [a["next_item"] for a in answers[:-1]])
    share = np.bincount(items, minlength=n_items) / len(items)
    assert np.all(np.abs(share - 1 / n_items) < binomial_tolerance(1 / n_items, len(items)))


def test_new_users_and_items_appear_with_new_ids():
    _, first, answers = _exchange(5, np.zeros(WORLD["n_users"] * 6), new_users_per_period=3, new_items_per_period=3)
    users = {a["next_user"] for a in answers}
    items = {a["next_item"] for a in answers}
    assert max(users) >= first["nb_users"] and max(items) >= first["nb_items"]
    assert len(users) > first["nb_users"]


def test_same_seed_same_exchange_and_episode_length_changes_nothing():
    predictions = np.full(60, 1.0)
    _, first, answers = _exchange(9, predictions)
    _, first_again, answers_again = _exchange(9, predictions, max_steps=7)  # internal resets every 7 requests
    assert first == first_again and answers == answers_again
    _, other, _ = _exchange(10, predictions)
    assert other != first


def test_bad_use_raises_clear_errors():
    protocol = RatingProtocol(gym.make("RecGym-Ratings-v0", **WORLD))
    assert protocol.score() == {"predictions": 0, "rmse": None, "mae": None, "oracle_rmse": None}
    with pytest.raises(RuntimeError, match="call reset first"):
        protocol.predict(1.0)
    protocol.reset(0)
    for bad in (float("nan"), float("inf"), "1.0", None, True):
        with pytest.raises(ValueError, match="predicted_score must be a finite real number"):
            protocol.predict(bad)
    for bad in (1e200, -1e6 - 1, 2e6):
        with pytest.raises(ValueError, match=r"predicted_score must lie within \[-1e\+06, 1e\+06\], got "):
            protocol.predict(bad)
    assert protocol.score()["predictions"] == 0  # refused predictions serve no pair
    with pytest.raises(ValueError, match="needs a RecGym-Ratings-v0 env"):
        RatingProtocol(gym.make("RecGym-RatingsEmbedding-v0", **WORLD))
