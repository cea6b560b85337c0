"""``recgym ab``: an A/B test of two policies on one simulated population, from assignment to report.

:func:`run_ab_test` assigns every user of the world to arm A or B by a keyed hash of (seed,
user id) (:mod:`recgym.ab.assignment`), serves the traffic with each user's arm's policy
(:mod:`agents.ab_traffic`), turns the visits into per-user outcomes, tests each metric once at
the planned horizon (:mod:`agents.ab_report`, :mod:`recgym.ab.analysis`) and runs the mSPRT over
``checkpoints`` looks for a view that is valid at any time (:mod:`recgym.ab.sequential`).

Files of the new run directory (never an existing one):

=======================  ====================================================================
``config.json``          the arguments, both policies, the world and library versions
``visits.parquet``       one row per visit (session or request): user, arm, sums of its steps
``users.parquet``        one row per user of the world: arm, whether exposed, sums of visits
``timeline.csv``         every metric at each look, with the always-valid p-value and CS
``report.csv``           one row per metric: both arms, difference and lift with intervals,
                         p-value, always-valid p-value
``report.json``          the same, with the run's summary (arm sizes, sample-ratio check)
``ab_test.png``          two metrics over the traffic: per arm, and B − A with its CS
=======================  ====================================================================

(``.csv`` instead of ``.parquet`` with ``table_format="csv"``.)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agents.ab_figure import plot_ab_timeline
from agents.ab_policies import build_policy, check_policy_spec, describe_policy
from agents.ab_report import compare, family_metrics, format_report, plotted_metrics, report_table, timeline, user_table
from agents.ab_traffic import RATINGS_COLUMNS, SHORT_VIDEO_COLUMNS, ArmLookup, Traffic, serve_traffic
from agents.run_directory import RunExistsError, new_run_directory
from agents.training import make_vector_env
from agents.versions import package_versions
from recgym._validation import check_choice, check_int, check_real
from recgym.ab._checks import check_open_unit
from recgym.ab.analysis import sample_ratio_p_value
from recgym.data.tables import TABLE_FORMATS, save_frame
from recgym.envs.registration import ENV_IDS, SHORT_VIDEO_IDS

DEFAULT_VISITS_PER_USER = {"short_video": 3.0, "ratings": 1.0}
"""Sessions (short video) or requests (ratings) per user on average, by default."""
DEFAULT_NUM_ENVS = {"short_video": 64, "ratings": 1024}
"""Concurrent visits, by default (at most the number of users)."""
DEFAULT_CLICK_THRESHOLD = 3.5
"""Ratings: a rating at least this high counts as a click (about 8 % of random recommendations in the default world)."""


@dataclass
class ABTestResult:
    """What :func:`run_ab_test` returns.

    Attributes
    ----------
    run_dir : pathlib.Path
    report : pandas.DataFrame
        One row per metric (``report.csv``).
    users : pandas.DataFrame
        One row per user of the world (``users.parquet``).
    visits : pandas.DataFrame
        One row per visit (``visits.parquet``).
    timeline : pandas.DataFrame
        ``timeline.csv``.
    summary : dict
        ``report.json``'s summary: arm sizes, sample-ratio p-value, traffic.
    files : dict of str to pathlib.Path
    """

    run_dir: Path
    report: pd.DataFrame
    users: pd.DataFrame
    visits: pd.DataFrame
    timeline: pd.DataFrame
    summary: dict[str, Any]
    files: dict[str, Path]

    def format(self) -> str:
        """The report as text (see :func:`agents.ab_report.format_report`)."""
        return format_report(self.report)


def _policy_seeds(seed: int) -> tuple[int, int]:
    """Seeds of the two arms' policies (random baselines), derived from the experiment's seed."""
    a, b = np.random.SeedSequence(seed).spawn(2)
    return int(a.generate_state(1)[0]), int(b.generate_state(1)[0])


@dataclass
class SimulatedTraffic:
    """What :func:`simulate_ab_traffic` returns: the visits and who is in which arm.

    Attributes
    ----------
    traffic : agents.ab_traffic.Traffic
        The visits (one row each), env steps and wall time.
    arms : ArmLookup
        Every user's arm (``arms.arms[user]``; users of the world first, arrivals after).
    columns : tuple of str
        The summed columns of the visits (the env family's).
    env_id : str
    n_visits : int
        Visits served.
    visits_per_user : float
    num_envs : int
        The traffic's settings, defaults resolved.
    """

    traffic: Traffic
    arms: ArmLookup
    columns: tuple[str, ...]
    env_id: str
    n_visits: int
    visits_per_user: float
    num_envs: int

    def users(self) -> pd.DataFrame:
        """One row per exposed user (:func:`agents.ab_report.user_table`)."""
        return user_table(self.traffic.visits, self.columns)


def simulate_ab_traffic(
    policy_a: Any,
    policy_b: Any,
    env_id: str = "RecGym-ShortVideo-v0",
    n_users: int = 2000,
    *,
    seed: int = 0,
    visits_per_user: float | None = None,
    num_envs: int | None = None,
    treatment_share: float = 0.5,
    click_threshold: float = DEFAULT_CLICK_THRESHOLD,
    env_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
) -> SimulatedTraffic:
    """The experiment's traffic without analysis or files: assign, then serve every visit with its user's arm's policy.

    Parameters are those of :func:`run_ab_test`.

    Returns
    -------
    SimulatedTraffic
    """
    env_id = check_choice("env_id", env_id, ENV_IDS)
    family = "short_video" if env_id in SHORT_VIDEO_IDS else "ratings"
    n_users = check_int("n_users", n_users, minimum=4)
    seed = check_int("seed", seed, minimum=0)
    visits_per_user = DEFAULT_VISITS_PER_USER[family] if visits_per_user is None else \
        check_real("visits_per_user", visits_per_user, minimum=0.0, strict_minimum=True)
    num_envs = min(DEFAULT_NUM_ENVS[family], n_users) if num_envs is None else check_int("num_envs", num_envs, minimum=1)
    if num_envs > n_users:
        raise ValueError(f"num_envs must be <= n_users ({n_users}): each concurrent visit is a different user, got {num_envs}")
    treatment_share = check_open_unit("treatment_share", treatment_share)
    click_threshold = check_real("click_threshold", click_threshold)
    env_kwargs = dict(env_kwargs or {})
    if "n_users" in env_kwargs:
        raise ValueError("env_kwargs must not set n_users: pass n_users (the experiment's population) instead")
    for spec in (policy_a, policy_b):
        if isinstance(spec, str):
            check_policy_spec(spec, env_id)
    n_visits = max(1, round(visits_per_user * n_users))
    env = make_vector_env(env_id, num_envs, n_users=n_users, **env_kwargs)
    try:
        seed_a, seed_b = _policy_seeds(seed)
        act_a = build_policy(policy_a, env, env_id, seed=seed_a)
        act_b = build_policy(policy_b, env, env_id, seed=seed_b)
        arms = ArmLookup(seed, treatment_share, known_users=n_users)
        traffic = serve_traffic(env, env_id, act_a, act_b, arms, n_visits, seed=seed, click_threshold=click_threshold,
                                progress_bar=progress_bar)
    finally:
        env.close()
    columns = SHORT_VIDEO_COLUMNS if family == "short_video" else RATINGS_COLUMNS
    return SimulatedTraffic(traffic, arms, columns, env_id, n_visits, visits_per_user, num_envs)


def run_ab_test(
    policy_a: Any,
    policy_b: Any,
    env_id: str = "RecGym-ShortVideo-v0",
    n_users: int = 2000,
    *,
    seed: int = 0,
    visits_per_user: float | None = None,
    num_envs: int | None = None,
    treatment_share: float = 0.5,
    alpha: float = 0.05,
    tau_sd: float = 0.1,
    checkpoints: int = 40,
    click_threshold: float = DEFAULT_CLICK_THRESHOLD,
    env_kwargs: dict[str, Any] | None = None,
    logdir: str | os.PathLike[str] = "runs",
    run_name: str | None = None,
    table_format: str = "parquet",
    progress_bar: bool = False,
) -> ABTestResult:
    """Run an A/B test of ``policy_a`` (control) against ``policy_b`` (treatment) on simulated users.

    Parameters
    ----------
    policy_a, policy_b : str or policy
        Specs such as ``"random"`` or ``"dqn:runs/x/agent.pt"``, or policy objects
        (see :mod:`agents.ab_policies`).
    env_id : str
        A recgym id (short-video or ratings family).
    n_users : int
        Users of the world, all of them in the experiment (the env's ``n_users``).
    seed : int
        Seed of the world, of the assignment and of random policies.
    visits_per_user : float, optional
        Traffic: ``round(visits_per_user * n_users)`` sessions (short video; users arrive at random,
        so a user has about that many, and some none) or requests (ratings: whole periods when it
        is an integer, every user requesting once per period). Default 3 sessions, 1 request.
    num_envs : int, optional
        Concurrent visits (default 64 short video, 1024 ratings; at most ``n_users``).
    treatment_share : float
        Share of users in B, strictly between 0 and 1.
    alpha : float
        Level of every test and interval.
    tau_sd : float
        The mSPRT's mixing scale in units of a user's standard deviation (> 0).
    checkpoints : int
        Looks of the timeline and the sequential test.
    click_threshold : float
        Ratings: ratings at least this high count as clicks.
    env_kwargs : dict, optional
        Other env keyword arguments (not ``n_users``).
    logdir : str or os.PathLike
        Parent of the new run directory.
    run_name : str, optional
        Name of the run directory (refused if it exists; default ``ab_{env_id}_seed{seed}_{k}``).
    table_format : {"parquet", "csv"}
        Format of the visit and user tables.
    progress_bar : bool

    Returns
    -------
    ABTestResult

    Raises
    ------
    ValueError
        For any argument out of range, an unknown policy spec, or a checkpoint that does not fit the env.
    """
    alpha = check_open_unit("alpha", alpha)
    tau_sd = check_real("tau_sd", tau_sd, minimum=0.0, strict_minimum=True)
    checkpoints = check_int("checkpoints", checkpoints, minimum=1)
    table_format = check_choice("table_format", table_format, TABLE_FORMATS)
    if run_name is not None and (Path(logdir) / run_name).exists():
        # Refused before the traffic runs; new_run_directory checks again, atomically, when writing.
        raise RunExistsError(f"run directory {str(Path(logdir) / run_name)!r} already exists; runs are never overwritten")
    simulated = simulate_ab_traffic(policy_a, policy_b, env_id, n_users, seed=seed, visits_per_user=visits_per_user,
                                    num_envs=num_envs, treatment_share=treatment_share, click_threshold=click_threshold,
                                    env_kwargs=env_kwargs, progress_bar=progress_bar)
    traffic, arms, columns, env_id = simulated.traffic, simulated.arms, simulated.columns, simulated.env_id
    env_kwargs = dict(env_kwargs or {})

    started = time.perf_counter()
    exposed = simulated.users()
    metrics = family_metrics(env_id)
    comparisons = [compare(exposed, metric, alpha=alpha) for metric in metrics]
    looks = timeline(traffic.visits, columns, metrics, checkpoints=checkpoints, alpha=alpha, tau_sd=tau_sd)
    report = report_table(comparisons, looks, metrics)
    everyone = pd.DataFrame({"user": np.arange(len(arms.arms)), "arm": arms.arms})
    users = everyone.merge(exposed.drop(columns="arm"), on="user", how="left")
    users["exposed"] = users["visits"].notna()
    users = users.fillna({column: 0 for column in ("visits", *columns)}).astype({"visits": np.int64})
    n_a, n_b = int((exposed["arm"] == 0).sum()), int((exposed["arm"] == 1).sum())
    names = (describe_policy(policy_a), describe_policy(policy_b))
    summary = {
        "policy_a": names[0], "policy_b": names[1], "env_id": env_id, "n_users": n_users, "seed": seed,
        "assigned_a": int((users["arm"] == 0).sum()), "assigned_b": int((users["arm"] == 1).sum()),
        "exposed_a": n_a, "exposed_b": n_b, "visits": len(traffic.visits), "env_steps": traffic.steps,
        "traffic_seconds": traffic.seconds, "sample_ratio_p_value": sample_ratio_p_value(n_a, n_b, treatment_share),
        "alpha": alpha, "analysis_seconds": time.perf_counter() - started,
    }

    from agents.train_run import write_json  # the shared never-overwriting JSON writer

    run_dir = new_run_directory(logdir, run_name, stem=f"ab_{env_id}_seed{seed}")
    config = {
        "policy_a": names[0], "policy_b": names[1], "env_id": env_id, "n_users": n_users, "seed": seed,
        "visits_per_user": simulated.visits_per_user, "n_visits": simulated.n_visits, "num_envs": simulated.num_envs,
        "treatment_share": treatment_share,
        "alpha": alpha, "tau_sd": tau_sd, "checkpoints": checkpoints, "click_threshold": click_threshold,
        "env_kwargs": env_kwargs,
        "versions": package_versions(("recgym", "numpy", "scipy", "statsmodels", "torch", "gymnasium")),
    }
    suffix = ".parquet" if table_format == "parquet" else ".csv"
    files = {
        "config.json": write_json(run_dir / "config.json", config),
        f"visits{suffix}": save_frame(traffic.visits, run_dir / f"visits{suffix}"),
        f"users{suffix}": save_frame(users, run_dir / f"users{suffix}"),
        "timeline.csv": save_frame(looks, run_dir / "timeline.csv"),
        "report.csv": save_frame(report, run_dir / "report.csv"),
        "report.json": write_json(run_dir / "report.json", {"summary": summary, "metrics": report.to_dict(orient="records")}),
    }
    title = (f"A/B test on {env_id}: A = {names[0]}, B = {names[1]}; {n_users:,} users, {len(traffic.visits):,} visits, "
             f"seed {seed}")
    files["ab_test.png"] = plot_ab_timeline(looks, plotted_metrics(env_id), run_dir / "ab_test.png", labels=names,
                                            alpha=alpha, title=title)
    return ABTestResult(run_dir, report, users, traffic.visits, looks, summary, files)


def format_summary(result: ABTestResult) -> str:
    """One paragraph about the experiment: policies, users per arm, traffic, the sample-ratio check."""
    s = result.summary
    srm = s["sample_ratio_p_value"]
    warning = "" if srm >= 0.001 else " (sample-ratio mismatch: check assignment and exposure before trusting the result)"
    return (
        f"A/B test on {s['env_id']}, seed {s['seed']}: A = {s['policy_a']}, B = {s['policy_b']}; {s['n_users']:,} users "
        f"assigned {s['assigned_a']:,} / {s['assigned_b']:,}, exposed {s['exposed_a']:,} / {s['exposed_b']:,} "
        f"(sample-ratio p = {srm:.3g}{warning}); {s['visits']:,} visits in {s['env_steps']:,} env steps, "
        f"{s['traffic_seconds']:.1f} s. Fixed-horizon tests at the end (p), mSPRT over {len(result.timeline['look'].unique())} "
        f"looks (always-valid p), alpha {s['alpha']:g}:"
    )
