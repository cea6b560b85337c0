"""Run a policy for a number of sessions on a native vector env and summarise them from the interaction log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

Policy = Any
"""Anything with ``act(observations) -> actions`` for a batch of observations."""


def run_sessions(
    env_id: str,
    make_policy: Callable[[gym.vector.VectorEnv], Policy],
    *,
    sessions: int,
    seed: int,
    num_envs: int = 16,
    **env_kwargs: Any,
) -> pd.DataFrame:
    """Play the first ``sessions`` sessions of ``make_policy(env)`` to their end; one row per session.

    Every session started among the first ``sessions`` is played to its end, however long, so
    long sessions are not under-represented. Every call with the same ``seed`` draws the same
    world, so policies compared with the same seed face the same users, catalogue and history.

    Parameters
    ----------
    env_id : str
        A registered recgym short-video id.
    make_policy : callable
        Builds the policy from the vector env.
    sessions : int
        Sessions to play.
    seed : int
        World and response seed.
    num_envs : int
        Concurrent sessions.
    **env_kwargs
        Knobs passed to ``gym.make_vec``.

    Returns
    -------
    pandas.DataFrame
        Columns ``session_id, user_id, steps, return, watch_seconds, watched, liked, skipped, ended``
        (``ended``: the user ended the session rather than it being truncated).
    """
    if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1:
        raise ValueError(f"sessions must be a positive integer, got {sessions!r}")
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    try:
        policy = make_policy(env)
        observations, _ = env.reset(seed=seed)
        # Session ids count up from 0 in the order sessions start.
        finished = np.zeros(sessions, dtype=bool)
        while not finished.all():
            observations, _, terminated, truncated, infos = env.step(policy.act(observations))
            ended = infos["session_id"][(terminated | truncated) & infos["_session_id"]]
            finished[ended[ended < sessions]] = True
        log = env.unwrapped.interaction_log()
    finally:
        env.close()
    played = log[~log["from_history"] & (log["session_id"] < sessions)]
    summary = played.groupby("session_id").agg(
        user_id=("user_id", "first"),
        steps=("time_step", "size"),
        **{"return": ("reward", "sum")},
        watch_seconds=("watch_seconds", "sum"),
        watched=("action", lambda a: int((a == "watched").sum())),
        liked=("action", lambda a: int((a == "liked").sum())),
        skipped=("action", lambda a: int((a == "skipped").sum())),
        ended=("action", lambda a: bool((a == "session_end").any())),
    )
    return summary.reset_index()


def summarise(sessions: pd.DataFrame) -> dict[str, float]:
    """Mean return (with its standard error), session length, watch time and outcome rates of ``sessions``."""
    shown = sessions["steps"].sum()
    n = len(sessions)
    return {
        "sessions": n,
        "mean_return": sessions["return"].mean(),
        "return_se": sessions["return"].std(ddof=1) / np.sqrt(n) if n > 1 else float("nan"),
        "mean_steps": sessions["steps"].mean(),
        "watch_seconds": sessions["watch_seconds"].mean(),
        "watched_rate": sessions["watched"].sum() / shown,
        "liked_rate": sessions["liked"].sum() / shown,
        "skipped_rate": sessions["skipped"].sum() / shown,
    }
