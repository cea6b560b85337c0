"""The course's rating protocol (seed 002, SPEC §4) over one ``RecGym-Ratings-v0`` environment.

The environment proposes a (user, item) pair; the client predicts the rating the user will give
the item; the environment answers with the observed rating and proposes the next pair:

- ``reset(seed)`` draws a new world and returns its historical ratings as aligned lists
  (``user_history[j]`` rated ``item_history[j]`` with ``rating_history[j]``), the population and
  catalogue sizes, and the first pair (``next_user``, ``next_item``).
- ``predict(predicted_score)`` serves the proposed pair: the user rates the item (mean
  ``Q_item · P_user`` plus independent noise, as in the env), and the answer is
  ``{"rating", "next_user", "next_item"}``.

Users come from the env's request stream (every user once per period, in random order) and the
proposed item is drawn uniformly from the current catalogue with the env's own generator, so one
seed fixes the whole exchange. Ids are the simulator's uids, which are never reused: with
``new_users_per_period`` / ``new_items_per_period`` above 0, users and items with ids at or above
``nb_users`` / ``nb_items`` appear over time (cold start), and retired ones never come back.

The score of a client is the error of its predictions: :meth:`RatingProtocol.score` gives RMSE and
MAE against the observed ratings, and, for reference, the RMSE of the best possible predictor
(the noise-free mean rating), which no client can beat on average.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from recgym._validation import check_real
from recgym.envs.ratings import RatingsEnv

RATING_PROTOCOL_ENV_ID = "RecGym-Ratings-v0"
"""The env the protocol runs on (item actions: the proposed item is the action)."""

MAX_PREDICTED_SCORE = 1e6
"""Largest accepted ``|predicted_score|``. Ratings are ``Q_item · P_user`` plus noise (0 to ``n_features`` on the
default world), so no sensible prediction comes near it, and with it the score's sums stay finite: a squared error
is at most about 1e12, and a session would need 1e296 predictions to overflow."""


class RatingProtocol:
    """One client's exchange of the rating protocol, over an env made by ``gym.make("RecGym-Ratings-v0", ...)``.

    Parameters
    ----------
    env : gymnasium.Env
        A ``RecGym-Ratings-v0`` env (any world knobs; its ``max_steps`` only sets how often the
        episode restarts internally, which changes nothing in the exchange).
    """

    def __init__(self, env: gym.Env) -> None:
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, RatingsEnv) or unwrapped.action_kind != "item":
            raise ValueError(f"the rating protocol needs a {RATING_PROTOCOL_ENV_ID} env, got {env!r}")
        self.env = env
        self._ratings = unwrapped
        self._item = -1
        self._reset_score()

    @property
    def started(self) -> bool:
        """Whether :meth:`reset` has been called."""
        return self._item >= 0

    def _reset_score(self) -> None:
        self._count = 0
        self._squared = self._absolute = self._oracle_squared = 0.0

    def reset(self, seed: int) -> dict[str, Any]:
        """Draw a new world from ``seed``; return its history, its sizes and the first (user, item) pair."""
        self.env.reset(seed=seed)
        self._reset_score()
        simulator = self._ratings.simulator
        log = simulator.log
        history = log.column("period") < 0
        answer = {
            "nb_users": int(simulator.config.n_users),
            "nb_items": int(simulator.config.n_items),
            "user_history": log.column("user_uid")[history].tolist(),
            "item_history": log.column("item_uid")[history].tolist(),
            "rating_history": log.column("rating")[history].tolist(),
        }
        answer.update(self._propose())
        return answer

    def predict(self, predicted_score: float) -> dict[str, Any]:
        """Score ``predicted_score`` against the proposed pair's rating; return the rating and the next pair.

        Raises
        ------
        RuntimeError
            Before the first :meth:`reset`.
        ValueError
            If ``predicted_score`` is not a finite number within ``[-MAX_PREDICTED_SCORE, MAX_PREDICTED_SCORE]``.
        """
        if not self.started:
            raise RuntimeError("no pair proposed yet: call reset first")
        predicted_score = check_real("predicted_score", predicted_score)
        if abs(predicted_score) > MAX_PREDICTED_SCORE:
            raise ValueError(f"predicted_score must lie within [-{MAX_PREDICTED_SCORE:g}, {MAX_PREDICTED_SCORE:g}], "
                             f"got {predicted_score!r}")
        _, rating, _, truncated, info = self.env.step(self._item)
        error = predicted_score - rating
        self._count += 1
        self._squared += error * error
        self._absolute += abs(error)
        self._oracle_squared += (info["mean_rating"] - rating) ** 2
        if truncated:
            # An episode is only a counting unit here: an unseeded reset continues the same request stream.
            self.env.reset()
        return {"rating": float(rating), **self._propose()}

    def _propose(self) -> dict[str, int]:
        simulator = self._ratings.simulator
        self._item = int(self._ratings.np_random.integers(simulator.config.n_items))
        return {
            "next_user": int(simulator.user_uid[self._ratings.pending_user]),
            "next_item": int(simulator.item_uid[self._item]),
        }

    def score(self) -> dict[str, Any]:
        """The client's prediction error since the last reset.

        Returns
        -------
        dict
            ``predictions`` (count), ``rmse`` and ``mae`` of the predicted scores against the observed
            ratings, and ``oracle_rmse``: the RMSE of predicting the noise-free mean rating (the noise
            floor). The errors are ``None`` before the first prediction.
        """
        n = self._count
        if n == 0:
            return {"predictions": 0, "rmse": None, "mae": None, "oracle_rmse": None}
        return {
            "predictions": n,
            "rmse": math.sqrt(self._squared / n),
            "mae": self._absolute / n,
            "oracle_rmse": math.sqrt(self._oracle_squared / n),
        }


def history_arrays(answer: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The aligned history of a :meth:`RatingProtocol.reset` answer as (users, items, ratings) arrays.

    Parameters
    ----------
    answer : dict
        The JSON answer of ``/reset`` (or of :meth:`RatingProtocol.reset`).

    Returns
    -------
    tuple of numpy.ndarray
        int64 user ids, int64 item ids and float64 ratings, one entry per historical rating.
    """
    return (
        np.asarray(answer["user_history"], dtype=np.int64),
        np.asarray(answer["item_history"], dtype=np.int64),
        np.asarray(answer["rating_history"], dtype=np.float64),
    )
