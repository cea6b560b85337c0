"""Thompson-sampling matrix factorisation: Gaussian beliefs over every user's and item's vector (seed 000, SPEC §2).

Model. A rating is ``r = μ + b_u + b_i + p_u · q_i + noise`` with noise precision ``β``
(``biases=False``: ``r = p_u · q_i + noise``, the seed's model). Every user holds a Gaussian
belief over ``z_u = [p_u, b_u]`` and every item over ``z_i = [q_i, b_i]`` (``rank + 1`` numbers;
``rank`` without biases), kept as natural parameters (:mod:`agents.gaussian_beliefs`). ``μ`` is
the running mean of the ratings learned so far. Priors: latent factors ``N(0, alpha)``, biases
``N(0, alpha_bias)``; the items' latent prior means are small random numbers (``init_scale``),
which breaks the symmetry of all-zero means that the expected-statistics update cannot leave.

Recommend (Thompson sampling). Each requesting user draws one vector from its belief; the
catalogue is drawn ``catalogue_draws`` times and each request is scored against one of those
draws (requests are spread evenly over them at random); the user gets the item of highest sampled
score. Every draw is an exact posterior sample of the whole catalogue; to save drawing normals,
the draws of one call give the items the same pool of standard normal vectors, each draw in its
own random order (within a draw the items' noises are independent). The seed drew the catalogue
once per batch (``catalogue_draws=1``), which sends every user to the same lucky items; separate
draws are closer to what sequential Thompson sampling does and keep a batch exploring many items.

Learn. A rating is a linear observation of the user's vector given the item's and vice versa, so
each side is updated by Bayesian linear regression (:mod:`agents.gaussian_beliefs`, Bishop
3.50–3.51), first the users given the items, then the items given the updated users:

- ``update="moment"`` (default): the other side's vector is uncertain, so its expected sufficient
  statistics enter the update (variational / moment-matched Bayesian linear regression). For a
  user, with item features ``f = [q, 1]`` and offset ``b_i``::

      Λ_u += β Σ E[f fᵀ],   η_u += β Σ ((r − μ) E[f] − E[f b_i]),   E[q qᵀ] = Σ_q + m_q m_qᵀ,

  summed per user as two sparse products (ratings per (user, item) pair times the items'
  expectations) and solved for all users as one batched Cholesky inverse; then the same for the items.
  The last ``window`` batches stay *revisable*: at every sweep their statistics are recomputed
  from the current beliefs, and a batch is folded into the stored natural parameters (with the
  beliefs of that moment) only when it leaves the window. A batch's cost therefore depends on the
  window and the batch, never on how many batches came before (``window=0``: pure
  assumed-density filtering). ``n_sweeps`` alternations run per batch; the means of each
  half-sweep are over-relaxed, ``m ← m_old + relaxation · (m_new − m_old)`` (successive
  over-relaxation of the coordinate-ascent fixed point, which moves slowly while a user's and an
  item's biases share out a residual; ``relaxation=1`` turns it off).
- ``update="seed"``: the seed's Monte-Carlo update, vectorised: for every interaction, draw
  ``n_samples`` vectors ``Φ`` from the other side's belief and apply ``Λ += β ΦᵀΦ``,
  ``η += β Φᵀ r``; each of the ``n_sweeps`` passes adds the batch again (the seed's ``n_iters``).

Within a half-sweep the other side's beliefs are those at its start, so the batch update equals
updating one interaction at a time in any order (``tests/test_thompson_mf.py`` checks both updates
against per-interaction loops). The seed instead alternated user and item updates interaction by
interaction; :meth:`ThompsonConfig.seed_preset` keeps its model, priors and Monte-Carlo update.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from agents.batch_recommender import BatchRecommender, recommendations_frame
from agents.gaussian_beliefs import NaturalBeliefs, moments, sample, sum_by_row
from recgym._validation import check_choice, check_int, check_real

UPDATES = ("moment", "seed")
SCORE_CHUNK_ENTRIES = 1 << 22
"""Largest block of sampled scores (``draws × requests × items``) or catalogue draws held at once (16 MiB of float32)."""
SEED_CHUNK_ENTRIES = 1 << 22
"""Largest ``interactions × n_samples × dim`` block of Monte-Carlo samples held at once."""


@dataclass(frozen=True)
class ThompsonConfig:
    """Knobs of :class:`ThompsonMF`; the defaults are recgym's, :meth:`seed_preset` gives the seed's.

    Attributes
    ----------
    rank : int
        Latent factors per user and item (>= 1).
    alpha : float
        Prior variance of each latent factor (> 0); prior mean 0 (items: see ``init_scale``).
    alpha_bias : float
        Prior variance of each user and item bias (> 0; unused without ``biases``).
    beta : float
        Precision of the rating noise (> 0). ``1 / noise_std²`` of the world (100 for
        ``RecGym-Ratings-v0``'s 0.1) is the matched value; the default 50 also allows for the
        error of the factors themselves, and measured slightly better (``docs/bandits.md``).
    biases : bool
        Model ``μ + b_u + b_i + p·q`` (True) or ``p·q`` alone (the seed).
    update : {"moment", "seed"}
        Expected-sufficient-statistics update (no sampling) or the seed's Monte-Carlo update.
    n_sweeps : int
        Alternations (users, then items) per learned batch (>= 1). With ``"seed"``, each adds the
        batch again, as the seed's ``n_iters``.
    window : int
        Past batches whose statistics stay revisable (``"moment"`` only; 0 with ``"seed"``), >= 0.
    n_samples : int
        Monte-Carlo draws per interaction of the ``"seed"`` update (>= 1).
    catalogue_draws : int
        Independent draws of the catalogue per ``recommend`` call (>= 1; the seed: 1).
    init_scale : float
        Standard deviation of the random prior means of the items' latent factors (>= 0). The
        moment update needs it > 0: from all-zero means it never leaves zero.
    relaxation : float
        Over-relaxation of the means in the moment update's sweeps, in (0, 2] (1: none).
    """

    rank: int = 10
    alpha: float = 0.05
    alpha_bias: float = 0.05
    beta: float = 50.0
    biases: bool = True
    update: str = "moment"
    n_sweeps: int = 1
    window: int = 20
    n_samples: int = 1000
    catalogue_draws: int = 32
    init_scale: float = 0.1
    relaxation: float = 1.5

    def __post_init__(self) -> None:
        check_int("rank", self.rank, minimum=1)
        check_real("alpha", self.alpha, minimum=0.0, strict_minimum=True)
        check_real("alpha_bias", self.alpha_bias, minimum=0.0, strict_minimum=True)
        check_real("beta", self.beta, minimum=0.0, strict_minimum=True)
        if not isinstance(self.biases, bool):
            raise ValueError(f"biases must be True or False, got {self.biases!r}")
        check_choice("update", self.update, UPDATES)
        check_int("n_sweeps", self.n_sweeps, minimum=1)
        check_int("window", self.window, minimum=0)
        check_int("n_samples", self.n_samples, minimum=1)
        check_int("catalogue_draws", self.catalogue_draws, minimum=1)
        check_real("init_scale", self.init_scale, minimum=0.0)
        check_real("relaxation", self.relaxation, minimum=0.0, maximum=2.0, strict_minimum=True)
        if self.update == "seed" and self.window:
            raise ValueError(f"window must be 0 with update='seed' (its samples are drawn once), got {self.window}")
        if self.update == "moment" and self.init_scale == 0:
            raise ValueError(
                "init_scale must be > 0 with update='moment': from all-zero prior means the expected "
                "statistics never move the latent means (the seed's sampling broke that symmetry)"
            )

    @classmethod
    def seed_preset(cls, **overrides: Any) -> ThompsonConfig:
        """Seed 000's agent: no biases, prior ``N(0, 10 I)``, ``β = 0.1``, 1,000 Monte-Carlo samples, one catalogue draw."""
        values = dict(rank=10, alpha=10.0, beta=0.1, biases=False, update="seed", n_sweeps=1, window=0, n_samples=1000,
                      catalogue_draws=1, init_scale=0.0, relaxation=1.0)
        values.update(overrides)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The knobs as a plain dict."""
        return asdict(self)


class _Batch(NamedTuple):
    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray


class _Ratings(NamedTuple):
    """Interactions as sparse matrices over the entities they involve (duplicated pairs summed)."""

    users: np.ndarray
    """The distinct users, sorted: row ``r`` of the matrices is ``users[r]``."""
    items: np.ndarray
    """The distinct items, sorted: column ``c`` is ``items[c]``."""
    counts: sparse.csr_matrix
    """How many ratings each (user, item) pair has."""
    sums: sparse.csr_matrix
    """The sum of those ratings."""


def _ratings(batches: Any, n_users: int, n_items: int) -> _Ratings:
    users = np.concatenate([batch.users for batch in batches])
    items = np.concatenate([batch.items for batch in batches])
    ratings = np.concatenate([batch.ratings for batch in batches])
    # Entities present and their compact numbers, by counting (cheaper than sorting with np.unique).
    present_users = np.bincount(users, minlength=n_users) > 0
    present_items = np.bincount(items, minlength=n_items) > 0
    rows = (np.cumsum(present_users) - 1)[users]
    cols = (np.cumsum(present_items) - 1)[items]
    shape = (int(present_users.sum()), int(present_items.sum()))
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)  # duplicates are summed
    sums = sparse.csr_matrix((ratings, (rows, cols)), shape=shape)
    return _Ratings(np.flatnonzero(present_users), np.flatnonzero(present_items), counts, sums)


class ThompsonMF(BatchRecommender):
    """Thompson-sampling matrix factorisation with Gaussian beliefs per user and item (see the module docstring).

    Parameters
    ----------
    n_users, n_items : int
    config : ThompsonConfig, optional
        Defaults to ``ThompsonConfig()``.
    seed : int, optional
        Seed of the recommender's own generator (prior means, Thompson draws, Monte-Carlo samples).
    **overrides
        Fields of :class:`ThompsonConfig` to change, e.g. ``window=0``.

    Examples
    --------
    >>> import pandas as pd
    >>> agent = ThompsonMF(3, 4, seed=0, rank=2)
    >>> agent.recommend([0, 2]).columns.tolist()
    ['user', 'item', 'predicted_rating']
    >>> agent.learn(pd.DataFrame({"user": [0, 2], "item": [1, 3], "rating": [3.5, 2.0]}))
    """

    def __init__(self, n_users: int, n_items: int, config: ThompsonConfig | None = None, *, seed: int | None = None,
                 **overrides: Any) -> None:
        super().__init__(n_users, n_items)
        if config is not None and not isinstance(config, ThompsonConfig):
            raise ValueError(f"config must be a ThompsonConfig or None, got {type(config).__name__}")
        self.config = replace(config or ThompsonConfig(), **overrides)
        self.rng = np.random.default_rng(seed)
        cfg = self.config
        self.dim = cfg.rank + int(cfg.biases)
        variance = np.r_[np.full(cfg.rank, cfg.alpha), np.full(int(cfg.biases), cfg.alpha_bias)]
        item_mean = np.zeros((n_items, self.dim))
        item_mean[:, : cfg.rank] = cfg.init_scale * self.rng.standard_normal((n_items, cfg.rank))
        # Stored natural parameters: the prior plus every batch that has left the window.
        self._users = NaturalBeliefs.from_prior(self.n_users, np.zeros(self.dim), variance)
        self._items = NaturalBeliefs.from_prior(self.n_items, item_mean, variance)
        # Current beliefs: stored parameters plus the window's statistics, as moments.
        self._user_mean, self._user_cov = self._users.moments()
        self._item_mean, self._item_cov = self._items.moments()
        self._window: deque[_Batch] = deque()
        self._rating_sum = 0.0
        self._rating_count = 0

    # ------------------------------------------------------------------ beliefs
    @property
    def global_mean(self) -> float:
        """``μ``: the mean of every rating learned so far (0 without biases or before any)."""
        if not self.config.biases or self._rating_count == 0:
            return 0.0
        return self._rating_sum / self._rating_count

    def user_beliefs(self, users: Any = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(means, covariances)`` of the users' vectors ``[p_u, b_u]`` (copies)."""
        rows = users if isinstance(users, slice) else self.check_users(users)
        return self._user_mean[rows].copy(), self._user_cov[rows].copy()

    def item_beliefs(self, items: Any = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(means, covariances)`` of the items' vectors ``[q_i, b_i]`` (copies)."""
        rows = items if isinstance(items, slice) else self.check_items(items)
        return self._item_mean[rows].copy(), self._item_cov[rows].copy()

    def _feature_moments(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the other side's beliefs: ``E[f fᵀ]``, ``E[f]`` and ``E[f · offset]`` with ``f = [latent, 1]``, offset its bias."""
        second = cov + mean[:, :, None] * mean[:, None, :]
        if not self.config.biases:
            return second, mean, np.zeros_like(mean)
        k = self.config.rank
        # The bias coordinate of the vector becomes the constant feature 1 (its own value is the offset).
        second[:, k, :k] = second[:, :k, k] = mean[:, :k]
        second[:, k, k] = 1.0
        first = mean.copy()
        first[:, k] = 1.0
        cross = cov[:, :, k] + mean * mean[:, k : k + 1]  # E[z b] for the latent coordinates
        cross[:, k] = mean[:, k]  # E[1 · b]
        return second, first, cross

    def _side_statistics(self, side: str, ratings: _Ratings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, Σ E[f fᵀ], Σ E[f (r − μ − offset)])`` of one side's entities against the other side's beliefs.

        Sums over each entity's ratings are two sparse products, ``counts @ [E[f fᵀ] | μ E[f] + E[f·offset]]``
        and ``sums @ E[f]``, over the other side's entities involved only.
        """
        if side == "user":
            rows, cols, counts, sums = ratings.users, ratings.items, ratings.counts, ratings.sums
            other_mean, other_cov = self._item_mean[cols], self._item_cov[cols]
        else:
            rows, cols, counts, sums = ratings.items, ratings.users, ratings.counts.T, ratings.sums.T
            other_mean, other_cov = self._user_mean[cols], self._user_cov[cols]
        second, first, cross = self._feature_moments(other_mean, other_cov)
        d = self.dim
        summed = counts @ np.hstack([second.reshape(len(cols), d * d), self.global_mean * first + cross])
        gram = summed[:, : d * d].reshape(len(rows), d, d)
        rhs = sums @ first - summed[:, d * d :]
        return rows, gram, rhs

    def _refresh(self, side: str, rows: np.ndarray, gram: np.ndarray | None = None, rhs: np.ndarray | None = None,
                 relaxation: float = 1.0) -> None:
        """Recompute the current moments of ``rows``: stored parameters plus ``β`` times the given statistics."""
        stored = self._users if side == "user" else self._items
        precision, shift = stored.precision[rows], stored.shift[rows]
        if gram is not None:
            precision = precision + self.config.beta * gram
            shift = shift + self.config.beta * rhs
        mean, cov = moments(precision, shift)
        if relaxation != 1.0:
            old = self._user_mean[rows] if side == "user" else self._item_mean[rows]
            mean = old + relaxation * (mean - old)
        if side == "user":
            self._user_mean[rows], self._user_cov[rows] = mean, cov
        else:
            self._item_mean[rows], self._item_cov[rows] = mean, cov

    # ------------------------------------------------------------------ learning
    def learn(self, interactions: pd.DataFrame) -> None:
        """Update the beliefs with a batch of rated recommendations (columns ``user``, ``item``, ``rating``)."""
        users, items, ratings = self.interaction_arrays(interactions)
        if len(users) == 0:
            return
        self._rating_sum += float(ratings.sum())
        self._rating_count += len(ratings)
        if self.config.update == "seed":
            self._learn_seed(_Batch(users, items, ratings))
        else:
            self._learn_moment(_Batch(users, items, ratings))

    def _learn_moment(self, batch: _Batch) -> None:
        folded_users, folded_items = [], []
        while len(self._window) > self.config.window:
            old = self._window.popleft()
            self._fold(old)
            folded_users.append(old.users)
            folded_items.append(old.items)
        self._window.append(batch)
        ratings = _ratings(self._window, self.n_users, self.n_items)
        for _ in range(self.config.n_sweeps):
            self._refresh("user", *self._side_statistics("user", ratings), relaxation=self.config.relaxation)
            self._refresh("item", *self._side_statistics("item", ratings), relaxation=self.config.relaxation)
        # Entities whose last window interactions were just folded: their beliefs are the stored ones now.
        for side, folded, in_window in (("user", folded_users, ratings.users), ("item", folded_items, ratings.items)):
            if folded:
                stale = np.setdiff1d(np.concatenate(folded), in_window)
                if len(stale):
                    self._refresh(side, stale)

    def _fold(self, batch: _Batch) -> None:
        """Add a batch's statistics, from the current beliefs, to the stored natural parameters (it leaves the window)."""
        ratings = _ratings([batch], self.n_users, self.n_items)
        self._users.add(*self._side_statistics("user", ratings), self.config.beta)
        self._items.add(*self._side_statistics("item", ratings), self.config.beta)

    def _learn_seed(self, batch: _Batch) -> None:
        for _ in range(self.config.n_sweeps):
            rows, gram, rhs = self._sampled_statistics(batch.users, batch.items, batch.ratings, self._item_mean, self._item_cov)
            self._users.add(rows, gram, rhs, self.config.beta)
            self._refresh("user", rows)
            rows, gram, rhs = self._sampled_statistics(batch.items, batch.users, batch.ratings, self._user_mean, self._user_cov)
            self._items.add(rows, gram, rhs, self.config.beta)
            self._refresh("item", rows)

    def _sampled_statistics(self, rows: np.ndarray, cols: np.ndarray, ratings: np.ndarray, other_mean: np.ndarray,
                            other_cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The seed's update statistics: per interaction ``n_samples`` draws ``Φ`` of the other side, ``ΦᵀΦ`` and ``Φᵀ t``.

        Interactions are taken in order and their draws come from the generator in that order
        (``standard_normal((dim, n_samples))`` each), so a per-interaction loop reproduces them.
        """
        n, s, d = len(rows), self.config.n_samples, self.dim
        unique_cols, inverse = np.unique(cols, return_inverse=True)
        factors = np.linalg.cholesky(other_cov[unique_cols])
        gram = np.empty((n, d, d))
        rhs = np.empty((n, d))
        step = max(1, SEED_CHUNK_ENTRIES // (s * d))
        mu, k = self.global_mean, self.config.rank
        for start in range(0, n, step):
            chunk = slice(start, min(n, start + step))
            which = inverse[chunk]
            draws = other_mean[cols[chunk]][:, None, :] + np.einsum(
                "nij,njs->nsi", factors[which], self.rng.standard_normal((len(which), d, s))
            )
            targets = np.broadcast_to((ratings[chunk] - mu)[:, None], draws.shape[:2])
            if self.config.biases:
                targets = targets - draws[:, :, k]
                draws[:, :, k] = 1.0
            gram[chunk] = np.einsum("nsi,nsj->nij", draws, draws)
            rhs[chunk] = np.einsum("nsi,ns->ni", draws, targets)
        return sum_by_row(rows, gram, rhs)

    # ------------------------------------------------------------------ serving
    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Posterior-mean predicted ratings of pairs ``(users[j], items[j])``: ``μ + b_u + b_i + m_p · m_q``."""
        users, items = self.check_users(users), self.check_items(items)
        if len(users) != len(items):
            raise ValueError(f"users and items must have one length, got {len(users)} and {len(items)}")
        user_mean, item_mean = self._user_mean[users], self._item_mean[items]
        k = self.config.rank
        prediction = np.einsum("nj,nj->n", user_mean[:, :k], item_mean[:, :k])
        if self.config.biases:
            prediction += self.global_mean + user_mean[:, k] + item_mean[:, k]
        return prediction

    def recommend(self, users: Any) -> pd.DataFrame:
        """Thompson sampling: each user's best item under one posterior draw (see the module docstring)."""
        users = self.check_users(users)
        n, k, d = len(users), self.config.rank, self.dim
        if n == 0:
            return recommendations_frame(users, np.empty(0, dtype=np.int64), np.empty(0))
        # Sampled scores only rank items: single precision halves the cost of the draws and products.
        user_draws = sample(self._user_mean[users], self._user_cov[users], self.rng).astype(np.float32)
        item_mean = self._item_mean.astype(np.float32)
        item_factors = np.linalg.cholesky(self._item_cov).astype(np.float32)
        n_draws = min(self.config.catalogue_draws, n)
        # Request order[j] is scored against catalogue draw j % n_draws: an even, random spread. Column
        # s of `slots` lists the requests of draw s (-1 pads the last row).
        order = self.rng.permutation(n)
        per_draw = -(-n // n_draws)
        slots = np.full(per_draw * n_draws, -1, dtype=np.int64)
        slots[:n] = order
        slots = slots.reshape(per_draw, n_draws)
        items = np.empty(n, dtype=np.int64)
        draws_per_block = max(1, min(n_draws, SCORE_CHUNK_ENTRIES // (self.n_items * max(d, per_draw))))
        rows_per_chunk = max(1, SCORE_CHUNK_ENTRIES // (self.n_items * draws_per_block))
        # With biases the user's draw gets a constant 1 in place of its own bias (which shifts every item
        # alike): then one product gives latent score plus item bias.
        if self.config.biases:
            user_draws[:, k] = 1.0
        # One pool of standard normals per call; every catalogue draw gives the items the pool's vectors in
        # its own random order. Within a draw the items' noises are thus independent standard normals (the
        # draw is an exact posterior sample); draws differ by the order, at a fraction of the cost of fresh
        # normals for each.
        pool = self.rng.standard_normal((self.n_items, d), dtype=np.float32)
        for first in range(0, n_draws, draws_per_block):
            block = slice(first, min(n_draws, first + draws_per_block))
            orders = self.rng.permuted(np.broadcast_to(np.arange(self.n_items), (block.stop - block.start, self.n_items)), axis=1)
            noise = np.ascontiguousarray(pool[orders.T].transpose(0, 2, 1))  # (n_items, d, draws)
            catalogues = item_mean[:, :, None] + np.matmul(item_factors, noise)  # (n_items, d, draws)
            catalogues_t = np.ascontiguousarray(catalogues.transpose(2, 1, 0))  # (draws, d, n_items)
            for start in range(0, per_draw, rows_per_chunk):
                requests = slots[start : start + rows_per_chunk, block].T  # (draws, rows)
                best = np.argmax(np.matmul(user_draws[requests], catalogues_t), axis=2)
                valid = requests >= 0
                items[requests[valid]] = best[valid]
        return recommendations_frame(users, items, self.predict(users, items))
