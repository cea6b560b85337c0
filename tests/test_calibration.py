"""ALS in NumPy and rating worlds calibrated to logs: a slow reference, planted worlds, and MovieLens-100K."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from helpers import real_log_path

from recgym.calibration import ALSFactors, CalibratedWorld, calibrate_world, fit_als, fold_biases
from recgym.data import read_ratings, reindex_ratings


def planted(seed=7, n_users=200, n_items=150, rank=3, density=0.4, noise=0.1):
    """Ratings ``P_u · Q_i + Normal(0, noise)`` on a random ``density`` share of the pairs."""
    rng = np.random.default_rng(seed)
    P = rng.uniform(0.0, 1.0, (n_users, rank))
    Q = rng.uniform(0.0, 1.0, (n_items, rank))
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    means = np.einsum("ij,ij->i", P[users], Q[items])
    return P, Q, users, items, means, means + noise * rng.standard_normal(len(users))


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# ---------------------------------------------------------------------------------------------- ALS
def reference_sweep(users, items, ratings, initial, regularization, biases, weighted):
    """One ALS iteration the slow way: a ridge solve per user, then per item."""
    n_users, n_items, rank = initial.n_users, initial.n_items, initial.rank
    mean = ratings.mean() if biases else 0.0
    q = initial.item_factors.copy()
    b_item = initial.item_bias.copy() if biases else np.zeros(n_items)
    p, b_user = np.zeros((n_users, rank)), np.zeros(n_users)

    def ridge(features, targets):
        k = features.shape[1]
        lam = regularization * len(targets) if weighted else regularization
        return np.linalg.solve(features.T @ features + lam * np.eye(k), features.T @ targets)

    for u in range(n_users):
        rows = np.flatnonzero(users == u)
        if len(rows) == 0:
            continue
        if biases:
            x = ridge(np.column_stack([q[items[rows]], np.ones(len(rows))]), ratings[rows] - mean - b_item[items[rows]])
            p[u], b_user[u] = x[:rank], x[rank]
        else:
            p[u] = ridge(q[items[rows]], ratings[rows])
    q, b_item = np.zeros((n_items, rank)), np.zeros(n_items)
    for i in range(n_items):
        rows = np.flatnonzero(items == i)
        if len(rows) == 0:
            continue
        if biases:
            x = ridge(np.column_stack([p[users[rows]], np.ones(len(rows))]), ratings[rows] - mean - b_user[users[rows]])
            q[i], b_item[i] = x[:rank], x[rank]
        else:
            q[i] = ridge(p[users[rows]], ratings[rows])
    return p, q, b_user, b_item, mean


@pytest.mark.parametrize("biases", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_one_sweep_matches_a_per_user_reference(biases, weighted):
    rng = np.random.default_rng(3)
    n_users, n_items, rank = 9, 7, 3
    users = rng.integers(0, n_users - 1, 40)  # the last user has no ratings
    items = rng.integers(0, n_items - 1, 40)  # nor the last item
    ratings = rng.uniform(1, 5, 40)
    initial = ALSFactors(rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank)),
                         rng.normal(size=n_users), rng.normal(size=n_items), 0.0)
    fitted = fit_als(users, items, ratings, n_users, n_items, rank=rank, regularization=0.3, n_iterations=1,
                     biases=biases, initial=initial, weighted_regularization=weighted)
    p, q, b_user, b_item, mean = reference_sweep(users, items, ratings, initial, 0.3, biases, weighted)
    np.testing.assert_allclose(fitted.user_factors, p, atol=1e-10)
    np.testing.assert_allclose(fitted.item_factors, q, atol=1e-10)
    np.testing.assert_allclose(fitted.user_bias, b_user, atol=1e-10)
    np.testing.assert_allclose(fitted.item_bias, b_item, atol=1e-10)
    assert fitted.global_mean == pytest.approx(mean)
    # No ratings: zero factors and biases.
    assert not fitted.user_factors[-1].any() and not fitted.item_factors[-1].any()
    assert fitted.user_bias[-1] == 0 and fitted.item_bias[-1] == 0
    expected = mean + b_user[users] + b_item[items] + np.einsum("ij,ij->i", p[users], q[items])
    np.testing.assert_allclose(fitted.predict(users, items), expected, atol=1e-10)


def test_noiseless_planted_matrix_is_recovered_without_biases():
    P, Q, users, items, means, _ = planted(seed=11)
    fitted = fit_als(users, items, means, len(P), len(Q), rank=3, regularization=0.0, n_iterations=20, biases=False, rng=1)
    assert rmse(fitted.predict(users, items), means) < 1e-8
    assert rmse(fitted.user_factors @ fitted.item_factors.T, P @ Q.T) < 1e-6  # unseen pairs too
    assert fitted.global_mean == 0 and not fitted.user_bias.any() and not fitted.item_bias.any()


def test_warm_start_continues_the_fit_and_seeds_repeat():
    _, _, users, items, _, ratings = planted(seed=5, n_users=60, n_items=40)
    settings = {"n_users": 60, "n_items": 40, "rank": 4, "regularization": 0.05}
    whole = fit_als(users, items, ratings, n_iterations=5, rng=np.random.default_rng(9), **settings)
    first = fit_als(users, items, ratings, n_iterations=2, rng=np.random.default_rng(9), **settings)
    rest = fit_als(users, items, ratings, n_iterations=3, initial=first, rng=np.random.default_rng(123), **settings)
    np.testing.assert_allclose(rest.user_factors, whole.user_factors, atol=1e-10)
    np.testing.assert_allclose(rest.item_factors, whole.item_factors, atol=1e-10)
    np.testing.assert_allclose(rest.item_bias, whole.item_bias, atol=1e-10)
    again = fit_als(users, items, ratings, n_iterations=5, rng=9, **settings)
    np.testing.assert_array_equal(again.user_factors, whole.user_factors)
    other = fit_als(users, items, ratings, n_iterations=5, rng=10, **settings)
    assert not np.allclose(other.user_factors, whole.user_factors)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rank": 0}, "rank must be >= 1"),
        ({"regularization": -0.1}, "regularization must be >= 0"),
        ({"n_iterations": 0}, "n_iterations must be >= 1"),
        ({"n_users": 2}, r"users must lie in \[0, n_users=2\)"),
        ({"items": np.array([0, 1, 2])}, "one length"),
        ({"items": np.array([0.0, 1.0, 2.0, 3.0])}, "items must be a 1-D array of integers"),
        ({"ratings": np.array([1.0, np.nan, 3.0, 4.0])}, "ratings must be finite"),
        ({"initial": ALSFactors(np.zeros((5, 3)), np.zeros((4, 3)), np.zeros(5), np.zeros(4), 0.0)}, "initial must have"),
        ({"rng": "seed"}, "rng must be an integer"),
    ],
)
def test_fit_als_rejects_bad_arguments(change, words):
    arguments = {"users": np.array([0, 1, 2, 3]), "items": np.array([0, 1, 2, 3]), "ratings": np.array([1.0, 2, 3, 4]),
                 "n_users": 4, "n_items": 4, "rank": 2}
    with pytest.raises(ValueError, match=words):
        fit_als(**{**arguments, **change})


# ---------------------------------------------------------------------------------------------- calibration
def test_planted_world_is_recovered():
    P, Q, users, items, _, ratings = planted()
    world = calibrate_world(pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings}),
                            rank=3, regularization=0.01, n_iterations=20, seed=0)
    assert isinstance(world, CalibratedWorld)
    assert world.user_attributes.shape == (200, 5) and world.item_attributes.shape == (150, 5) and world.n_features == 5
    assert world.rmse_holdout < 0.15
    assert world.noise_std == world.rmse_holdout
    assert abs(world.noise_std - 0.1) < 0.03
    assert world.rmse_train < world.rmse_holdout
    # The hidden means, on every pair (most never rated), are close to the planted ones.
    assert rmse(world.user_attributes @ world.item_attributes.T, P @ Q.T) < 0.06
    np.testing.assert_array_equal(world.user_ids, np.arange(200))


def test_biases_fold_into_the_attributes_exactly():
    _, _, users, items, _, ratings = planted(seed=2, n_users=50, n_items=30)
    world = calibrate_world(pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings + 3.0}),
                            rank=2, n_iterations=3)
    factors = world.factors
    np.testing.assert_allclose(world.user_attributes[:, -2], 1.0)
    np.testing.assert_allclose(world.user_attributes[:, -1], factors.user_bias + factors.global_mean)
    np.testing.assert_allclose(world.item_attributes[:, -2], factors.item_bias)
    np.testing.assert_allclose(world.item_attributes[:, -1], 1.0)
    assert abs(factors.global_mean - ratings.mean() - 3.0) < 1e-9 and np.abs(factors.user_bias).max() > 0.01
    np.testing.assert_allclose(world.user_attributes @ world.item_attributes.T,
                               factors.predict(*np.meshgrid(np.arange(50), np.arange(30), indexing="ij")), atol=1e-12)
    assert [a.shape for a in fold_biases(factors)] == [(50, 4), (30, 4)]


def test_calibration_is_seeded_and_holdout_options():
    _, _, users, items, _, ratings = planted(seed=4, n_users=40, n_items=30)
    log = reindex_ratings(pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings}))
    a, b = (calibrate_world(log, rank=2, n_iterations=3, seed=1) for _ in range(2))
    np.testing.assert_array_equal(a.user_attributes, b.user_attributes)
    assert a.rmse_holdout == b.rmse_holdout
    c = calibrate_world(log, rank=2, n_iterations=3, seed=2)
    assert c.rmse_holdout != a.rmse_holdout
    none = calibrate_world(log, rank=2, n_iterations=3, holdout_fraction=0.0)
    assert np.isnan(none.rmse_holdout) and none.noise_std == none.rmse_train
    kept = calibrate_world(log, rank=2, n_iterations=3, seed=1, refit=False)
    assert kept.rmse_train == a.rmse_train and not np.allclose(kept.user_attributes, a.user_attributes)
    assert rmse(kept.factors.predict(log.users, log.items), log.ratings) != rmse(a.factors.predict(log.users, log.items),
                                                                                  log.ratings)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rank": 0}, "rank must be >= 1"),
        ({"regularization": -1.0}, "regularization must be >= 0"),
        ({"n_iterations": 0}, "n_iterations must be >= 1"),
        ({"holdout_fraction": 1.0}, "holdout_fraction must be < 1"),
        ({"holdout_fraction": -0.1}, "holdout_fraction must be >= 0"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"log": pd.DataFrame({"user_id": [1], "item_id": [2], "rating": [3.0]}), "holdout_fraction": 0.5},
         "enough ratings"),
        ({"log": pd.DataFrame({"user_id": [1], "item_id": [2]})}, r"lacks the column\(s\) \['rating'\]"),
        ({"log": "ratings.csv"}, "log must be a RatingLog or a pandas DataFrame, got str"),
    ],
)
def test_calibrate_world_rejects_bad_arguments(change, words):
    arguments = {"log": pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 2, 1], "rating": [3.0, 4.0, 5.0]})}
    with pytest.raises(ValueError, match=words):
        calibrate_world(**{**arguments, **change})


# ---------------------------------------------------------------------------------------------- the real log
def test_movielens_100k_world():
    log = reindex_ratings(read_ratings(real_log_path()))
    world = calibrate_world(log, rank=10, n_iterations=8, seed=0)
    baseline = float(log.ratings.std())  # RMSE of predicting the global mean, about 1.13
    assert 0.8 < world.rmse_holdout < 1.0
    assert world.rmse_holdout < 0.85 * baseline
    assert world.rmse_train < world.rmse_holdout and world.noise_std == world.rmse_holdout
    assert world.user_attributes.shape == (943, 12) and world.item_attributes.shape == (1682, 12)

    env = gym.make("RecGym-Ratings-v0", **world.env_kwargs())
    assert env.action_space.n == 1682
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    rewards, means = [], []
    for _ in range(300):
        _, reward, terminated, _, info = env.step(int(rng.integers(1682)))
        assert not terminated
        mean = world.item_attributes[info["item"]] @ world.user_attributes[info["user"]]
        assert info["mean_rating"] == pytest.approx(mean)
        rewards.append(reward)
        means.append(info["mean_rating"])
    assert 2.5 < np.mean(rewards) < 4.5 and 2.5 < np.mean(means) < 4.5
    assert 0.5 < np.std(np.array(rewards) - np.array(means)) < 1.3  # the noise, about 0.9
    env.close()
