"""Seed 000's recommender interface, and an adapter that runs any such recommender on ``RecGym-Ratings-v0`` by periods.

A :class:`BatchRecommender` answers a batch of requests at once and learns from a batch of
rated recommendations, as in seed 000:

- ``recommend(users)`` returns a DataFrame with one row per requested user, in request order:
  ``user``, ``item`` (the recommended item) and ``predicted_rating`` (NaN when it has none);
- ``learn(interactions)`` takes a DataFrame with columns ``user``, ``item`` and ``rating`` (the
  observed, noisy rating).

:class:`PeriodAdapter` drives one on the native vector form of ``RecGym-Ratings-v0`` with
``num_envs = n_users``, where one vector step is one period (every user requests once). Each
:meth:`PeriodAdapter.step` reads the requesting users from the observations, asks for
recommendations (timed: inference), steps the env, hands the rated recommendations to ``learn``
(timed: training) and returns the period's :class:`PeriodRecord`: mean regret and rating MSE
from the env's ``info`` (ground truth the recommender never sees).
"""

from __future__ import annotations

import abc
import time
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium.vector import AutoresetMode

from recgym._validation import check_int

RECOMMENDATION_COLUMNS = ("user", "item", "predicted_rating")
"""Columns of :meth:`BatchRecommender.recommend`'s DataFrame."""
INTERACTION_COLUMNS = ("user", "item", "rating")
"""Columns :meth:`BatchRecommender.learn` reads (others are ignored)."""
RATINGS_ENV_ID = "RecGym-Ratings-v0"


def _index_array(name: str, values: Any, n: int, size_name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not (np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array))):
            raise ValueError(f"{name} must hold integer ids in [0, {size_name}={n}), got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= n):
        raise ValueError(f"{name} must lie in [0, {size_name}={n}), got values in [{array.min()}, {array.max()}]")
    return array


class BatchRecommender(abc.ABC):
    """A recommender that serves and learns in batches (seed 000's interface).

    Parameters
    ----------
    n_users, n_items : int
        Users are ids in ``[0, n_users)``, items in ``[0, n_items)``.
    """

    def __init__(self, n_users: int, n_items: int) -> None:
        self.n_users = check_int("n_users", n_users, minimum=1)
        self.n_items = check_int("n_items", n_items, minimum=1)

    @abc.abstractmethod
    def recommend(self, users: Any) -> pd.DataFrame:
        """Recommend one item to each user of ``users`` (1-D integer ids).

        Returns
        -------
        pandas.DataFrame
            One row per requested user, in the same order, with :data:`RECOMMENDATION_COLUMNS`.
        """

    @abc.abstractmethod
    def learn(self, interactions: pd.DataFrame) -> None:
        """Update the model with rated recommendations (columns ``user``, ``item``, ``rating``)."""

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings of pairs ``(users[j], items[j])``; NaN where the recommender has no model (default)."""
        users = self.check_users(users)
        self.check_items(items)
        return np.full(len(users), np.nan)

    # ------------------------------------------------------------------ validation helpers
    def check_users(self, users: Any) -> np.ndarray:
        """``users`` as an int64 array of ids in ``[0, n_users)`` (``ValueError`` otherwise)."""
        return _index_array("users", users, self.n_users, "n_users")

    def check_items(self, items: Any) -> np.ndarray:
        """``items`` as an int64 array of ids in ``[0, n_items)`` (``ValueError`` otherwise)."""
        return _index_array("items", items, self.n_items, "n_items")

    def interaction_arrays(self, interactions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated ``(users, items, ratings)`` arrays of an interactions DataFrame."""
        if not isinstance(interactions, pd.DataFrame):
            raise ValueError(f"interactions must be a pandas DataFrame, got {type(interactions).__name__}")
        missing = [column for column in INTERACTION_COLUMNS if column not in interactions.columns]
        if missing:
            raise ValueError(
                f"interactions must have the columns {list(INTERACTION_COLUMNS)}, missing {missing} "
                f"(got {list(interactions.columns)})"
            )
        users = _index_array("interactions['user']", interactions["user"].to_numpy(), self.n_users, "n_users")
        items = _index_array("interactions['item']", interactions["item"].to_numpy(), self.n_items, "n_items")
        ratings = interactions["rating"].to_numpy(dtype=np.float64)
        if not np.isfinite(ratings).all():
            raise ValueError(f"interactions['rating'] must be finite, got {int((~np.isfinite(ratings)).sum())} NaN or infinite")
        return users, items, ratings


def recommendations_frame(users: np.ndarray, items: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """The DataFrame :meth:`BatchRecommender.recommend` returns."""
    return pd.DataFrame({"user": users, "item": np.asarray(items, dtype=np.int64), "predicted_rating": predicted})


# ---------------------------------------------------------------------------------------------- running by periods
def _step_info(info: dict[str, Any], key: str) -> np.ndarray:
    """A step's per-env info values, taking those of envs that ended (and reset in the same step) from ``final_info``."""
    values = np.array(info[key], dtype=np.float64)
    ended = info.get("_final_info")
    if ended is not None and ended.any():
        values[ended] = info["final_info"][key][ended]
    return values


@dataclass(frozen=True)
class PeriodRecord:
    """What one period of recommendations gave.

    Attributes
    ----------
    period : int
        0 for the first period of the world.
    mean_regret : float
        Mean over the period's requests of ``best mean rating − mean rating of the recommended item``.
    rating_mse : float
        Mean of ``(predicted_rating − mean rating)²`` over the requests with a prediction (NaN if none).
    mean_rating : float
        Mean observed rating.
    inference_seconds : float
        Wall time of ``recommend``.
    training_seconds : float
        Wall time of ``learn``.
    n_requests : int
        Requests served (``n_users``).
    """

    period: int
    mean_regret: float
    rating_mse: float
    mean_rating: float
    inference_seconds: float
    training_seconds: float
    n_requests: int

    def as_dict(self) -> dict[str, float]:
        """The fields as a flat dict (one CSV row)."""
        return asdict(self)


def make_period_env(n_users: int = 1000, n_items: int = 1000, n_features: int = 10, **env_kwargs: Any) -> gym.vector.VectorEnv:
    """A native ``RecGym-Ratings-v0`` vector env whose step is one period (``num_envs = n_users``).

    Autoreset is ``"same_step"``, so the truncation after ``max_steps`` requests per env never
    swallows a step (an env that resets keeps its pending request).

    Parameters
    ----------
    n_users, n_items, n_features : int
        World size (defaults: seed 000's 1,000 × 1,000 with 10 features).
    **env_kwargs
        Any other keyword of ``RecGym-Ratings-v0`` (``noise_std``, ``attribute_distribution``, ...).
    """
    return gym.make_vec(
        RATINGS_ENV_ID,
        num_envs=n_users,
        vectorization_mode="vector_entry_point",
        autoreset_mode="same_step",
        n_users=n_users,
        n_items=n_items,
        n_features=n_features,
        **env_kwargs,
    )


class PeriodAdapter:
    """Run a :class:`BatchRecommender` on a ``RecGym-Ratings-v0`` vector env, one period per step.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        A native ``RecGym-Ratings-v0`` vector env with ``num_envs = n_users`` and
        ``autoreset_mode="same_step"`` (see :func:`make_period_env`), ``"box"`` or ``"dict"``
        observations, and no arriving users or items (positions would change owners under the
        recommender).

    Examples
    --------
    >>> from agents.bandit_baselines import RandomRecommender
    >>> env = make_period_env(n_users=50, n_items=20)
    >>> adapter = PeriodAdapter(env)
    >>> history = adapter.reset(seed=0)  # the ratings before period 0 (none by default)
    >>> record = adapter.step(RandomRecommender(50, 20, seed=0))
    >>> record.period, record.n_requests
    (0, 50)
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        base = env.unwrapped
        if getattr(base, "action_kind", None) != "item" or not hasattr(base, "core"):
            raise ValueError(f"env must be a native {RATINGS_ENV_ID} vector env (make_period_env), got {env!r}")
        config = base.core.config
        if base.num_envs != config.n_users:
            raise ValueError(
                f"env must have num_envs = n_users so that one step is one period, got num_envs={base.num_envs} "
                f"and n_users={config.n_users}"
            )
        if base.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError(
                "env must use autoreset_mode='same_step' (a 'next_step' reset would ignore a period's actions), "
                f"got {base.metadata.get('autoreset_mode')!r}"
            )
        if config.new_users_per_period or config.new_items_per_period:
            raise ValueError(
                "PeriodAdapter needs a world without arrivals (new_users_per_period = new_items_per_period = 0): "
                f"got {config.new_users_per_period} and {config.new_items_per_period}"
            )
        self.env = env
        self.n_users, self.n_items = config.n_users, config.n_items
        self._user_slice = base.observation_layout["user"].flat_slice
        self._observations: Any = None
        self._period = 0

    def reset(self, seed: int | None = None) -> pd.DataFrame:
        """Reset the env (a seed draws a new world); return the history ratings (period −1) to learn from first."""
        self._observations, _ = self.env.reset(seed=seed)
        self._period = 0
        log = self.env.unwrapped.interaction_log()
        return log.loc[log["period"] < 0, list(INTERACTION_COLUMNS)].reset_index(drop=True)

    def requesting_users(self) -> np.ndarray:
        """The users of the next period's requests, in env order, read from the observations."""
        if self._observations is None:
            raise RuntimeError("call reset() before step()")
        observations = self._observations
        if isinstance(observations, dict):
            return np.asarray(observations["user"], dtype=np.int64).reshape(-1)
        return observations[:, self._user_slice].astype(np.int64).reshape(-1)

    def step(self, recommender: BatchRecommender) -> PeriodRecord:
        """Serve one period with ``recommender``, let it learn from the ratings, and return the period's record."""
        users = self.requesting_users()
        start = time.perf_counter()
        recommendations = recommender.recommend(users)
        inference_seconds = time.perf_counter() - start
        if not isinstance(recommendations, pd.DataFrame) or len(recommendations) != len(users):
            raise ValueError(f"recommend must return a DataFrame with one row per requested user ({len(users)})")
        if not np.array_equal(recommendations["user"].to_numpy(), users):
            raise ValueError("recommend must return its rows in the order of the requested users")
        items = recommendations["item"].to_numpy()
        predicted = recommendations["predicted_rating"].to_numpy(dtype=np.float64)
        self._observations, ratings, _, _, info = self.env.step(items)
        interactions = pd.DataFrame({"user": users, "item": items, "rating": ratings})
        start = time.perf_counter()
        recommender.learn(interactions)
        training_seconds = time.perf_counter() - start
        regrets, mean_ratings = _step_info(info, "regret"), _step_info(info, "mean_rating")
        errors = (predicted - mean_ratings) ** 2
        record = PeriodRecord(
            period=self._period,
            mean_regret=float(np.mean(regrets)),
            rating_mse=float(np.nanmean(errors)) if np.isfinite(errors).any() else float("nan"),
            mean_rating=float(np.mean(ratings)),
            inference_seconds=inference_seconds,
            training_seconds=training_seconds,
            n_requests=len(users),
        )
        self._period += 1
        return record
