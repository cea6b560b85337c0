"""Greedy matrix factorisation by alternating least squares, refitted on everything learned so far (seed 000's ALS agent).

After each learned batch the model is refitted on all ratings gathered so far, as the seed did
with Spark's ALS; before the first fit it recommends uniformly random items. It then recommends
each user's item of highest predicted rating: it only exploits (wrap it in
:class:`agents.bandit_baselines.EpsilonGreedy` to explore).

Two back ends fit the same model, ``rating ≈ p_u · q_i`` with Spark's weighted-λ regularisation
(``regularization × ratings of the user or item``):

- ``backend="numpy"`` (default): :func:`recgym.calibration.fit_als` in-process, optionally with
  biases (``μ + b_u + b_i + p_u · q_i``, the default here) and warm-started from the previous
  fit's item factors, so that one iteration per batch keeps improving the same model;
- ``backend="spark"``: ``pyspark.ml.recommendation.ALS`` (:mod:`agents.spark_als`) on a local
  Spark session by default, or on the cluster at ``spark_master`` — for logs that outgrow one
  machine. Spark has neither biases nor warm starts; its factors are brought back to NumPy, so
  recommending costs the same as with the NumPy back end (the seed cross-joined every user with
  every item in Spark instead, 5 s per batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agents.batch_recommender import BatchRecommender, recommendations_frame
from recgym._validation import check_bool, check_choice, check_int, check_real
from recgym.calibration.als import ALSFactors, fit_als
from recgym.simulators.column_log import ColumnLog

BACKENDS = ("numpy", "spark")
SCORE_CHUNK_ENTRIES = 1 << 22
"""Largest ``requests × items`` block of predicted ratings held at once (32 MiB of float64)."""


class ALSRecommender(BatchRecommender):
    """Recommend each user's best predicted item under an ALS model refitted after every batch.

    Parameters
    ----------
    n_users, n_items : int
    rank : int
        Latent factors (>= 1; the seed: 10).
    regularization : float
        λ (>= 0), scaled per user and item by its number of ratings as Spark's ``regParam`` (the seed: 0.05),
        unless ``weighted_regularization`` is False.
    n_iterations : int
        ALS sweeps per refit (>= 1; the seed: 1, Spark's ``maxIter``).
    biases : bool
        Fit ``μ + b_u + b_i + p_u · q_i`` (NumPy back end only; default True there) or ``p_u · q_i``.
    warm_start : bool, optional
        Start each refit from the previous fit's item factors (NumPy back end only; default True
        there, False for Spark).
    weighted_regularization : bool
        Scale λ by each user's and item's number of ratings (True: Spark's rule and the seed's) or
        use the same λ for all (False; NumPy back end only).
    backend : {"numpy", "spark"}
    spark_master : str, optional
        Master URL for ``backend="spark"``, e.g. ``"spark://host:7077"``; default ``"local[2]"``
        (ignored when ``spark_session`` is given).
    spark_session : pyspark.sql.SparkSession, optional
        An existing session to fit in (``backend="spark"``).
    seed : int, optional
        Seed of the random recommendations before the first fit and of the factor initialisation.

    Examples
    --------
    >>> import pandas as pd
    >>> agent = ALSRecommender(3, 4, rank=2, seed=0)
    >>> agent.learn(pd.DataFrame({"user": [0, 1, 2], "item": [1, 1, 3], "rating": [4.0, 3.5, 2.0]}))
    >>> agent.recommend([0, 1]).shape
    (2, 3)
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        *,
        rank: int = 10,
        regularization: float = 0.05,
        n_iterations: int = 1,
        biases: bool | None = None,
        warm_start: bool | None = None,
        weighted_regularization: bool = True,
        backend: str = "numpy",
        spark_master: str | None = None,
        spark_session: Any = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(n_users, n_items)
        self.rank = check_int("rank", rank, minimum=1)
        self.regularization = check_real("regularization", regularization, minimum=0.0)
        self.n_iterations = check_int("n_iterations", n_iterations, minimum=1)
        self.backend = check_choice("backend", backend, BACKENDS)
        spark = backend == "spark"
        for name, value in (("biases", biases), ("warm_start", warm_start)):
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{name} must be True, False or None, got {value!r}")
            if spark and value:
                raise ValueError(
                    f"{name}=True is not available with backend='spark' (Spark's ALS has neither biases nor warm starts)"
                )
        check_bool("weighted_regularization", weighted_regularization)
        if spark and not weighted_regularization:
            raise ValueError("weighted_regularization=False is not available with backend='spark' (Spark's regParam is weighted)")
        self.weighted_regularization = weighted_regularization
        self.biases = (not spark) if biases is None else biases
        self.warm_start = (not spark) if warm_start is None else warm_start
        if spark_master is not None and (not isinstance(spark_master, str) or not spark_master):
            raise ValueError(
                f"spark_master must be a non-empty master URL such as 'local[2]' or 'spark://host:7077', got {spark_master!r}"
            )
        if not spark and (spark_master is not None or spark_session is not None):
            raise ValueError("spark_master and spark_session are for backend='spark' only")
        if spark and spark_session is None:
            from agents.spark_als import require_pyspark

            require_pyspark()  # fail at construction, not at the first learn
        self.spark_master = spark_master
        self._spark_session = spark_session
        self.rng = np.random.default_rng(seed)
        self._log = ColumnLog({"user": np.dtype(np.int64), "item": np.dtype(np.int64), "rating": np.dtype(np.float64)})
        self.factors: ALSFactors | None = None
        """The latest fit (None before the first ``learn``)."""

    def learn(self, interactions: pd.DataFrame) -> None:
        """Append the batch to everything learned so far and refit the model on all of it."""
        users, items, ratings = self.interaction_arrays(interactions)
        if len(users) == 0:
            return
        self._log.append({"user": users, "item": items, "rating": ratings})
        users, items, ratings = (self._log.column(name) for name in ("user", "item", "rating"))
        if self.backend == "spark":
            from agents.spark_als import fit_spark_als, spark_session

            if self._spark_session is None:
                self._spark_session = spark_session(self.spark_master)
            self.factors = fit_spark_als(
                self._spark_session, users, items, ratings, self.n_users, self.n_items, rank=self.rank,
                regularization=self.regularization, n_iterations=self.n_iterations, seed=int(self.rng.integers(2**31 - 1)),
            )
            return
        self.factors = fit_als(
            users, items, ratings, self.n_users, self.n_items, rank=self.rank, regularization=self.regularization,
            n_iterations=self.n_iterations, rng=self.rng, biases=self.biases,
            initial=self.factors if self.warm_start else None, weighted_regularization=self.weighted_regularization,
        )

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings of pairs ``(users[j], items[j])`` (NaN before the first fit)."""
        users, items = self.check_users(users), self.check_items(items)
        if len(users) != len(items):
            raise ValueError(f"users and items must have one length, got {len(users)} and {len(items)}")
        if self.factors is None:
            return np.full(len(users), np.nan)
        return self.factors.predict(users, items)

    def recommend(self, users: Any) -> pd.DataFrame:
        """Each user's item of highest predicted rating (uniformly random items before the first fit)."""
        users = self.check_users(users)
        factors = self.factors
        if factors is None:
            return recommendations_frame(users, self.rng.integers(0, self.n_items, size=len(users)), np.full(len(users), np.nan))
        items = np.empty(len(users), dtype=np.int64)
        item_factors_t = factors.item_factors.T.copy()
        rows = max(1, SCORE_CHUNK_ENTRIES // self.n_items)
        for start in range(0, len(users), rows):
            chunk = users[start : start + rows]
            # The user's own bias and the global mean shift every item alike: they cannot change the argmax.
            scores = factors.user_factors[chunk] @ item_factors_t + factors.item_bias
            items[start : start + rows] = np.argmax(scores, axis=1)
        return recommendations_frame(users, items, factors.predict(users, items))
