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
own random order (within a draw the items' noises are independent). The orders are random affine
maps ``item ↦ (a · item + c) mod n_items`` (``a`` coprime to ``n_items``), distinct per draw: a
permutation for a multiplication and an addition, where shuffling costs a random number per item
(over 100 worlds the regret is the same as with independent shuffles). The seed drew the catalogue
once per batch (``catalogue_draws=1``), which sends every user to the same lucky items; separate
draws are closer to what sequential Thompson sampling does and keep a batch exploring many items.
A draw is ``m + z L⁻¹`` (row vectors) with ``L`` the Cholesky factor of the belief's precision,
kept from the last update: no factorisation at recommendation time.

Learn. A rating is a linear observation of the user's vector given the item's and vice versa, so
each side is updated by Bayesian linear regression (:mod:`agents.gaussian_beliefs`, Bishop
3.50–3.51), first the users given the items, then the items given the updated users:

- ``update="moment"`` (default): the other side's vector is uncertain, so its expected sufficient
  statistics enter the update (variational / moment-matched Bayesian linear regression). For a
  user, with item features ``f = [q, 1]`` and offset ``b_i``::

      Λ_u += β Σ E[f fᵀ],   η_u += β Σ ((r − μ) E[f] − E[f b_i]),   E[q qᵀ] = Σ_q + m_q m_qᵀ,

  summed per user as two sparse products (ratings per (user, item) pair times the items'
  expectations, which each item keeps from its last update) and solved for all users as one
  batched Cholesky factorisation; then the same for the items. The last ``window`` batches stay
  *revisable*: at every sweep their statistics are recomputed from the current beliefs, and a
  batch is folded into the stored natural parameters only when it leaves the window, with the
  beliefs of the sweep it leaves in (its users' statistics against the items before the sweep,
  its items' against the users after the users' half-sweep). The window's ratings are kept summed
  per (user, item) pair and updated batch by batch (:mod:`agents.bandit_rating_window`), so a
  batch's cost depends on the window and the batch, never on how many batches came before
  (``window=0``: pure assumed-density filtering). ``n_sweeps`` alternations run per batch; the means of each
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

from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from agents.bandit_rating_window import PairRatings, RatingWindow, pair_ratings
from agents.batch_recommender import BatchRecommender, recommendations_frame
from agents.gaussian_beliefs import NaturalBeliefs, covariance, draw, lower_indices, second_moments_lower, sum_by_row, transposed
from recgym._validation import check_bool, check_choice, check_int, check_real

UPDATES = ("moment", "seed")
SCORE_CHUNK_ENTRIES = 1 << 22
"""Largest block of sampled scores (``draws × requests × items``) or catalogue draws held at once (16 MiB of float32)."""
SCORE_CACHE_ENTRIES = 1 << 17
"""Sampled scores computed and reduced to their argmax at once, where the rows allow: 512 KiB of float32, which a
core's L2 cache holds, so the argmax reads what the product just wrote from cache (one 4 MiB product for a 1,000 ×
1,000 period went out to memory and back)."""
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
        check_bool("biases", self.biases)
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


class _Entities(NamedTuple):
    """The users (or items) a learn step involves, numbered compactly: rows of its sparse matrices."""

    ids: np.ndarray
    """The distinct ids, sorted."""
    position: np.ndarray
    """``position[id]`` is the id's row (meaningless for ids not involved)."""


def _entities(n: int, *id_arrays: np.ndarray) -> _Entities:
    involved = np.zeros(n, dtype=bool)
    for ids in id_arrays:
        involved[ids] = True
    return _Entities(np.flatnonzero(involved), np.cumsum(involved) - 1)


class _PairMatrices(NamedTuple):
    """Ratings per (user, item) pair as two sparse matrices, users by items, over the entities involved."""

    counts: sparse.csr_matrix
    """How many ratings each pair has."""
    centred: sparse.csr_matrix
    """The sum of those ratings minus ``μ`` each (same structure)."""
    users: np.ndarray
    """Rows (positions among the users involved) of the pairs' distinct users, sorted."""
    items: np.ndarray
    """Columns of the pairs' distinct items, sorted."""


def _rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]`` for distinct ``rows``; the array itself (no copy) when they are all of its rows."""
    return array if len(rows) == len(array) else array[rows]


def _pair_matrices(pairs: PairRatings, users: _Entities, items: _Entities, mu: float) -> _PairMatrices:
    """The pairs (sorted by user, then item) as CSR matrices, built directly: no sort, no duplicate summing."""
    rows = users.position[pairs.users]
    cols = items.position[pairs.items].astype(np.int32)  # SciPy's own index type: no conversion
    indptr = np.zeros(len(users.ids) + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=len(users.ids)), out=indptr[1:])
    shape = (len(users.ids), len(items.ids))
    counts = sparse.csr_matrix((pairs.counts, cols, indptr), shape=shape)
    centred = sparse.csr_matrix((pairs.sums - mu * pairs.counts, cols, indptr), shape=shape)
    distinct_items = np.zeros(len(items.ids), dtype=bool)
    distinct_items[cols] = True
    return _PairMatrices(counts, centred, np.flatnonzero(np.diff(indptr)), np.flatnonzero(distinct_items))


@dataclass
class _Beliefs:
    """One side's beliefs (users or items): stored natural parameters and the current beliefs derived from them."""

    stored: NaturalBeliefs
    """The prior plus every batch that has left the window."""
    mean: np.ndarray
    """(n, d) current means."""
    inverse_factor: np.ndarray
    """(n, d, d) ``L⁻¹`` of the current precisions ``L Lᵀ``: covariances ``L⁻ᵀ L⁻¹`` and Thompson draws."""
    features: np.ndarray
    """(n, d(d+1)/2 + d) ``[E[f fᵀ] | E[f · offset]]``, the first packed lower triangles: what the other side's ratings
    need (see ``ThompsonMF._features``)."""


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
        self._user = self._beliefs(NaturalBeliefs.from_prior(self.n_users, np.zeros(self.dim), variance))
        self._item = self._beliefs(NaturalBeliefs.from_prior(self.n_items, item_mean, variance))
        self._window = RatingWindow(self.n_items)
        # Multipliers of the catalogue draws' affine orders: those coprime to n_items make `a · item + c` a permutation.
        self._order_multipliers = np.flatnonzero(np.gcd(np.arange(self.n_items), self.n_items) == 1)
        self._rating_sum = 0.0
        self._rating_count = 0

    # ------------------------------------------------------------------ beliefs
    def _beliefs(self, stored: NaturalBeliefs) -> _Beliefs:
        factored = stored.factored_mean()
        return _Beliefs(stored, factored.mean, factored.inverse_factor,
                        self._features(factored.mean, factored.inverse_factor_last))

    @property
    def global_mean(self) -> float:
        """``μ``: the mean of every rating learned so far (0 without biases or before any)."""
        if not self.config.biases or self._rating_count == 0:
            return 0.0
        return self._rating_sum / self._rating_count

    def user_beliefs(self, users: Any = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(means, covariances)`` of the users' vectors ``[p_u, b_u]`` (copies)."""
        rows = users if isinstance(users, slice) else self.check_users(users)
        return self._user.mean[rows].copy(), covariance(self._user.inverse_factor[rows])

    def item_beliefs(self, items: Any = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(means, covariances)`` of the items' vectors ``[q_i, b_i]`` (copies)."""
        rows = items if isinstance(items, slice) else self.check_items(items)
        return self._item.mean[rows].copy(), covariance(self._item.inverse_factor[rows])

    def _features(self, mean: np.ndarray, inverse_factor_last: np.ndarray) -> np.ndarray:
        """``[E[f fᵀ] | E[f · offset]]`` of beliefs, as the features of the other side's ratings: ``(n, d(d+1)/2 + d)``.

        ``f = [latent, 1]`` and the offset is the bias (with biases; else ``f`` is the vector and the
        offset 0). ``E[z zᵀ] = Σ + m mᵀ`` comes from ``L⁻¹`` in the factorisation's layout
        (:func:`agents.gaussian_beliefs.second_moments_lower`). It is symmetric and the factorisation
        reads lower triangles only, so only those are kept, packed (:func:`agents.gaussian_beliefs.lower_indices`):
        the sparse sums over the ratings then carry 77 columns instead of 132.
        """
        d, packed = self.dim, len(lower_indices(self.dim))
        features_last = np.empty((packed + d, len(mean)))  # built with the beliefs last, then transposed once
        second = features_last[:packed]
        second[...] = second_moments_lower(mean, inverse_factor_last)
        if not self.config.biases:
            features_last[packed:] = 0.0
        else:
            # The bias is the last coordinate, k = d - 1: the triangle's last row is E[z_k z_b] for every b.
            k = self.config.rank
            last_row = second[packed - d :]
            features_last[packed:] = last_row  # E[z b]
            features_last[packed + k] = mean[:, k]  # E[1 · b]
            # The bias coordinate of the vector becomes the constant feature 1 (its own value is the offset).
            last_row[:k] = mean[:, :k].T
            last_row[k] = 1.0
        return transposed(features_last)

    def _first(self, mean: np.ndarray) -> np.ndarray:
        """``E[f]``: the means with the bias coordinate replaced by the constant feature 1."""
        if not self.config.biases:
            return mean
        first = mean.copy()
        first[:, self.config.rank] = 1.0
        return first

    def _columns(self, other: _Beliefs, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The other side's ``([E[f fᵀ] | E[f · offset]], E[f])`` for the entities ``ids`` (the matrices' columns)."""
        return _rows(other.features, ids), self._first(_rows(other.mean, ids))

    def _statistics(self, counts: sparse.spmatrix, centred: sparse.spmatrix, columns: tuple[np.ndarray, np.ndarray],
                    rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(Σ E[f fᵀ], Σ E[f (r − μ − offset)])`` of the matrices' ``rows`` (default all), given :meth:`_columns`.

        ``Σ E[f fᵀ]`` comes as packed lower triangles (``(rows, d(d+1)/2)``, what the beliefs add).

        Two sparse products: ``counts @ [E[f fᵀ] | E[f·offset]]`` and ``centred @ E[f]``. Rows without
        ratings get zeros.
        """
        features, first = columns
        packed = len(lower_indices(self.dim))
        summed = counts @ features
        weighted = centred @ first
        if rows is not None:
            summed, weighted = _rows(summed, rows), _rows(weighted, rows)
        return summed[:, :packed], weighted - summed[:, packed:]

    def _refresh(self, side: _Beliefs, rows: np.ndarray, gram: np.ndarray | None = None, rhs: np.ndarray | None = None,
                 relaxation: float = 1.0, relaxed: np.ndarray | None = None) -> None:
        """Recompute the current beliefs of ``rows``: stored parameters plus ``β`` times the given statistics.

        ``relaxation`` over-relaxes the means of ``rows[relaxed]`` (all of them if ``relaxed`` is None).
        """
        mean, inverse_factor, inverse_factor_last = side.stored.factored_mean(rows, gram, rhs, self.config.beta)
        if relaxation != 1.0:
            old = _rows(side.mean, rows)
            if relaxed is None or len(relaxed) == len(rows):
                mean -= old
                mean *= relaxation
                mean += old
            else:
                mean[relaxed] = old[relaxed] + relaxation * (mean[relaxed] - old[relaxed])
        features = self._features(mean, inverse_factor_last)
        if len(rows) == side.stored.n:  # every belief: take the new arrays
            side.mean, side.inverse_factor, side.features = mean, inverse_factor, features
        else:
            side.mean[rows], side.inverse_factor[rows], side.features[rows] = mean, inverse_factor, features

    # ------------------------------------------------------------------ learning
    def learn(self, interactions: pd.DataFrame) -> None:
        """Update the beliefs with a batch of rated recommendations (columns ``user``, ``item``, ``rating``)."""
        users, items, ratings = self.interaction_arrays(interactions)
        if len(users) == 0:
            return
        self._rating_sum += float(ratings.sum())
        self._rating_count += len(ratings)
        if self.config.update == "seed":
            self._learn_seed(users, items, ratings)
        else:
            self._learn_moment(pair_ratings(users, items, ratings, self.n_items))

    def _learn_moment(self, batch: PairRatings) -> None:
        """Sweep over the window's batches, folding the batch that leaves it (see the module docstring)."""
        config, mu = self.config, self.global_mean
        leaving = self._window.popleft() if len(self._window) > config.window else None
        self._window.append(batch)
        window = self._window.pairs()
        extra = () if leaving is None else (leaving,)
        users = _entities(self.n_users, window.users, *(pairs.users for pairs in extra))
        items = _entities(self.n_items, window.items, *(pairs.items for pairs in extra))
        current = _pair_matrices(window, users, items, mu)
        old = None if leaving is None else _pair_matrices(leaving, users, items, mu)
        for sweep in range(config.n_sweeps):
            items_columns = self._columns(self._item, items.ids)
            if old is not None and sweep == 0:
                # The leaving batch enters the stored parameters with the beliefs the first sweep uses: its
                # users' statistics against the items before the sweep (as the window's users), its items'
                # against the users after the users' half-sweep (as the window's items).
                self._user.stored.add(users.ids[old.users], *self._statistics(old.counts, old.centred, items_columns, old.users),
                                      config.beta)
            # Every user involved: those of the window with its statistics, those whose last ratings just left
            # it (no statistics: their beliefs are the stored ones now). Only the former are over-relaxed.
            statistics = self._statistics(current.counts, current.centred, items_columns)
            self._refresh(self._user, users.ids, *statistics, relaxation=config.relaxation, relaxed=current.users)
            users_columns = self._columns(self._user, users.ids)
            if old is not None and sweep == 0:
                self._item.stored.add(items.ids[old.items], *self._statistics(old.counts.T, old.centred.T, users_columns,
                                                                              old.items), config.beta)
            statistics = self._statistics(current.counts.T, current.centred.T, users_columns)
            self._refresh(self._item, items.ids, *statistics, relaxation=config.relaxation, relaxed=current.items)

    def _learn_seed(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray) -> None:
        for _ in range(self.config.n_sweeps):
            rows, gram, rhs = self._sampled_statistics(users, items, ratings, self._item)
            self._user.stored.add(rows, gram, rhs, self.config.beta)
            self._refresh(self._user, rows)
            rows, gram, rhs = self._sampled_statistics(items, users, ratings, self._user)
            self._item.stored.add(rows, gram, rhs, self.config.beta)
            self._refresh(self._item, rows)

    def _sampled_statistics(self, rows: np.ndarray, cols: np.ndarray, ratings: np.ndarray,
                            other: _Beliefs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The seed's update statistics: per interaction ``n_samples`` draws ``Φ`` of the other side, ``ΦᵀΦ`` and ``Φᵀ t``.

        Interactions are taken in order and their draws come from the generator in that order
        (``standard_normal((dim, n_samples))`` each, through the Cholesky factor of the covariance),
        so a per-interaction loop reproduces them.
        """
        n, s, d = len(rows), self.config.n_samples, self.dim
        unique_cols, inverse = np.unique(cols, return_inverse=True)
        factors = np.linalg.cholesky(covariance(other.inverse_factor[unique_cols]))
        gram = np.empty((n, d, d))
        rhs = np.empty((n, d))
        step = max(1, SEED_CHUNK_ENTRIES // (s * d))
        mu, k = self.global_mean, self.config.rank
        for start in range(0, n, step):
            chunk = slice(start, min(n, start + step))
            which = inverse[chunk]
            draws = other.mean[cols[chunk]][:, None, :] + np.einsum(
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
        return self._predict(users, items)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        user_mean, item_mean = self._user.mean[users], self._item.mean[items]
        k = self.config.rank
        prediction = np.einsum("nj,nj->n", user_mean[:, :k], item_mean[:, :k])
        if self.config.biases:
            prediction += self.global_mean + user_mean[:, k] + item_mean[:, k]
        return prediction

    def recommend(self, users: Any) -> pd.DataFrame:
        """Thompson sampling: each user's best item under one posterior draw (see the module docstring)."""
        users = self.check_users(users)
        if len(users) == 0:
            return recommendations_frame(users, np.empty(0, dtype=np.int64), np.empty(0))
        items = self._best_items(self._user_draws(users))
        return recommendations_frame(users, items, self._predict(users, items))

    def _user_draws(self, users: np.ndarray) -> np.ndarray:
        """One posterior draw per request, in single precision (sampled scores only rank items); the bias coordinate set to 1.

        With biases the user's own bias shifts every item alike: a constant 1 in its place makes one
        product give the latent score plus the item's bias.
        """
        # Every user in order (one request each, as a period): views, not copies of the (n, d, d) factors.
        rows = slice(None) if len(users) == self.n_users and np.array_equal(users, np.arange(self.n_users)) else users
        draws = draw(self._user.mean[rows], self._user.inverse_factor[rows], self.rng).astype(np.float32)
        if self.config.biases:
            draws[:, self.config.rank] = 1.0
        return draws

    def _item_draw_factors(self) -> np.ndarray:
        """``[L_i⁻¹; m_i]`` per item, single precision: the row vector ``[z, 1]`` times it is the draw ``m_i + z L_i⁻¹``."""
        d = self.dim
        factors = np.empty((self.n_items, d + 1, d), dtype=np.float32)
        factors[:, :d] = self._item.inverse_factor
        factors[:, d] = self._item.mean
        return factors

    def _catalogue_draws(self, pool: np.ndarray, factors: np.ndarray, n_draws: int) -> np.ndarray:
        """``n_draws`` posterior draws of every item, ``(n_items, n_draws, d)``.

        ``pool`` is ``(n_items, d + 1)``, standard normals with a last column of ones, and each draw
        gives the items its rows in its own random order, ``item ↦ (a · item + c) mod n_items`` with
        a distinct ``(a, c)`` per draw (while there are enough); ``factors`` is
        :meth:`_item_draw_factors`. All draws of an item come from one small product.
        """
        n, multipliers = self.n_items, self._order_multipliers
        maps = self.rng.choice(len(multipliers) * n, n_draws, replace=n_draws > len(multipliers) * n)
        orders = np.multiply.outer(multipliers[maps // n], np.arange(n))  # (draws, items): row s is draw s's order
        orders += (maps % n)[:, None]
        orders -= (orders // n) * n  # mod n: NumPy divides by a scalar fast, and `%` takes longer than the rest
        return np.matmul(np.take(pool, orders.T, axis=0), factors)

    def _best_items(self, user_draws: np.ndarray) -> np.ndarray:
        """Each request's item of highest sampled score, its request scored against one of the catalogue draws."""
        n, d = len(user_draws), self.dim
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
        factors = self._item_draw_factors()
        # One pool of standard normals per call; every catalogue draw gives the items the pool's vectors in
        # its own order (a permutation). Within a draw the items' noises are thus independent standard normals
        # (the draw is an exact posterior sample); draws differ by the order, at a fraction of the cost of
        # fresh normals for each.
        pool = np.ones((self.n_items, d + 1), dtype=np.float32)
        pool[:, :d] = self.rng.standard_normal((self.n_items, d), dtype=np.float32)
        for first in range(0, n_draws, draws_per_block):
            block = slice(first, min(n_draws, first + draws_per_block))
            catalogues = self._catalogue_draws(pool, factors, block.stop - block.start)
            by_draw = catalogues.transpose(1, 2, 0)  # (draws, d, n_items), a strided view BLAS takes as is
            for start in range(0, per_draw, rows_per_chunk):
                requests = slots[start : start + rows_per_chunk, block].T  # (draws, rows)
                best = self._argmax_scores(user_draws[requests], by_draw)
                valid = requests >= 0
                items[requests[valid]] = best[valid]
        return items

    def _argmax_scores(self, requests: np.ndarray, by_draw: np.ndarray) -> np.ndarray:
        """``argmax`` over items of ``requests[s] @ by_draw[s]`` per draw ``s``: ``(draws, rows, d)``, ``(draws, d, items)``.

        A few draws at a time (:data:`SCORE_CACHE_ENTRIES`), into one reused buffer.
        """
        n_draws, rows = requests.shape[:2]
        step = max(1, SCORE_CACHE_ENTRIES // (rows * self.n_items))
        best = np.empty((n_draws, rows), dtype=np.int64)
        scores = np.empty((min(step, n_draws), rows, self.n_items), dtype=np.float32)
        for first in range(0, n_draws, step):
            last = min(n_draws, first + step)
            block = scores[: last - first]
            np.matmul(requests[first:last], by_draw[first:last], out=block)
            np.argmax(block, axis=2, out=best[first:last])
        return best
