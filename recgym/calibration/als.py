"""Alternating least squares for explicit ratings, in NumPy, one batched solve per half-sweep.

The model is ``rating ≈ global_mean + b_u + b_i + p_u · q_i`` (or ``p_u · q_i`` alone with
``biases=False``). With the item side fixed, every user's ``[p_u, b_u]`` is the ridge solution

    (Σ_i f_i f_iᵀ + λ_u I) x_u = Σ_i f_i (r_ui - global_mean - b_i),    f_i = [q_i, 1],

and symmetrically for items; ``λ_u = regularization * n_u`` (the weighted-λ rule of Zhou et al. 2008
and of Spark MLlib's ``regParam``), or ``regularization`` alone with ``weighted_regularization=False``.
All users' normal equations are built at once (one ``np.bincount`` per entry of the symmetric
Gram matrix) and solved as one ``(n_users, k, k)`` stack, so the cost of a half-sweep is
``O(n_ratings k² + n_users k³)`` with no Python loop over users or ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recgym._validation import check_int, check_real


@dataclass(frozen=True, eq=False)
class ALSFactors:
    """A fitted factor model: ``predict(u, i) = global_mean + user_bias[u] + item_bias[i] + user_factors[u] · item_factors[i]``.

    Users and items without ratings have zero factors and zero biases (they are predicted the
    global mean plus the other side's bias). Without biases, both bias arrays are zero and
    ``global_mean`` is 0.

    Attributes
    ----------
    user_factors : numpy.ndarray of float64, shape (n_users, rank)
    item_factors : numpy.ndarray of float64, shape (n_items, rank)
    user_bias : numpy.ndarray of float64, shape (n_users,)
    item_bias : numpy.ndarray of float64, shape (n_items,)
    global_mean : float
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    global_mean: float

    def __post_init__(self) -> None:
        user_factors = np.asarray(self.user_factors, dtype=np.float64)
        item_factors = np.asarray(self.item_factors, dtype=np.float64)
        if user_factors.ndim != 2 or item_factors.ndim != 2 or user_factors.shape[1] != item_factors.shape[1]:
            raise ValueError(
                f"user_factors and item_factors must be 2-D with the same number of columns, "
                f"got shapes {user_factors.shape} and {item_factors.shape}"
            )
        user_bias = np.asarray(self.user_bias, dtype=np.float64)
        item_bias = np.asarray(self.item_bias, dtype=np.float64)
        if user_bias.shape != (len(user_factors),) or item_bias.shape != (len(item_factors),):
            raise ValueError(
                f"user_bias and item_bias must have shapes ({len(user_factors)},) and ({len(item_factors)},), "
                f"got {user_bias.shape} and {item_bias.shape}"
            )
        for name, array in (("user_factors", user_factors), ("item_factors", item_factors), ("user_bias", user_bias),
                            ("item_bias", item_bias)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "global_mean", check_real("global_mean", float(self.global_mean)))

    @property
    def rank(self) -> int:
        """Number of latent factors."""
        return int(self.user_factors.shape[1])

    @property
    def n_users(self) -> int:
        """Rows of ``user_factors``."""
        return len(self.user_factors)

    @property
    def n_items(self) -> int:
        """Rows of ``item_factors``."""
        return len(self.item_factors)

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings of paired ``users[j]`` and ``items[j]`` (integer index arrays of one shape)."""
        users, items = np.asarray(users), np.asarray(items)
        dots = np.einsum("...j,...j->...", self.user_factors[users], self.item_factors[items])
        return self.global_mean + self.user_bias[users] + self.item_bias[items] + dots


def _indexes(name: str, values: Any, n: int, size: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{name} must be a 1-D array of integers, got dtype {array.dtype} and shape {array.shape}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= n):
        raise ValueError(f"{name} must lie in [0, {size}={n}), got values in [{array.min()}, {array.max()}]")
    return array


def _solve_side(
    rows: np.ndarray,
    cols: np.ndarray,
    targets: np.ndarray,
    n_rows: int,
    features: np.ndarray,
    counts: np.ndarray,
    regularization: float,
    weighted: bool,
) -> np.ndarray:
    """Ridge solutions ``x_r`` of every row of one side, given the other side's ``features`` (n_cols, k).

    Row ``r`` minimises ``Σ_(r, c) (targets - features[c] · x_r)² + λ_r |x_r|²``; rows without
    ratings get zeros.
    """
    k = features.shape[1]
    gathered = features[cols]
    gram = np.empty((n_rows, k, k))
    for a in range(k):
        for b in range(a, k):
            entry = np.bincount(rows, weights=gathered[:, a] * gathered[:, b], minlength=n_rows)
            gram[:, a, b] = entry
            gram[:, b, a] = entry
    rhs = np.empty((n_rows, k))
    for a in range(k):
        rhs[:, a] = np.bincount(rows, weights=gathered[:, a] * targets, minlength=n_rows)
    ridge = regularization * counts if weighted else np.full(n_rows, regularization)
    diagonal = np.arange(k)
    gram[:, diagonal, diagonal] += ridge[:, None]
    empty = counts == 0
    gram[empty] = np.eye(k)  # rhs is 0 there: the solution is 0
    try:
        return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # singular (regularization 0 and too few ratings): minimum-norm solutions
        return (np.linalg.pinv(gram) @ rhs[:, :, None])[:, :, 0]


def fit_als(
    users: Any,
    items: Any,
    ratings: Any,
    n_users: int,
    n_items: int,
    rank: int = 10,
    regularization: float = 0.1,
    n_iterations: int = 15,
    rng: np.random.Generator | int = 0,
    biases: bool = True,
    initial: ALSFactors | None = None,
    *,
    weighted_regularization: bool = True,
    init_scale: float = 0.1,
) -> ALSFactors:
    """Fit ``rating ≈ global_mean + b_u + b_i + p_u · q_i`` by alternating least squares.

    Each iteration solves every user given the items, then every item given the users (see the
    module docstring for the normal equations).

    Parameters
    ----------
    users, items : array of int, shape (n_ratings,)
        Index of each rating's user (in ``[0, n_users)``) and item (in ``[0, n_items)``). Repeated
        pairs count as separate observations.
    ratings : array of float, shape (n_ratings,)
    n_users, n_items : int
        Sizes of the factor matrices; indexes without ratings get zero factors and biases.
    rank : int
        Number of latent factors (>= 1).
    regularization : float
        Ridge weight λ (>= 0); per user and item it is multiplied by the number of its ratings when
        ``weighted_regularization`` (as Spark MLlib's ``regParam``). It also shrinks the biases.
    n_iterations : int
        Full sweeps (users, then items), >= 1.
    rng : numpy.random.Generator or int
        Source of the initial item factors, ``Normal(0, init_scale²)`` (an int seeds a new generator).
        Not drawn from when ``initial`` is given.
    biases : bool
        Fit ``global_mean`` (the mean rating, held fixed) and per-user and per-item biases; without
        them the model is ``p_u · q_i`` alone.
    initial : ALSFactors or None
        Warm start: its item factors (and item biases, with ``biases``) start the first sweep. Its
        shapes must be ``(n_users, rank)`` and ``(n_items, rank)``.
    weighted_regularization : bool
        Scale λ by each row's number of ratings (True) or use it as is (False).
    init_scale : float
        Standard deviation of the random initial item factors.

    Returns
    -------
    ALSFactors

    Raises
    ------
    ValueError
        If an argument is out of range, the arrays' lengths differ, an index is out of range or a
        rating is not finite.
    """
    n_users = check_int("n_users", n_users, minimum=0)
    n_items = check_int("n_items", n_items, minimum=0)
    rank = check_int("rank", rank, minimum=1)
    regularization = check_real("regularization", regularization, minimum=0.0)
    n_iterations = check_int("n_iterations", n_iterations, minimum=1)
    init_scale = check_real("init_scale", init_scale, minimum=0.0)
    users = _indexes("users", users, n_users, "n_users")
    items = _indexes("items", items, n_items, "n_items")
    ratings = np.asarray(ratings, dtype=np.float64)
    if ratings.ndim != 1 or not (len(users) == len(items) == len(ratings)):
        raise ValueError(
            f"users, items and ratings must be 1-D arrays of one length, got lengths {len(users)}, {len(items)} "
            f"and {len(ratings)} (ratings shape {ratings.shape})"
        )
    if not np.isfinite(ratings).all():
        raise ValueError(f"ratings must be finite, got {int((~np.isfinite(ratings)).sum())} NaN or infinite value(s)")

    global_mean = float(ratings.mean()) if biases and len(ratings) else 0.0
    residual = ratings - global_mean
    user_counts = np.bincount(users, minlength=n_users).astype(np.float64)
    item_counts = np.bincount(items, minlength=n_items).astype(np.float64)
    if initial is not None:
        if not isinstance(initial, ALSFactors):
            raise ValueError(f"initial must be an ALSFactors or None, got {type(initial).__name__}")
        if initial.user_factors.shape != (n_users, rank) or initial.item_factors.shape != (n_items, rank):
            raise ValueError(
                f"initial must have factor shapes ({n_users}, {rank}) and ({n_items}, {rank}), "
                f"got {initial.user_factors.shape} and {initial.item_factors.shape}"
            )
        item_factors = np.array(initial.item_factors)
        item_bias = np.array(initial.item_bias) if biases else np.zeros(n_items)
    else:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(check_int("rng", rng, minimum=0))
        item_factors = init_scale * rng.standard_normal((n_items, rank))
        item_bias = np.zeros(n_items)
    user_factors = np.zeros((n_users, rank))
    user_bias = np.zeros(n_users)

    def solve(rows: np.ndarray, cols: np.ndarray, targets: np.ndarray, features: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return _solve_side(rows, cols, targets, len(counts), features, counts, regularization, weighted_regularization)

    for _ in range(n_iterations):
        if biases:
            solution = solve(users, items, residual - item_bias[items], np.hstack([item_factors, np.ones((n_items, 1))]),
                             user_counts)
            user_factors, user_bias = solution[:, :rank], solution[:, rank]
            solution = solve(items, users, residual - user_bias[users], np.hstack([user_factors, np.ones((n_users, 1))]),
                             item_counts)
            item_factors, item_bias = solution[:, :rank], solution[:, rank]
        else:
            user_factors = solve(users, items, residual, item_factors, user_counts)
            item_factors = solve(items, users, residual, user_factors, item_counts)
    # The last item sweep gave items without ratings zero factors and biases, whatever they started from.
    return ALSFactors(user_factors, item_factors, user_bias, item_bias, global_mean)
