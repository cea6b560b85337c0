"""The latent-factor rating world of seed 000 (SPEC §2), batched over requests.

Time runs in periods: in each period every user requests one recommendation, in an order drawn
uniformly at random. Between periods, new users and items may replace old ones (cold start) and
user attributes may drift. Everything here is NumPy; the caller passes the random generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from recgym.simulators.column_log import ColumnLog
from recgym.simulators.ratings.attributes import sample_attributes
from recgym.simulators.ratings.best_items import best_items
from recgym.simulators.ratings.config import RatingsConfig
from recgym.simulators.ratings.embeddings import EmbeddingProjection

EMPTY = -1
"""Item number of an empty frame entry (no rating yet, or the item has been retired)."""

LOG_COLUMNS: Mapping[str, np.dtype] = {
    "period": np.dtype(np.int64),
    "user": np.dtype(np.int32),
    "item": np.dtype(np.int32),
    "user_uid": np.dtype(np.int64),
    "item_uid": np.dtype(np.int64),
    "rating": np.dtype(np.float64),
    "mean_rating": np.dtype(np.float64),
    "best_mean_rating": np.dtype(np.float64),
    "regret": np.dtype(np.float64),
}
"""Stored columns. ``user`` and ``item`` are positions in the population and catalogue, which an
arrival can reuse; ``user_uid`` and ``item_uid`` never repeat. History rows have period -1."""


class Requests(NamedTuple):
    """A batch of requests, in the order they are served."""

    users: np.ndarray
    """int64 user positions."""
    noise: np.ndarray
    """float64 rating noise each request will get (drawn with its period)."""
    period: np.ndarray
    """int64 period of each request."""


class RatingResult(NamedTuple):
    """What a batch of recommendations produced, one entry per request."""

    ratings: np.ndarray
    """Observed ratings: mean plus independent noise."""
    mean_ratings: np.ndarray
    """``Q_item · P_user``, the noise-free rating."""
    best_mean_ratings: np.ndarray
    """The user's best mean rating over the current catalogue."""
    regrets: np.ndarray
    """``best_mean_ratings - mean_ratings``, never negative."""


class RatingsSimulator:
    """Users and items with hidden attributes, a request stream in periods, and the rating log.

    Parameters
    ----------
    config : RatingsConfig
    rng : numpy.random.Generator
        Draws the world (attributes, the embedding projection, the history); later draws come from
        the generator passed to :meth:`next_requests`.
    track_consumed : bool
        Keep an ``(n_users, n_items)`` boolean mask of who has rated what (needed to exclude consumed
        items; costs ``n_users * n_items`` bytes).
    """

    def __init__(self, config: RatingsConfig, rng: np.random.Generator, *, track_consumed: bool = False) -> None:
        self.config = config
        n_users, n_items, n_features = config.n_users, config.n_items, config.n_features
        self.user_attributes = self._initial(config.user_attributes, n_users, n_features, rng)
        self.item_attributes = self._initial(config.item_attributes, n_items, n_features, rng)
        self.user_uid = np.arange(n_users, dtype=np.int64)
        self.item_uid = np.arange(n_items, dtype=np.int64)
        self._next_user_uid, self._next_item_uid = n_users, n_items
        self.projection = EmbeddingProjection(self.item_attributes, config.embedding_dim, config.embedding_noise, rng)
        self.embeddings = self.projection(self.item_attributes, rng)
        self.catalogue_version = 0
        """Incremented whenever items are replaced (so cached item indexes know to refresh)."""
        self.best_item, self.best_mean_rating = best_items(self.user_attributes, self.item_attributes, config.chunk_bytes)
        k = config.frame_size
        self.frame_items = np.full((n_users, k), EMPTY, dtype=np.int64)
        self.frame_ratings = np.zeros((n_users, k), dtype=np.float64)
        self.n_ratings = np.zeros(n_users, dtype=np.int64)
        self.consumed = np.zeros((n_users, n_items), dtype=bool) if track_consumed else None
        self.log = ColumnLog(LOG_COLUMNS, initial_capacity=max(1024, n_users * (config.n_history + 1)))
        self._logging = True
        self.period = -1
        self._order = np.empty(0, dtype=np.int64)
        self._noise = np.empty(0, dtype=np.float64)
        self._cursor = 0
        if config.n_history:
            self._draw_history(rng)
        # The history is always logged (it is fixed in size, and what a client is given at reset).
        self._logging = config.log_interactions

    # ------------------------------------------------------------------ world
    def _initial(self, given: np.ndarray | None, n: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
        if given is not None:
            return given.copy()
        return sample_attributes(rng, self.config.attribute_distribution, self.config.attribute_params, n, n_features)

    def _arrivals(self, kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
        config = self.config
        given = config.user_attributes if kind == "user" else config.item_attributes
        if config.arrival_distribution is None and given is not None:
            return given[rng.integers(0, len(given), size=n)].copy()
        distribution = config.arrival_distribution or config.attribute_distribution
        params = config.arrival_params or config.attribute_params
        return sample_attributes(rng, distribution, params, n, config.n_features)

    def _draw_history(self, rng: np.random.Generator) -> None:
        n_users, h = self.config.n_users, self.config.n_history
        items = np.stack([rng.choice(self.config.n_items, size=h, replace=False) for _ in range(n_users)])
        noise = self.config.noise_std * rng.standard_normal((n_users, h))
        users = np.repeat(np.arange(n_users), h)
        requests = Requests(users, noise.ravel(), np.full(n_users * h, -1, dtype=np.int64))
        # One column of the history at a time keeps every batch free of repeated users.
        for column in range(h):
            batch = slice(column, None, h)
            self.respond(Requests(requests.users[batch], requests.noise[batch], requests.period[batch]), items[:, column])

    # ------------------------------------------------------------------ periods
    def next_requests(self, n: int, rng: np.random.Generator) -> Requests:
        """Take the next ``n`` requests of the stream, starting new periods as needed."""
        if self._cursor + n <= len(self._order):
            window = slice(self._cursor, self._cursor + n)
            self._cursor += n
            return Requests(self._order[window], self._noise[window], np.full(n, self.period, dtype=np.int64))
        users = np.empty(n, dtype=np.int64)
        noise = np.empty(n, dtype=np.float64)
        period = np.empty(n, dtype=np.int64)
        filled = 0
        while filled < n:
            if self._cursor == len(self._order):
                self._start_period(rng)
            take = min(n - filled, len(self._order) - self._cursor)
            users[filled : filled + take] = self._order[self._cursor : self._cursor + take]
            noise[filled : filled + take] = self._noise[self._cursor : self._cursor + take]
            period[filled : filled + take] = self.period
            self._cursor += take
            filled += take
        return Requests(users, noise, period)

    @property
    def requests_left_in_period(self) -> int:
        """Requests of the current period not yet handed out."""
        return len(self._order) - self._cursor

    def _start_period(self, rng: np.random.Generator) -> None:
        self.period += 1
        config = self.config
        if self.period > 0 and config.changes_between_periods:
            if config.new_users_per_period > 0:
                self._replace_users(rng)
            if config.new_items_per_period > 0:
                self._replace_items(rng)
            if config.user_drift_std > 0:
                self.user_attributes += config.user_drift_std * rng.standard_normal(self.user_attributes.shape)
                self.best_item, self.best_mean_rating = best_items(
                    self.user_attributes, self.item_attributes, config.chunk_bytes
                )
        self._order = rng.permutation(config.n_users)
        self._noise = config.noise_std * rng.standard_normal(config.n_users)
        self._cursor = 0

    def _replace_users(self, rng: np.random.Generator) -> None:
        n_users = self.config.n_users
        count = min(int(rng.poisson(self.config.new_users_per_period)), n_users)
        users = np.sort(rng.choice(n_users, size=count, replace=False))
        self.user_attributes[users] = self._arrivals("user", count, rng)
        self.user_uid[users] = np.arange(self._next_user_uid, self._next_user_uid + count)
        self._next_user_uid += count
        self.frame_items[users] = EMPTY
        self.frame_ratings[users] = 0.0
        self.n_ratings[users] = 0
        if self.consumed is not None:
            self.consumed[users] = False
        self.best_item[users], self.best_mean_rating[users] = best_items(
            self.user_attributes[users], self.item_attributes, self.config.chunk_bytes
        )

    def _replace_items(self, rng: np.random.Generator) -> None:
        n_items = self.config.n_items
        count = min(int(rng.poisson(self.config.new_items_per_period)), n_items)
        items = np.sort(rng.choice(n_items, size=count, replace=False))
        self.item_attributes[items] = self._arrivals("item", count, rng)
        self.item_uid[items] = np.arange(self._next_item_uid, self._next_item_uid + count)
        self._next_item_uid += count
        self.embeddings[items] = self.projection(self.item_attributes[items], rng)
        if count:
            self.catalogue_version += 1
        retired = np.isin(self.frame_items, items)
        self.frame_items[retired] = EMPTY
        self.frame_ratings[retired] = 0.0
        if self.consumed is not None:
            self.consumed[:, items] = False
        if count:
            self._update_best_after_item_change(items)

    def _update_best_after_item_change(self, items: np.ndarray) -> None:
        """Keep every user's best item exact after ``items`` changed, without a full search when possible."""
        lost = np.flatnonzero(np.isin(self.best_item, items))
        self.best_item[lost], self.best_mean_rating[lost] = best_items(
            self.user_attributes[lost], self.item_attributes, self.config.chunk_bytes
        )
        kept = np.setdiff1d(np.arange(self.config.n_users), lost, assume_unique=True)
        if len(kept) == 0:
            return
        # Users whose best item stayed only need to compare it with the new items (argmax's tie rule:
        # the lowest item number wins among equal means).
        new_best, new_mean = best_items(self.user_attributes[kept], self.item_attributes[items], self.config.chunk_bytes)
        new_best = items[new_best]
        old_best, old_mean = self.best_item[kept], self.best_mean_rating[kept]
        better = (new_mean > old_mean) | ((new_mean == old_mean) & (new_best < old_best))
        self.best_item[kept[better]] = new_best[better]
        self.best_mean_rating[kept[better]] = new_mean[better]

    # ------------------------------------------------------------------ ratings
    def respond(self, requests: Requests, items: np.ndarray) -> RatingResult:
        """Serve ``items[j]`` to request ``j``: ratings, regret, the users' frames and the log.

        Requests are served in order. A batch that spans two periods may name a user twice; its
        periods are then served one after the other, so each sees the frame the other left.
        """
        period = requests.period
        if len(period) > 1 and period[0] != period[-1]:
            results = []
            for segment in np.split(np.arange(len(period)), np.flatnonzero(np.diff(period)) + 1):
                part = Requests(requests.users[segment], requests.noise[segment], period[segment])
                results.append(self.respond(part, items[segment]))
            return RatingResult(*(np.concatenate(columns) for columns in zip(*results, strict=True)))
        users = requests.users
        means = np.einsum("ij,ij->i", self.user_attributes[users], self.item_attributes[items])
        ratings = means + requests.noise
        best_means = self.best_mean_rating[users]
        # The best mean comes from a matrix product, the chosen one from a row product: they can differ in
        # the last bit, so the best item gets exactly 0 and no regret is negative.
        regrets = np.where(items == self.best_item[users], 0.0, np.maximum(best_means - means, 0.0))
        frame_items, frame_ratings = self.frame_items, self.frame_ratings
        frame_items[users, 1:] = frame_items[users, :-1]
        frame_items[users, 0] = items
        frame_ratings[users, 1:] = frame_ratings[users, :-1]
        frame_ratings[users, 0] = ratings
        self.n_ratings[users] += 1
        if self.consumed is not None:
            self.consumed[users, items] = True
        if self._logging:
            self.log.append(
                {
                    "period": period,
                    "user": users,
                    "item": items,
                    "user_uid": self.user_uid[users],
                    "item_uid": self.item_uid[items],
                    "rating": ratings,
                    "mean_rating": means,
                    "best_mean_rating": best_means,
                    "regret": regrets,
                }
            )
        return RatingResult(ratings, means, best_means, regrets)

    # ------------------------------------------------------------------ ground truth (evaluation only)
    def mean_ratings(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Noise-free ratings ``Q_item · P_user`` of paired ``users`` and ``items`` (ground truth)."""
        users, items = np.asarray(users), np.asarray(items)
        return np.einsum("ij,ij->i", self.user_attributes[users], self.item_attributes[items])

    def regrets(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Regret on mean ratings of recommending ``items`` to ``users`` (ground truth, never negative)."""
        users, items = np.asarray(users), np.asarray(items)
        regrets = np.maximum(self.best_mean_rating[users] - self.mean_ratings(users, items), 0.0)
        return np.where(items == self.best_item[users], 0.0, regrets)
