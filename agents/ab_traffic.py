"""Serving one simulated population with two policies: each user's visits are served by the policy of the user's arm.

The seam is recgym's native vector env. Its ``num_envs`` slots are concurrent visits of
different users of **one** shared world: one population, one catalogue, one interaction log and
one CF model. Before every step the runner learns which user each slot holds, looks up that
user's arm, asks **both** policies for actions on the whole batch of observations and keeps, per
slot, the action of that slot's arm. Every policy therefore sees the batch exactly as in an
ordinary evaluation, so oracles that read the slot's ground truth, and policies with per-slot
state, behave as they would alone (at the cost of computing both policies' actions for every slot).

- **Short video**: a visit is a session. The env draws the user of each new session uniformly
  from the users not in a session (random arrivals, like real traffic), and reports it in the
  reset info (``info["user"]``); the user keeps that slot until the session ends. A user comes
  back for several sessions and always meets the same arm. The first ``n_visits`` sessions to
  start are played to their end, as :func:`agents.training.evaluate` does with episodes.
  Regret is the myopic one of :class:`agents.oracle.ShortVideoOracle`: the best candidate's
  expected immediate reward minus the shown one's, from the simulator's ground truth.
- **Ratings**: a visit is one request. The env's request stream has every user request once per
  period in random order; ``env.pending_users`` says whose requests the next step serves (their
  stable identities are the simulator's ``user_uid``, which newly arriving users never reuse).

Both arms change the shared world (view counts, the CF statistics), as two recommenders sharing a
platform do: the comparison includes that interference, which a real A/B test also has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium.vector import AutoresetMode
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from agents.base import Observations
from agents.oracle import ShortVideoOracle
from agents.training import torch_threads
from recgym._validation import check_int
from recgym.ab.assignment import assign_arms
from recgym.envs.registration import RATINGS_IDS, SHORT_VIDEO_IDS

SHORT_VIDEO_COLUMNS = ("impressions", "clicks", "likes", "skips", "watch_seconds", "reward", "regret")
RATINGS_COLUMNS = ("impressions", "clicks", "rating", "regret")
CLICK_OUTCOMES = ("watched", "liked")
"""Short-video outcomes that count as a click (the user took the recommendation)."""


class ArmLookup:
    """Arms of user ids, hashed once per id (ids beyond those seen so far are hashed when they first appear).

    Parameters
    ----------
    seed : int
        The experiment's seed.
    treatment_share : float
        Share of users in B.
    known_users : int
        Ids ``0 .. known_users - 1`` are hashed at construction.
    """

    def __init__(self, seed: int, treatment_share: float, known_users: int = 0) -> None:
        self.seed, self.treatment_share = seed, treatment_share
        self.arms = assign_arms(range(known_users), seed, treatment_share=treatment_share)

    def __call__(self, users: np.ndarray) -> np.ndarray:
        """The arm (0 = A, 1 = B) of each id in ``users``."""
        users = np.asarray(users, dtype=np.int64)
        if len(users) and users.max() >= len(self.arms):
            more = assign_arms(range(len(self.arms), int(users.max()) + 1), self.seed, treatment_share=self.treatment_share)
            self.arms = np.concatenate([self.arms, more])
        return self.arms[users]


class _ShortVideoVisits:
    """Sessions: users from the infos, clicks and watch time from the outcomes, myopic regret from the oracle."""

    columns = SHORT_VIDEO_COLUMNS
    visit_per_step = False

    def __init__(self, env: gym.vector.VectorEnv, click_threshold: float) -> None:
        self.oracle = ShortVideoOracle(env)
        self.slot_user = np.full(env.num_envs, -1, dtype=np.int64)

    def read_users(self, infos: dict[str, Any]) -> None:
        mask = infos.get("_user")
        if mask is not None:
            self.slot_user[mask] = infos["user"][mask]

    def users(self) -> np.ndarray:
        return self.slot_user.copy()

    def before_step(self) -> np.ndarray:
        return self.oracle.expected_rewards()

    def values(self, infos: dict[str, Any], actions: np.ndarray, rewards: np.ndarray, expected: np.ndarray,
               stepped: np.ndarray) -> dict[str, np.ndarray]:
        n = len(rewards)
        outcome = np.where(stepped, infos.get("outcome", np.full(n, None, dtype=object)), None)
        chosen = expected[np.arange(n), actions]
        return {
            "impressions": stepped.astype(np.float64),
            "clicks": ((outcome == CLICK_OUTCOMES[0]) | (outcome == CLICK_OUTCOMES[1])).astype(np.float64),
            "likes": (outcome == "liked").astype(np.float64),
            "skips": (outcome == "skipped").astype(np.float64),
            "watch_seconds": np.where(stepped, infos.get("watch_seconds", np.zeros(n)), 0.0),
            "reward": np.where(stepped, rewards, 0.0),
            "regret": np.where(stepped, expected.max(axis=1) - chosen, 0.0),
        }


class _RatingsVisits:
    """Requests: users from ``pending_users`` (as stable uids), a click when the rating reaches the threshold."""

    columns = RATINGS_COLUMNS
    visit_per_step = True

    def __init__(self, env: gym.vector.VectorEnv, click_threshold: float) -> None:
        self.env = env.unwrapped
        self.click_threshold = click_threshold

    def read_users(self, infos: dict[str, Any]) -> None:
        pass

    def users(self) -> np.ndarray:
        return self.env.simulator.user_uid[self.env.pending_users].astype(np.int64)

    def before_step(self) -> None:
        return None

    def values(self, infos: dict[str, Any], actions: np.ndarray, rewards: np.ndarray, expected: None,
               stepped: np.ndarray) -> dict[str, np.ndarray]:
        n = len(rewards)
        rating = np.where(stepped, infos.get("rating", np.zeros(n)), 0.0)
        return {
            "impressions": stepped.astype(np.float64),
            "clicks": (stepped & (rating >= self.click_threshold)).astype(np.float64),
            "rating": rating,
            "regret": np.where(stepped, infos.get("regret", np.zeros(n)), 0.0),
        }


@dataclass
class Traffic:
    """What :func:`serve_traffic` returns.

    Attributes
    ----------
    visits : pandas.DataFrame
        One row per visit in order of completion: ``visit`` (order of starting), ``user``, ``arm``
        (0 = A, 1 = B), ``end_step`` (vector step it ended in), ``slot``, and the sums over the
        visit's steps of the family's columns (:data:`SHORT_VIDEO_COLUMNS` or :data:`RATINGS_COLUMNS`).
    steps : int
        Vector env steps taken.
    seconds : float
        Wall time.
    """

    visits: pd.DataFrame
    steps: int
    seconds: float


def _select(actions_a: Any, actions_b: Any, arms: np.ndarray) -> np.ndarray:
    a, b = np.asarray(actions_a), np.asarray(actions_b)
    if a.shape != b.shape or a.shape[:1] != arms.shape:
        raise ValueError(f"both policies must return one action per env ({len(arms)}), got shapes {a.shape} and {b.shape}")
    mask = arms.astype(bool).reshape((-1,) + (1,) * (a.ndim - 1))
    return np.where(mask, b, a)


def serve_traffic(
    env: gym.vector.VectorEnv,
    env_id: str,
    act_a: Callable[[Observations], np.ndarray],
    act_b: Callable[[Observations], np.ndarray],
    arm_of: Callable[[np.ndarray], np.ndarray],
    n_visits: int,
    *,
    seed: int,
    click_threshold: float = 3.5,
    progress_bar: bool = False,
) -> Traffic:
    """Run ``n_visits`` visits of one population, each served by the policy of its user's arm.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        A recgym native vector env with next-step autoreset (``make_vector_env``), not yet reset.
    env_id : str
        Its id (short-video or ratings family).
    act_a, act_b : callable
        ``batch of observations -> actions`` of each arm.
    arm_of : callable
        User ids -> arms (0 = A, 1 = B), e.g. an :class:`ArmLookup`.
    n_visits : int
        Sessions (short video) or requests (ratings) to serve.
    seed : int
        The world's seed (``env.reset(seed=seed)``).
    click_threshold : float
        Ratings: a rating at least this high counts as a click.
    progress_bar : bool
        Show a tqdm bar over visits.

    Returns
    -------
    Traffic
    """
    n_visits = check_int("n_visits", n_visits, minimum=1)
    if env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) != AutoresetMode.NEXT_STEP:
        raise ValueError("env must use next-step autoreset (recgym's vector envs do by default)")
    if env_id in SHORT_VIDEO_IDS:
        reader: Any = _ShortVideoVisits(env, click_threshold)
    elif env_id in RATINGS_IDS:
        reader = _RatingsVisits(env, click_threshold)
    else:
        raise ValueError(f"env_id must be one of {list(SHORT_VIDEO_IDS + RATINGS_IDS)!r}, got {env_id!r}")
    n = env.num_envs
    sums = {column: np.zeros(n) for column in reader.columns}
    ordinal, started, finished, steps = np.arange(n), n, 0, 0
    resetting = np.zeros(n, dtype=bool)
    parts: list[dict[str, np.ndarray]] = []
    start = time.perf_counter()
    observations, infos = env.reset(seed=seed)
    reader.read_users(infos)
    with torch_threads(1), tqdm(total=n_visits, disable=not progress_bar, unit="visit", desc="A/B traffic") as bar:
        while finished < n_visits:
            users = reader.users()
            arms = arm_of(users)
            expected = reader.before_step()
            actions = _select(act_a(observations), act_b(observations), arms)
            observations, rewards, terminated, truncated, infos = env.step(actions)
            steps += 1
            stepped = ~resetting
            for column, values in reader.values(infos, actions, rewards, expected, stepped).items():
                sums[column] += values
            if reader.visit_per_step:
                ended = np.flatnonzero(stepped)[: n_visits - finished]
                numbers = finished + np.arange(len(ended))
                closing = stepped
            else:
                closing = (terminated | truncated) & stepped
                done = np.flatnonzero(closing)
                ended = done[ordinal[done] < n_visits]
                numbers = ordinal[ended]
                ordinal[done] = started + np.arange(len(done))
                started += len(done)
            if len(ended):
                parts.append({"visit": numbers, "user": users[ended], "arm": arms[ended],
                              "end_step": np.full(len(ended), steps), "slot": ended,
                              **{column: sums[column][ended].copy() for column in reader.columns}})
            for values in sums.values():
                values[closing] = 0.0
            finished += len(ended)
            bar.update(len(ended))
            resetting = terminated | truncated
            reader.read_users(infos)
    visits = pd.DataFrame({key: np.concatenate([part[key] for part in parts]) for key in parts[0]})
    visits = visits.astype({"visit": np.int64, "user": np.int64, "arm": np.int8, "end_step": np.int64, "slot": np.int64})
    return Traffic(visits, steps, time.perf_counter() - start)
