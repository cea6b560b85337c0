"""A faithful re-implementation of seed 000's Bayesian recommender, kept only as the speed reference of the benchmarks.

Seed 000 keeps one Python object per user and per item (a dict of distributions), samples them
one call at a time with ``multivariate_normal`` and learns interaction by interaction: for each
rating it draws ``n_samples`` item vectors to update the user (Bishop 3.50–3.51 with an explicit
matrix inverse), then ``n_samples`` vectors of the updated user to update the item. This file
reproduces that loop, with its defaults (``alpha=10``, ``beta=0.1``, 1,000 samples). Its draws come
from a seeded generator passed in instead of the global ``np.random``: a ``np.random.RandomState``
runs the seed's own sampler (the legacy ``multivariate_normal``); a ``np.random.Generator`` works
too and samples about a quarter faster. It is not part of the package: recgym's agent is
``agents.thompson_mf.ThompsonMF`` (``ThompsonConfig.seed_preset()`` gives the seed's model and
update, vectorised).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd


class SeedBayesianDistribution:
    """One Gaussian belief, as the seed's ``BayesianDistribution``: explicit covariance and its inverse."""

    def __init__(self, rng: np.random.RandomState | np.random.Generator, n_features: int = 10, alpha: float = 10.0,
                 beta: float = 0.1) -> None:
        self.rng = rng
        self.beta = beta
        self.mean = np.zeros(n_features)
        self.cov_inv = np.identity(n_features) / alpha
        self.cov = np.identity(n_features) * alpha

    def sample(self, n_samples: int) -> np.ndarray:
        return self.rng.multivariate_normal(mean=self.mean, cov=self.cov, size=n_samples)

    def learn(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.atleast_2d(x)
        y = np.atleast_1d(y)
        cov_inv_post = self.cov_inv + self.beta * x.T @ x  # Bishop 3.51
        self.cov = np.linalg.inv(cov_inv_post)
        self.mean = self.cov @ (self.cov_inv @ self.mean + self.beta * x.T @ y)  # Bishop 3.50
        self.cov_inv = cov_inv_post


class SeedBayesianRecommender:
    """Seed 000's ``BayesianRecommender``: per-object sampling to recommend, per-interaction updates to learn."""

    def __init__(self, n_items: int, rng: np.random.RandomState | np.random.Generator, n_features: int = 10, alpha: float = 10.0,
                 beta: float = 0.1, n_samples: int = 1000, n_iters: int = 1) -> None:
        def new() -> SeedBayesianDistribution:
            return SeedBayesianDistribution(rng, n_features, alpha, beta)

        self.users: defaultdict[int, SeedBayesianDistribution] = defaultdict(new)
        self.items: defaultdict[int, SeedBayesianDistribution] = defaultdict(new)
        self.item_ids = np.arange(n_items)
        self.n_samples = n_samples
        self.n_iters = n_iters

    def recommend(self, users: np.ndarray) -> pd.DataFrame:
        user_draws = np.stack([self.users[u].sample(1).ravel() for u in users], axis=1)
        item_draws = np.stack([self.items[i].sample(1).ravel() for i in self.item_ids], axis=1)
        ratings = item_draws.T @ user_draws
        return pd.DataFrame({"user": users, "item": self.item_ids[np.argmax(ratings, axis=0)],
                             "predicted_rating": np.max(ratings, axis=0)})

    def learn(self, interactions: pd.DataFrame) -> None:
        for user, item, rating in zip(interactions["user"], interactions["item"], interactions["rating"], strict=True):
            user_dist, item_dist = self.users[user], self.items[item]
            targets = np.repeat(rating, self.n_samples)
            for _ in range(self.n_iters):
                user_dist.learn(item_dist.sample(self.n_samples), targets)
                item_dist.learn(user_dist.sample(self.n_samples), targets)
