"""Compare a trained agent with the baselines of its env family, evaluated on the same episodes.

Baselines, built for the evaluation env itself (the oracles read its ground truth):

========================  ====================================================================
short-video envs          ``random`` (:class:`~agents.baselines.RandomPolicy`), ``greedy (business
                          score)``, ``category rotation``, ``oracle (myopic)``
                          (:class:`~agents.oracle.ShortVideoOracle`: best expected immediate reward)
rating envs               ``random`` (:class:`~agents.ratings_baselines.RandomActionPolicy`: a
                          uniform item, or a uniform point of the embedding ``Box``), ``population
                          best`` (:class:`~agents.ratings_baselines.PopulationBestPolicy`) and
                          ``oracle`` (:class:`~agents.oracle.RatingsOracle`: zero regret)
========================  ====================================================================

:func:`comparison_table` turns :class:`~agents.training.EvalResult` objects into one row per
policy; :func:`format_comparison` prints it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
from agents.oracle import RatingsOracle, ShortVideoOracle
from agents.ratings_baselines import PopulationBestPolicy, RandomActionPolicy
from agents.training import EvalResult, PolicyLike, evaluate
from recgym.envs.registration import RATINGS_IDS, SHORT_VIDEO_IDS

RANDOM = "random"
"""Name of the uniformly random baseline in both families."""

ORACLES = {**dict.fromkeys(SHORT_VIDEO_IDS, "oracle (myopic)"), **dict.fromkeys(RATINGS_IDS, "oracle")}
"""Name of each env id's oracle row, the reference of ``pct_of_oracle``."""

LEADING_COLUMNS = ("policy", "mean_return", "stderr", "pct_of_oracle", "mean_length", "episodes")
METRIC_COLUMNS = (
    "regret",
    "pct_regret_below_random",
    "watch_seconds",
    "watch_rate",
    "like_rate",
    "skip_rate",
    "end_rate",
    "coverage",
    "distinct_items",
)
"""Metric columns in the order they appear (each only when some policy reports it)."""


def baseline_policies(env_id: str, env: gym.vector.VectorEnv, seed: int | None = 0) -> dict[str, PolicyLike]:
    """The baselines of ``env_id``'s family, built for ``env`` (the env they will be evaluated in).

    Parameters
    ----------
    env_id : str
        A registered recgym id (:data:`recgym.envs.registration.ENV_IDS`).
    env : gymnasium.vector.VectorEnv
        The evaluation env.
    seed : int or None
        Seed of the random baseline's generator.

    Returns
    -------
    dict of str to policy
        Name to policy, oracle last (see the module docstring).
    """
    if env_id in SHORT_VIDEO_IDS:
        return {
            RANDOM: RandomPolicy(env, seed=seed),
            "greedy (business score)": GreedyBusinessPolicy(env),
            "category rotation": CategoryRotationPolicy(env),
            ORACLES[env_id]: ShortVideoOracle(env),
        }
    if env_id in RATINGS_IDS:
        return {
            RANDOM: RandomActionPolicy(env, seed=seed),
            "population best": PopulationBestPolicy(env),
            ORACLES[env_id]: RatingsOracle(env),
        }
    raise ValueError(f"env_id must be one of {list(SHORT_VIDEO_IDS + RATINGS_IDS)!r}, got {env_id!r}")


def evaluate_baselines(
    env_id: str, env: gym.vector.VectorEnv, episodes: int, eval_seed: int, *, seed: int | None = 0
) -> dict[str, EvalResult]:
    """Evaluate every baseline of ``env_id`` on ``env`` with the same ``episodes`` and ``eval_seed``.

    Parameters
    ----------
    env_id : str
        A registered recgym id.
    env : gymnasium.vector.VectorEnv
        The evaluation env (reset with ``eval_seed`` before each policy, so each faces the same world).
    episodes : int
        Episodes per policy.
    eval_seed : int
        Seed of the env's reset.
    seed : int or None
        Seed of the random baseline.

    Returns
    -------
    dict of str to EvalResult
        In the order of :func:`baseline_policies`.
    """
    return {
        name: evaluate(policy, env, episodes, seed=eval_seed) for name, policy in baseline_policies(env_id, env, seed).items()
    }


def comparison_table(results: Mapping[str, EvalResult], *, oracle: str, random: str | None = RANDOM) -> pd.DataFrame:
    """One row per policy: returns, the evaluation's info metrics and the shares of the references.

    Parameters
    ----------
    results : Mapping of str to EvalResult
        Policy name to its evaluation, in the order of the rows.
    oracle : str
        The row whose mean return is 100 % in ``pct_of_oracle``.
    random : str or None
        The row ``pct_regret_below_random`` compares with (only when the results report ``regret``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LEADING_COLUMNS`, then those of :data:`METRIC_COLUMNS` that any policy
        reports, then any other metric. ``pct_of_oracle`` is ``100 * mean_return / oracle's``
        (NaN if the oracle's mean return is not positive); ``pct_regret_below_random`` is
        ``100 * (1 - regret / random's regret)``. ``stderr`` is NaN for a single episode.
    """
    if oracle not in results:
        raise ValueError(f"oracle must name one of the results {list(results)!r}, got {oracle!r}")
    rows: list[dict[str, Any]] = []
    for name, result in results.items():
        rows.append({"policy": name, **result.as_dict()})
    table = pd.DataFrame(rows)
    table["episodes"] = table["episodes"].astype(np.int64)
    reference = results[oracle].mean_return
    table["pct_of_oracle"] = 100.0 * table["mean_return"] / reference if reference > 0 else math.nan
    if "regret" in table and random is not None and random in results:
        random_regret = results[random].metrics.get("regret", math.nan)
        if random_regret > 0:
            table["pct_regret_below_random"] = 100.0 * (1.0 - table["regret"] / random_regret)
    known = [column for column in (*LEADING_COLUMNS, *METRIC_COLUMNS) if column in table]
    others = [column for column in table if column not in known and column != "std_return"]
    return table[[*known, *others, "std_return"]].reset_index(drop=True)


def _percent(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.1f} %"


def format_comparison(table: pd.DataFrame) -> str:
    """:func:`comparison_table`'s table as aligned text: ``mean ± stderr``, percentages, rates in %."""
    shown = pd.DataFrame({"policy": table["policy"]})
    shown["mean return ± se"] = [
        f"{m:.3f} ± {se:.3f}" if np.isfinite(se) else f"{m:.3f}"
        for m, se in zip(table["mean_return"], table["stderr"], strict=True)
    ]
    shown["% of oracle"] = table["pct_of_oracle"].map(_percent)
    if "regret" in table:
        shown["regret"] = table["regret"].map("{:.3f}".format)
    if "pct_regret_below_random" in table:
        shown["regret below random"] = table["pct_regret_below_random"].map(_percent)
    for column, header in (("watch_rate", "watched"), ("like_rate", "liked"), ("skip_rate", "skipped"), ("end_rate", "ended")):
        if column in table:
            shown[header] = table[column].map("{:.1%}".format)
    if "watch_seconds" in table:
        shown["watch s"] = table["watch_seconds"].map("{:.2f}".format)
    if "coverage" in table:
        shown["coverage"] = table["coverage"].map("{:.1%}".format)
    shown["length"] = table["mean_length"].map("{:.2f}".format)
    return shown.to_string(index=False)
