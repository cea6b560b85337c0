"""Reference recommenders for the bandit experiment: random, ε-greedy over any recommender, popularity and the oracle.

- :class:`RandomRecommender` recommends uniformly random items and learns nothing (SPEC §2's
  reference point: regret ≈ 1.48 on seed 000's world).
- :class:`EpsilonGreedy` wraps any :class:`~agents.batch_recommender.BatchRecommender` (ALS in
  the experiment): each request independently gets a uniformly random item with probability ε,
  else the wrapped recommender's item. ε is constant, or decays as ``ε₀ / (1 + decay · t)`` after
  ``t`` learned batches (a constant ε keeps paying ε of random regret for ever).
- :class:`PopularityRecommender` recommends to everybody the item with the highest learned mean
  rating, shrunk towards the global mean by ``prior_count`` pseudo-ratings (unrated items get the
  global mean). It learns the best item *on average* (≈ 0.19 regret on seed 000's world), never a
  personal one.
- :class:`OracleRecommender` reads each user's best item from the world's ground truth
  (``env.unwrapped.simulator``, the evaluation back door of ``docs/ratings.md``): regret 0, for
  reference only.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from agents.batch_recommender import BatchRecommender, recommendations_frame
from recgym._validation import check_real


class RandomRecommender(BatchRecommender):
    """Uniformly random items; no learning and no predicted rating.

    Parameters
    ----------
    n_users, n_items : int
    seed : int, optional
        Seed of the recommender's generator.
    """

    def __init__(self, n_users: int, n_items: int, *, seed: int | None = None) -> None:
        super().__init__(n_users, n_items)
        self.rng = np.random.default_rng(seed)

    def recommend(self, users: Any) -> pd.DataFrame:
        """One uniformly random item per user (``predicted_rating`` NaN)."""
        users = self.check_users(users)
        return recommendations_frame(users, self.rng.integers(0, self.n_items, size=len(users)), np.full(len(users), np.nan))

    def learn(self, interactions: pd.DataFrame) -> None:
        """Validate the batch and learn nothing."""
        self.interaction_arrays(interactions)


class EpsilonGreedy(BatchRecommender):
    """With probability ε a uniformly random item, else the wrapped recommender's item.

    Parameters
    ----------
    base : BatchRecommender
        The greedy recommender; it learns from every interaction, explored or not.
    epsilon : float
        ε₀, the probability of a random item per request before any learning, in [0, 1].
    decay : float
        After ``t`` learned batches ε is ``epsilon / (1 + decay · t)`` (>= 0; 0: constant).
    seed : int, optional
        Seed of the exploration draws.
    """

    def __init__(self, base: BatchRecommender, epsilon: float = 0.05, *, decay: float = 0.0, seed: int | None = None) -> None:
        if not isinstance(base, BatchRecommender):
            raise ValueError(f"base must be a BatchRecommender, got {type(base).__name__}")
        super().__init__(base.n_users, base.n_items)
        self.base = base
        self.initial_epsilon = check_real("epsilon", epsilon, minimum=0.0, maximum=1.0)
        self.decay = check_real("decay", decay, minimum=0.0)
        self.batches_learned = 0
        self.rng = np.random.default_rng(seed)

    @property
    def epsilon(self) -> float:
        """The current probability of a random item: ``ε₀ / (1 + decay · batches learned)``."""
        return self.initial_epsilon / (1.0 + self.decay * self.batches_learned)

    def recommend(self, users: Any) -> pd.DataFrame:
        """The base's recommendations with a random ε share replaced by uniform items (predicted by the base)."""
        users = self.check_users(users)
        frame = self.base.recommend(users)
        explore = self.rng.random(len(users)) < self.epsilon
        if not explore.any():
            return frame
        items = frame["item"].to_numpy().copy()
        items[explore] = self.rng.integers(0, self.n_items, size=int(explore.sum()))
        predicted = frame["predicted_rating"].to_numpy(dtype=np.float64).copy()
        predicted[explore] = self.base.predict(users[explore], items[explore])
        return recommendations_frame(users, items, predicted)

    def learn(self, interactions: pd.DataFrame) -> None:
        """Pass the batch to the base recommender (ε decays by one step)."""
        self.base.learn(interactions)
        self.batches_learned += 1

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """The base's predictions."""
        return self.base.predict(users, items)


class PopularityRecommender(BatchRecommender):
    """Recommend to everybody the item with the highest shrunk mean rating.

    The score of item ``i`` is ``(sum_i + prior_count · μ) / (count_i + prior_count)``, with ``μ``
    the mean of all ratings so far; ties go to the lowest item number. Before any rating it
    recommends uniformly random items.

    Parameters
    ----------
    n_users, n_items : int
    prior_count : float
        Pseudo-ratings at the global mean added to every item (>= 0; 0: raw means, unrated items
        score the global mean).
    seed : int, optional
        Seed of the random recommendations before the first rating.
    """

    def __init__(self, n_users: int, n_items: int, *, prior_count: float = 1.0, seed: int | None = None) -> None:
        super().__init__(n_users, n_items)
        self.prior_count = check_real("prior_count", prior_count, minimum=0.0)
        self.rng = np.random.default_rng(seed)
        self.counts = np.zeros(self.n_items)
        self.sums = np.zeros(self.n_items)

    def scores(self) -> np.ndarray:
        """``(n_items,)`` shrunk mean rating of every item (NaN before any rating)."""
        total = self.counts.sum()
        if total == 0:
            return np.full(self.n_items, np.nan)
        mean = self.sums.sum() / total
        return np.where(self.counts + self.prior_count > 0,
                        (self.sums + self.prior_count * mean) / np.maximum(self.counts + self.prior_count, 1e-300), mean)

    def learn(self, interactions: pd.DataFrame) -> None:
        """Add the batch's ratings to the per-item counts and sums."""
        _, items, ratings = self.interaction_arrays(interactions)
        self.counts += np.bincount(items, minlength=self.n_items)
        self.sums += np.bincount(items, weights=ratings, minlength=self.n_items)

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """The items' shrunk mean ratings (the same for every user)."""
        users, items = self.check_users(users), self.check_items(items)
        if len(users) != len(items):
            raise ValueError(f"users and items must have one length, got {len(users)} and {len(items)}")
        return self.scores()[items]

    def recommend(self, users: Any) -> pd.DataFrame:
        """The most popular item for everybody (random items before the first rating)."""
        users = self.check_users(users)
        scores = self.scores()
        if np.isnan(scores).all():
            return recommendations_frame(users, self.rng.integers(0, self.n_items, size=len(users)), np.full(len(users), np.nan))
        best = int(np.argmax(scores))
        return recommendations_frame(users, np.full(len(users), best), np.full(len(users), scores[best]))


class OracleRecommender(BatchRecommender):
    """Each user's best item, read from the world's ground truth (regret 0; evaluation only).

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        The ``RecGym-Ratings-v0`` env the recommender serves (after its first reset, since the
        world is drawn then); its ``unwrapped.simulator`` is read at every call.
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        base = env.unwrapped
        if not hasattr(base, "simulator") or getattr(base, "action_kind", None) != "item":
            raise ValueError(f"env must be a RecGym-Ratings-v0 env (with a simulator), got {env!r}")
        config = base.core.config
        super().__init__(config.n_users, config.n_items)
        self.env = base

    def _simulator(self) -> Any:
        simulator = self.env.simulator
        if simulator is None:
            raise RuntimeError("the env has no world yet: reset it before recommending")
        return simulator

    def recommend(self, users: Any) -> pd.DataFrame:
        """Every user's best item, with its mean rating as the prediction."""
        users = self.check_users(users)
        simulator = self._simulator()
        return recommendations_frame(users, simulator.best_item[users], simulator.best_mean_rating[users])

    def learn(self, interactions: pd.DataFrame) -> None:
        """Validate the batch and learn nothing (the oracle knows)."""
        self.interaction_arrays(interactions)

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """The true mean ratings."""
        users, items = self.check_users(users), self.check_items(items)
        if len(users) != len(items):
            raise ValueError(f"users and items must have one length, got {len(users)} and {len(items)}")
        return self._simulator().mean_ratings(users, items)
