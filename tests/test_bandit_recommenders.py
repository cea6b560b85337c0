"""The batch-recommender interface, its period adapter, ALS (NumPy) and the bandit baselines."""

import numpy as np
import pandas as pd
import pytest
from helpers import binomial_tolerance

from agents.als_recommender import ALSRecommender
from agents.bandit_baselines import EpsilonGreedy, OracleRecommender, PopularityRecommender, RandomRecommender
from agents.batch_recommender import PeriodAdapter, make_period_env
from recgym.calibration import fit_als


def _interactions(users, items, ratings):
    return pd.DataFrame({"user": users, "item": items, "rating": ratings})


def _planted(rng, n_users, n_items, rank, n_ratings, noise=0.05):
    P, Q = rng.uniform(0, 1, (n_users, rank)), rng.uniform(0, 1, (n_items, rank))
    users, items = rng.integers(0, n_users, n_ratings), rng.integers(0, n_items, n_ratings)
    return P, Q, users, items, (P @ Q.T)[users, items] + noise * rng.standard_normal(n_ratings)


# ---------------------------------------------------------------------------------------------- adapter
def test_adapter_records_match_the_env_log():
    env = make_period_env(n_users=30, n_items=12, n_features=3)
    adapter = PeriodAdapter(env)
    assert adapter.reset(seed=1).empty  # no history by default
    agent = RandomRecommender(30, 12, seed=2)
    records = [adapter.step(agent) for _ in range(3)]
    log = env.unwrapped.interaction_log()
    for record in records:
        rows = log[log["period"] == record.period]
        assert record.n_requests == len(rows) == 30
        assert record.mean_regret == pytest.approx(rows["regret"].mean())
        assert record.mean_rating == pytest.approx(rows["rating"].mean())
        assert np.isnan(record.rating_mse)  # random recommendations carry no prediction
        assert record.inference_seconds >= 0 and record.training_seconds >= 0
    assert [record.period for record in records] == [0, 1, 2]


def test_adapter_serves_every_user_once_per_period_and_hands_over_history():
    env = make_period_env(n_users=20, n_items=10, n_features=2, n_history=3)
    adapter = PeriodAdapter(env)
    history = adapter.reset(seed=3)
    assert len(history) == 60 and history.columns.tolist() == ["user", "item", "rating"]
    assert sorted(adapter.requesting_users().tolist()) == list(range(20))


def test_adapter_rating_mse_is_against_mean_ratings():
    env = make_period_env(n_users=25, n_items=8, n_features=2)
    adapter = PeriodAdapter(env)
    adapter.reset(seed=4)
    oracle = OracleRecommender(env)
    record = adapter.step(oracle)
    assert record.mean_regret == 0.0 and record.rating_mse == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: make_period_env(n_users=20, n_items=5).unwrapped.__class__(num_envs=10, n_users=20, n_items=5,
                                                                           autoreset_mode="same_step"), "num_envs"),
        (lambda: make_period_env(n_users=20, n_items=5).unwrapped.__class__(num_envs=20, n_users=20, n_items=5), "same_step"),
        (lambda: make_period_env(n_users=20, n_items=5, new_items_per_period=1.0), "arrivals"),
    ],
)
def test_adapter_rejects_envs_it_cannot_run(make, words):
    with pytest.raises(ValueError, match=words):
        PeriodAdapter(make())


def test_adapter_rejects_a_recommender_that_scrambles_the_order():
    class Reversed(RandomRecommender):
        def recommend(self, users):
            return super().recommend(users).iloc[::-1].reset_index(drop=True)

    adapter = PeriodAdapter(make_period_env(n_users=10, n_items=5))
    adapter.reset(seed=0)
    with pytest.raises(ValueError, match="order"):
        adapter.step(Reversed(10, 5, seed=0))


# ---------------------------------------------------------------------------------------------- ALS
def test_als_recommends_the_argmax_of_its_own_predictions_and_random_before_fitting():
    rng = np.random.default_rng(5)
    _, _, users, items, ratings = _planted(rng, 40, 30, 3, 600)
    agent = ALSRecommender(40, 30, rank=3, seed=6)
    first = agent.recommend(np.arange(40))
    assert first["predicted_rating"].isna().all()
    agent.learn(_interactions(users, items, ratings))
    frame = agent.recommend(np.arange(40))
    every_pair = agent.predict(np.repeat(np.arange(40), 30), np.tile(np.arange(30), 40)).reshape(40, 30)
    assert frame["item"].tolist() == np.argmax(every_pair, axis=1).tolist()
    np.testing.assert_allclose(frame["predicted_rating"], every_pair.max(axis=1))


def test_als_refits_on_everything_learned_and_warm_starts():
    rng = np.random.default_rng(7)
    P, Q, users, items, ratings = _planted(rng, 50, 40, 2, 3000, noise=0.02)
    warm = ALSRecommender(50, 40, rank=2, regularization=0.01, biases=False, seed=8)
    for chunk in np.array_split(np.arange(3000), 10):  # ten batches, one ALS sweep after each
        warm.learn(_interactions(users[chunk], items[chunk], ratings[chunk]))
    cold = ALSRecommender(50, 40, rank=2, regularization=0.01, biases=False, warm_start=False, seed=8)
    cold.learn(_interactions(users, items, ratings))  # one sweep from random factors
    grid_users, grid_items = np.repeat(np.arange(50), 40), np.tile(np.arange(40), 50)
    truth = (P @ Q.T)[grid_users, grid_items]
    warm_rmse = np.sqrt(np.mean((warm.predict(grid_users, grid_items) - truth) ** 2))
    cold_rmse = np.sqrt(np.mean((cold.predict(grid_users, grid_items) - truth) ** 2))
    assert warm_rmse < 0.05 < cold_rmse  # ten warm-started sweeps recover the planted matrix, one cold sweep does not


def test_als_unweighted_regularization_fits_one_lambda_for_all():
    rng = np.random.default_rng(9)
    _, _, users, items, ratings = _planted(rng, 30, 20, 2, 600)
    options = dict(rank=2, regularization=2.0, n_iterations=3)
    agent = ALSRecommender(30, 20, weighted_regularization=False, seed=10, **options)
    agent.learn(_interactions(users, items, ratings))
    expected = fit_als(users, items, ratings, 30, 20, rng=np.random.default_rng(10), weighted_regularization=False, **options)
    np.testing.assert_allclose(agent.factors.user_factors, expected.user_factors, rtol=1e-12)
    np.testing.assert_allclose(agent.factors.item_bias, expected.item_bias, rtol=1e-12)
    weighted = ALSRecommender(30, 20, seed=10, **options)
    weighted.learn(_interactions(users, items, ratings))
    assert not np.allclose(weighted.factors.user_factors, expected.user_factors, atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"rank": 0}, "rank"),
        ({"regularization": -0.1}, "regularization"),
        ({"n_iterations": 0}, "n_iterations"),
        ({"backend": "torch"}, "backend"),
        ({"backend": "spark", "biases": True}, "biases"),
        ({"backend": "spark", "warm_start": True}, "warm_start"),
        ({"spark_master": "local[2]"}, "spark"),
        ({"backend": "spark", "spark_master": ""}, "spark_master"),
        ({"weighted_regularization": "yes"}, "weighted_regularization"),
        ({"backend": "spark", "weighted_regularization": False}, "weighted_regularization"),
    ],
)
def test_als_rejects_bad_knobs(kwargs, words):
    with pytest.raises(ValueError, match=words):
        ALSRecommender(10, 10, **kwargs)


# ---------------------------------------------------------------------------------------------- baselines
def test_epsilon_greedy_explores_at_its_rate_and_decays():
    class Constant(RandomRecommender):
        def recommend(self, users):
            frame = super().recommend(users)
            frame["item"] = 0
            return frame

    n = 20_000
    agent = EpsilonGreedy(Constant(n, 1000, seed=0), 0.3, decay=1.0, seed=1)
    explored = (agent.recommend(np.arange(n))["item"] != 0).mean()
    # An explored request lands on item 0 with probability 1/1000.
    assert explored == pytest.approx(0.3 * 0.999, abs=binomial_tolerance(0.3, n))
    agent.learn(_interactions([0], [0], [1.0]))
    assert agent.epsilon == pytest.approx(0.15)
    explored = (agent.recommend(np.arange(n))["item"] != 0).mean()
    assert explored == pytest.approx(0.15 * 0.999, abs=binomial_tolerance(0.15, n))
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(Constant(5, 5), 1.5)


def test_popularity_recommends_the_best_shrunk_mean():
    agent = PopularityRecommender(3, 4, prior_count=1.0, seed=0)
    agent.learn(_interactions([0, 1, 2, 0], [0, 0, 1, 3], [5.0, 4.0, 5.0, 1.0]))
    mean = 15.0 / 4
    expected = np.array([(9.0 + mean) / 3, (5.0 + mean) / 2, mean, (1.0 + mean) / 2])
    np.testing.assert_allclose(agent.scores(), expected)
    frame = agent.recommend([2, 1])
    assert frame["item"].tolist() == [int(np.argmax(expected))] * 2
    np.testing.assert_allclose(frame["predicted_rating"], expected.max())


def test_oracle_and_random_reference_points_on_the_seed_world_shape():
    env = make_period_env(n_users=300, n_items=200, n_features=10)
    adapter = PeriodAdapter(env)
    adapter.reset(seed=9)
    assert adapter.step(OracleRecommender(env)).mean_regret == 0.0
    random_regrets = [adapter.step(RandomRecommender(300, 200, seed=10)).mean_regret for _ in range(3)]
    simulator = env.unwrapped.simulator
    means = simulator.user_attributes @ simulator.item_attributes.T
    expected = float(np.mean(means.max(axis=1)[:, None] - means))  # E[regret] of a uniform item
    assert np.mean(random_regrets) == pytest.approx(expected, rel=0.05)


def test_spark_backend_without_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)  # as if the spark extra were not installed
    with pytest.raises(ImportError, match=r"recgym\[spark\]"):
        ALSRecommender(5, 5, backend="spark")
