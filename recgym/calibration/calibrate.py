"""A latent-factor rating world fitted to a real log: the hidden truth of ``RecGym-Ratings-v0`` from data.

>>> import gymnasium as gym
>>> from recgym.calibration import calibrate_world
>>> from recgym.data import movielens_100k_path, read_ratings
>>> world = calibrate_world(read_ratings(movielens_100k_path()))  # doctest: +SKIP
>>> env = gym.make("RecGym-Ratings-v0", **world.env_kwargs())  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recgym._validation import check_int, check_real
from recgym.calibration.als import ALSFactors, fit_als
from recgym.data.movielens import RatingLog, reindex_ratings


@dataclass(frozen=True, eq=False)
class CalibratedWorld:
    """Hidden user and item attributes fitted to a rating log, and the rating noise around them.

    The mean rating of user ``u`` and item ``i`` is ``item_attributes[i] · user_attributes[u]``,
    exactly the fitted ``global_mean + b_u + b_i + p_u · q_i``: the biases are folded into two extra
    features,

        user_attributes[u] = [p_u, 1, b_u + global_mean],    item_attributes[i] = [q_i, b_i, 1],

    so ``n_features = rank + 2``. Mean ratings are not clipped to the log's rating scale.

    Attributes
    ----------
    user_attributes : numpy.ndarray of float64, shape (n_users, rank + 2)
    item_attributes : numpy.ndarray of float64, shape (n_items, rank + 2)
    noise_std : float
        Standard deviation of the world's rating noise: the held-out RMSE (see :func:`calibrate_world`).
    rmse_train, rmse_holdout : float
        RMSE of the model fitted on the training split, on that split and on the held-out ratings
        (``nan`` without a holdout).
    user_ids, item_ids : numpy.ndarray
        Original id of each user and item row.
    factors : ALSFactors
        The fitted model the attributes come from.
    """

    user_attributes: np.ndarray
    item_attributes: np.ndarray
    noise_std: float
    rmse_train: float
    rmse_holdout: float
    user_ids: np.ndarray
    item_ids: np.ndarray
    factors: ALSFactors

    @property
    def n_users(self) -> int:
        """Rows of ``user_attributes``."""
        return len(self.user_attributes)

    @property
    def n_items(self) -> int:
        """Rows of ``item_attributes``."""
        return len(self.item_attributes)

    @property
    def n_features(self) -> int:
        """Columns of the attribute arrays (``rank + 2``)."""
        return int(self.user_attributes.shape[1])

    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``gym.make("RecGym-Ratings-v0", **world.env_kwargs())``: the attributes and noise."""
        return {"user_attributes": self.user_attributes, "item_attributes": self.item_attributes, "noise_std": self.noise_std}


def _rmse(factors: ALSFactors, users: np.ndarray, items: np.ndarray, ratings: np.ndarray) -> float:
    if len(ratings) == 0:
        return float("nan")
    return float(np.sqrt(np.mean((factors.predict(users, items) - ratings) ** 2)))


def fold_biases(factors: ALSFactors) -> tuple[np.ndarray, np.ndarray]:
    """User and item attributes whose dot products are the model's predictions.

    Returns
    -------
    user_attributes : numpy.ndarray, shape (n_users, rank + 2)
        ``[p_u, 1, b_u + global_mean]``.
    item_attributes : numpy.ndarray, shape (n_items, rank + 2)
        ``[q_i, b_i, 1]``.
    """
    users = np.column_stack([factors.user_factors, np.ones(factors.n_users), factors.user_bias + factors.global_mean])
    items = np.column_stack([factors.item_factors, factors.item_bias, np.ones(factors.n_items)])
    return users, items


def calibrate_world(
    log: RatingLog | pd.DataFrame,
    rank: int = 10,
    regularization: float = 0.1,
    n_iterations: int = 15,
    holdout_fraction: float = 0.1,
    seed: int = 0,
    *,
    refit: bool = True,
) -> CalibratedWorld:
    """Fit a latent-factor model with biases to a rating log and turn it into a rating world.

    1. A random ``holdout_fraction`` of the ratings is held out; :func:`~recgym.calibration.fit_als`
       fits ``global_mean + b_u + b_i + p_u · q_i`` on the rest, giving ``rmse_train`` and
       ``rmse_holdout``.
    2. ``noise_std`` is ``rmse_holdout``: the spread of real ratings around the model's prediction
       on ratings it has not seen. It counts the model's error as noise too, so the world's
       ratings are about as predictable from their means as the real ones are from the model
       (the training RMSE would understate it: the model fits its own training noise). Without a
       holdout (``holdout_fraction=0``) it falls back to ``rmse_train``.
    3. With ``refit`` (default) the model is fitted again, with the same settings, on every rating,
       so no user or item loses ratings to the holdout; otherwise the training-split model is kept.
       Its biases are folded into the attributes (see :class:`CalibratedWorld`).

    Parameters
    ----------
    log : RatingLog or pandas.DataFrame
        A :class:`~recgym.data.RatingLog`, or a frame with columns ``user_id``, ``item_id``,
        ``rating`` (and optionally ``timestamp``), e.g. from :func:`~recgym.data.read_ratings`.
    rank : int
        Latent factors (>= 1); the world has ``rank + 2`` features.
    regularization : float
        Ridge weight (>= 0), scaled by each user's and item's number of ratings (as Spark's ``regParam``).
    n_iterations : int
        ALS sweeps (>= 1).
    holdout_fraction : float
        Share of ratings held out, in ``[0, 1)``.
    seed : int
        Seeds the holdout split and the ALS initialisations.
    refit : bool
        Refit on all ratings for the world's attributes (True) or keep the training-split model.

    Returns
    -------
    CalibratedWorld

    Raises
    ------
    ValueError
        If an argument is out of range, the log is not a RatingLog or a valid frame, or it has too
        few ratings for the split (at least one training and, with a holdout, one held-out rating).
    """
    rank = check_int("rank", rank, minimum=1)
    regularization = check_real("regularization", regularization, minimum=0.0)
    n_iterations = check_int("n_iterations", n_iterations, minimum=1)
    holdout_fraction = check_real("holdout_fraction", holdout_fraction, minimum=0.0)
    if holdout_fraction >= 1.0:
        raise ValueError(f"holdout_fraction must be < 1, got {holdout_fraction!r}")
    seed = check_int("seed", seed, minimum=0)
    if isinstance(log, pd.DataFrame):
        log = reindex_ratings(log)
    elif not isinstance(log, RatingLog):
        raise ValueError(f"log must be a RatingLog or a pandas DataFrame, got {type(log).__name__}")
    n = log.n_ratings
    n_holdout = max(round(holdout_fraction * n), 1 if holdout_fraction > 0 else 0)
    if n - n_holdout < 1:
        raise ValueError(
            f"log must hold enough ratings for a training split and a holdout of {holdout_fraction!r}, got {n} rating(s)"
        )

    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    held, kept = order[:n_holdout], order[n_holdout:]
    users, items, ratings = log.users, log.items, log.ratings
    settings = {"n_users": log.n_users, "n_items": log.n_items, "rank": rank, "regularization": regularization,
                "n_iterations": n_iterations, "biases": True}
    model = fit_als(users[kept], items[kept], ratings[kept], rng=rng, **settings)
    rmse_train = _rmse(model, users[kept], items[kept], ratings[kept])
    rmse_holdout = _rmse(model, users[held], items[held], ratings[held])
    if refit and n_holdout:
        model = fit_als(users, items, ratings, rng=rng, **settings)
    user_attributes, item_attributes = fold_biases(model)
    return CalibratedWorld(
        user_attributes=user_attributes,
        item_attributes=item_attributes,
        noise_std=rmse_holdout if n_holdout else rmse_train,
        rmse_train=rmse_train,
        rmse_holdout=rmse_holdout,
        user_ids=log.user_ids,
        item_ids=log.item_ids,
        factors=model,
    )
