"""ALS on Spark: the same model as the NumPy ALS, held-out RMSE compared on the same data, and the Spark back end."""

import numpy as np
import pandas as pd
import pytest

from agents.als_recommender import ALSRecommender
from agents.spark_als import fit_spark_als
from recgym.calibration import fit_als

# PySpark 4.x warns that it does not fully support pandas 3 yet; the conversions used here are plain columns.
pytestmark = [pytest.mark.filterwarnings("ignore::FutureWarning:pyspark"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


def _planted_split(seed=0, n_users=120, n_items=80, rank=3, n_ratings=5000, noise=0.1):
    rng = np.random.default_rng(seed)
    P, Q = rng.uniform(0, 1, (n_users, rank)), rng.uniform(0, 1, (n_items, rank))
    users, items = rng.integers(0, n_users, n_ratings), rng.integers(0, n_items, n_ratings)
    ratings = (P @ Q.T)[users, items] + noise * rng.standard_normal(n_ratings)
    test = rng.random(n_ratings) < 0.2
    # Keep only held-out pairs whose user and item were seen in training (Spark's coldStartStrategy="drop" case).
    seen = np.isin(users, users[~test]) & np.isin(items, items[~test])
    return users, items, ratings, ~test, test & seen


def test_numpy_als_matches_spark_als_held_out_rmse(spark):
    users, items, ratings, train, test = _planted_split()
    settings = dict(rank=3, regularization=0.05, n_iterations=10)
    spark_fit = fit_spark_als(spark, users[train], items[train], ratings[train], 120, 80, seed=1, **settings)
    numpy_fit = fit_als(users[train], items[train], ratings[train], 120, 80, biases=False, rng=1, **settings)

    def rmse(factors):
        return float(np.sqrt(np.mean((factors.predict(users[test], items[test]) - ratings[test]) ** 2)))

    spark_rmse, numpy_rmse = rmse(spark_fit), rmse(numpy_fit)
    # The same weighted-λ model: both near the noise (0.1) and within 5 % of each other.
    assert spark_rmse < 0.2 and numpy_rmse < 0.2
    assert numpy_rmse == pytest.approx(spark_rmse, rel=0.05)
    # The factors brought back to NumPy predict what Spark's own model predicts (same seed: the same fit).
    from pyspark.ml.recommendation import ALS

    train_frame = spark.createDataFrame(pd.DataFrame({"user": users[train].astype(np.int32),
                                                      "item": items[train].astype(np.int32),
                                                      "rating": ratings[train].astype(np.float32)}))
    blocks = spark.sparkContext.defaultParallelism
    model = ALS(rank=3, regParam=0.05, maxIter=10, userCol="user", itemCol="item", ratingCol="rating", seed=1,
                numUserBlocks=blocks, numItemBlocks=blocks).fit(train_frame)
    pairs = pd.DataFrame({"user": users[test].astype(np.int32), "item": items[test].astype(np.int32)})
    predicted = model.transform(spark.createDataFrame(pairs)).toPandas().sort_values(["user", "item"])
    ours = spark_fit.predict(predicted["user"].to_numpy(), predicted["item"].to_numpy())
    np.testing.assert_allclose(predicted["prediction"].to_numpy(), ours, rtol=1e-5, atol=1e-5)


def test_spark_backend_recommends_from_its_fitted_factors(spark):
    users, items, ratings, _, _ = _planted_split(seed=2, n_users=30, n_items=20, n_ratings=600)
    agent = ALSRecommender(30, 20, rank=3, n_iterations=5, backend="spark", spark_session=spark, seed=3)
    assert not agent.biases and not agent.warm_start
    agent.learn(pd.DataFrame({"user": users, "item": items, "rating": ratings}))
    frame = agent.recommend(np.arange(30))
    scores = agent.factors.user_factors @ agent.factors.item_factors.T
    assert frame["item"].tolist() == np.argmax(scores, axis=1).tolist()
    np.testing.assert_allclose(frame["predicted_rating"], scores.max(axis=1))


def test_asking_for_another_master_while_a_session_runs_is_refused(spark):
    from agents.spark_als import spark_session

    assert spark_session("local[2]") is spark  # the running session, shared
    with pytest.raises(ValueError, match=r"already running.*local\[1\]"):
        spark_session("local[1]")
