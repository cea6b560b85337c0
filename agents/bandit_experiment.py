"""Seed 000's experiment for any set of recommenders: ``recgym experiment bandits`` as a Python function.

For each world seed, every agent runs on its own ``RecGym-Ratings-v0`` vector env drawn from that
seed, so all agents face the same users, items, request order and rating noise. Each period
every user requests one recommendation (:class:`~agents.batch_recommender.PeriodAdapter`); the
agent recommends, the env rates, the agent learns. Per agent, seed and period the run records the
mean regret, the rating MSE (predicted rating against the mean rating), and the inference and
training wall times, into a new run directory:

=====================  ========================================================================
``config.json``        the run's arguments, each agent's settings, library versions
``periods.csv``        one row per agent, seed and period: ``agent``, ``seed``, ``period``,
                       ``mean_regret``, ``cumulative_regret``, ``rating_mse``, ``mean_rating``,
                       ``inference_seconds``, ``training_seconds``, ``n_requests``
``summary.csv``        one row per agent: last-period and cumulative regret (mean and standard
                       deviation over seeds), last-period rating MSE, mean time per period
``summary.json``       the same rows, plus the run's identity
``regret.png``         mean and cumulative regret per period (:func:`agents.bandit_figure.plot_bandit_regret`)
``tensorboard/``       one event-file directory per agent and seed (``{agent}_seed{seed}``), scalars
                       ``bandit/mean_regret``, ``bandit/cumulative_regret``, ``bandit/rating_mse``,
                       ``time/inference_seconds``, ``time/training_seconds`` against the period
=====================  ========================================================================

The defaults reproduce the seed's set-up: 1,000 users × 1,000 items, 10 features, rating noise
0.1, 50 periods, world seed 42.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from agents.bandit_baselines import EpsilonGreedy, OracleRecommender, PopularityRecommender, RandomRecommender
from agents.bandit_figure import plot_bandit_regret
from agents.batch_recommender import BatchRecommender, PeriodAdapter, make_period_env
from agents.ratings_baselines import PopulationBestPolicy
from agents.run_directory import new_run_directory
from agents.thompson_mf import ThompsonConfig, ThompsonMF
from agents.versions import package_versions
from recgym._validation import check_int, check_real
from recgym.data.tables import save_frame

AGENTS = ("thompson", "thompson-seed", "als", "epsilon-greedy", "als-spark", "popularity", "random", "oracle")
"""Agent names: Thompson MF (recgym's defaults, and the seed's model and update), greedy ALS (NumPy; Spark),
ε-greedy over NumPy ALS, popularity, random, and the ground-truth oracle."""
DEFAULT_AGENTS = ("thompson", "als", "epsilon-greedy", "popularity", "random", "oracle")
"""Agents run when none are named (the seed's Monte-Carlo agent and Spark ALS are slow: name them to run them)."""
DEFAULT_SEEDS = (42,)
PERIOD_COLUMNS = ("agent", "seed", "period", "mean_regret", "cumulative_regret", "rating_mse", "mean_rating",
                  "inference_seconds", "training_seconds", "n_requests")
"""Columns of ``periods.csv``."""


@dataclass(frozen=True)
class BanditExperimentResult:
    """What :func:`run_bandit_experiment` produced.

    Attributes
    ----------
    run_dir : pathlib.Path
        The new run directory.
    periods : pandas.DataFrame
        ``periods.csv``'s rows.
    summary : pandas.DataFrame
        ``summary.csv``'s rows.
    population_best_regret : float
    """

    run_dir: Path
    periods: pd.DataFrame
    summary: pd.DataFrame
    population_best_regret: float


def check_agents(agents: Any) -> tuple[str, ...]:
    """``agents`` as a tuple of distinct known names (``ValueError`` naming the unknown ones otherwise)."""
    if isinstance(agents, str) or not isinstance(agents, Sequence) or len(agents) == 0:
        raise ValueError(f"agents must be a non-empty sequence of names from {list(AGENTS)}, got {agents!r}")
    unknown = [name for name in agents if name not in AGENTS]
    if unknown:
        raise ValueError(f"unknown agent name(s) {unknown!r}; allowed: {list(AGENTS)}")
    if len(set(agents)) != len(agents):
        raise ValueError(f"agents must be distinct, got {list(agents)!r}")
    return tuple(agents)


def make_recommender(name: str, adapter: PeriodAdapter, seed: int, options: Mapping[str, Any] | None = None, *,
                     epsilon: float = 0.2, epsilon_decay: float = 0.2, spark_master: str | None = None) -> BatchRecommender:
    """Build agent ``name`` for the world of ``adapter`` (after its reset).

    Parameters
    ----------
    name : str
        One of :data:`AGENTS`.
    adapter : PeriodAdapter
        The env the agent will serve (the oracle reads its ground truth).
    seed : int
        Seed of the agent's own generator.
    options : Mapping[str, Any], optional
        Keyword arguments of the agent: :class:`~agents.thompson_mf.ThompsonConfig` fields for the
        Thompson agents, :class:`~agents.als_recommender.ALSRecommender` keywords for the ALS
        agents (``epsilon-greedy`` also takes ``epsilon`` and ``decay``), ``prior_count`` for popularity.
    epsilon, epsilon_decay : float
        ``epsilon-greedy``'s ε is ``epsilon / (1 + epsilon_decay · t)`` in period ``t`` (0.2 → 0.018 by period 50).
    spark_master : str, optional
        Master URL of ``als-spark`` (default ``local[2]``).
    """
    from agents.als_recommender import ALSRecommender

    options = dict(options or {})
    n_users, n_items = adapter.n_users, adapter.n_items
    if name == "thompson":
        return ThompsonMF(n_users, n_items, ThompsonConfig(**options), seed=seed)
    if name == "thompson-seed":
        return ThompsonMF(n_users, n_items, ThompsonConfig.seed_preset(**options), seed=seed)
    if name == "als":
        return ALSRecommender(n_users, n_items, seed=seed, **options)
    if name == "epsilon-greedy":
        epsilon = options.pop("epsilon", epsilon)
        decay = options.pop("decay", epsilon_decay)
        return EpsilonGreedy(ALSRecommender(n_users, n_items, seed=seed, **options), epsilon, decay=decay, seed=seed + 1)
    if name == "als-spark":
        options.setdefault("spark_master", spark_master)
        return ALSRecommender(n_users, n_items, seed=seed, backend="spark", **options)
    if name == "popularity":
        return PopularityRecommender(n_users, n_items, seed=seed, **options)
    if name == "random":
        return RandomRecommender(n_users, n_items, seed=seed, **options)
    if name == "oracle":
        if options:
            raise ValueError(f"the oracle takes no options, got {options!r}")
        return OracleRecommender(adapter.env)
    raise ValueError(f"unknown agent name {name!r}; allowed: {list(AGENTS)}")


def _settings(recommender: BatchRecommender) -> dict[str, Any]:
    """An agent's knobs for ``config.json``."""
    if isinstance(recommender, ThompsonMF):
        return {"class": "ThompsonMF", **recommender.config.as_dict()}
    if isinstance(recommender, EpsilonGreedy):
        return {"class": "EpsilonGreedy", "epsilon": recommender.initial_epsilon, "decay": recommender.decay,
                "base": _settings(recommender.base)}
    keys = ("rank", "regularization", "n_iterations", "biases", "warm_start", "weighted_regularization", "backend",
            "spark_master", "prior_count")
    return {"class": type(recommender).__name__, **{key: getattr(recommender, key) for key in keys if hasattr(recommender, key)}}


def population_best_regret(adapter: PeriodAdapter) -> float:
    """Mean regret over all users of always recommending the best item for the average user (ground truth).

    SPEC §2's reference point (≈ 0.19 on the seed's world): the best that one item for everybody can do.
    """
    simulator = adapter.env.unwrapped.simulator
    item = PopulationBestPolicy(adapter.env).item()
    users = np.arange(adapter.n_users)
    return float(simulator.regrets(users, np.full(adapter.n_users, item)).mean())


def summarise_periods(periods: pd.DataFrame) -> pd.DataFrame:
    """One row per agent: last-period and cumulative regret over seeds, last-period rating MSE, mean times.

    Parameters
    ----------
    periods : pandas.DataFrame
        Rows with :data:`PERIOD_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``agent``, ``seeds``, ``periods``, ``final_regret``, ``final_regret_std``,
        ``cumulative_regret``, ``cumulative_regret_std``, ``final_rating_mse``,
        ``inference_ms_per_period``, ``training_ms_per_period``, in the order the agents first appear.
    """
    rows = []
    for agent, frame in periods.groupby("agent", sort=False):
        last = frame[frame["period"] == frame["period"].max()]
        rows.append({
            "agent": agent,
            "seeds": int(frame["seed"].nunique()),
            "periods": int(frame["period"].max()) + 1,
            "final_regret": float(last["mean_regret"].mean()),
            "final_regret_std": float(last["mean_regret"].std(ddof=1)) if len(last) > 1 else float("nan"),
            "cumulative_regret": float(last["cumulative_regret"].mean()),
            "cumulative_regret_std": float(last["cumulative_regret"].std(ddof=1)) if len(last) > 1 else float("nan"),
            "final_rating_mse": float(last["rating_mse"].mean()),
            "inference_ms_per_period": 1e3 * float(frame["inference_seconds"].mean()),
            "training_ms_per_period": 1e3 * float(frame["training_seconds"].mean()),
        })
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> str:
    """The summary as an aligned text table (regret ± standard deviation over seeds)."""
    def with_std(mean: float, std: float) -> str:
        return f"{mean:.3f}" if not math.isfinite(std) else f"{mean:.3f} ± {std:.3f}"

    table = pd.DataFrame({
        "agent": summary["agent"],
        "last-period regret": [with_std(m, s) for m, s in zip(summary["final_regret"], summary["final_regret_std"], strict=True)],
        "cumulative regret": [with_std(m, s) for m, s in
                              zip(summary["cumulative_regret"], summary["cumulative_regret_std"], strict=True)],
        "last-period MSE": summary["final_rating_mse"].map(lambda v: "—" if not math.isfinite(v) else f"{v:.4f}"),
        "infer ms/period": summary["inference_ms_per_period"].map("{:.1f}".format),
        "train ms/period": summary["training_ms_per_period"].map("{:.1f}".format),
    })
    return table.to_string(index=False)


def run_bandit_experiment(
    agents: Sequence[str] = DEFAULT_AGENTS,
    *,
    n_users: int = 1000,
    n_items: int = 1000,
    n_features: int = 10,
    n_periods: int = 50,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    logdir: str | Path = "runs",
    run_name: str | None = None,
    epsilon: float = 0.2,
    epsilon_decay: float = 0.2,
    agent_options: Mapping[str, Mapping[str, Any]] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    spark_master: str | None = None,
    progress_bar: bool = True,
) -> BanditExperimentResult:
    """Run seed 000's recommend–rate–learn loop for ``agents`` and write a new run directory (see the module docstring).

    Parameters
    ----------
    agents : sequence of str
        Names from :data:`AGENTS`, distinct.
    n_users, n_items, n_features : int
        The world (>= 1 each); one period is ``n_users`` requests.
    n_periods : int
        Periods per agent and seed (>= 1).
    seeds : sequence of int
        World seeds (>= 0, distinct); agent ``k``'s generator is seeded with the world seed.
    logdir : str or pathlib.Path
        Parent of the run directory.
    run_name : str, optional
        Exact name of the run directory (refused if it exists); default ``bandits_{k}``.
    epsilon, epsilon_decay : float
        ``epsilon-greedy`` explores with probability ``epsilon / (1 + epsilon_decay · t)`` in period
        ``t`` (``epsilon`` in [0, 1], ``epsilon_decay`` >= 0; 0 keeps ε constant).
    agent_options : Mapping[str, Mapping[str, Any]], optional
        Per agent name, keyword arguments of that agent (see :func:`make_recommender`).
    env_kwargs : Mapping[str, Any], optional
        Other ``RecGym-Ratings-v0`` keywords (``noise_std``, ``attribute_distribution``, ...).
    spark_master : str, optional
        Master URL of ``als-spark`` (default ``local[2]``).
    progress_bar : bool
        Show a tqdm bar over agents × seeds × periods.

    Returns
    -------
    BanditExperimentResult

    Raises
    ------
    ValueError
        An unknown or repeated agent name, a size or period count below 1, a bad seed, ε outside
        [0, 1], options for an agent that is not run, or an invalid agent option (e.g. ``rank=0``).
    """
    agents = check_agents(agents)
    n_users = check_int("n_users", n_users, minimum=1)
    n_items = check_int("n_items", n_items, minimum=1)
    n_features = check_int("n_features", n_features, minimum=1)
    n_periods = check_int("n_periods", n_periods, minimum=1)
    if isinstance(seeds, (int, np.integer)):
        seeds = (int(seeds),)
    if not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    seeds = tuple(check_int("seeds", seed, minimum=0) for seed in seeds)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)!r}")
    epsilon = check_real("epsilon", epsilon, minimum=0.0, maximum=1.0)
    epsilon_decay = check_real("epsilon_decay", epsilon_decay, minimum=0.0)
    agent_options = {name: dict(values) for name, values in (agent_options or {}).items()}
    stray = sorted(set(agent_options) - set(agents))
    if stray:
        raise ValueError(f"agent_options name agents that are not run: {stray!r} (agents: {list(agents)})")
    env_kwargs = dict(env_kwargs or {})
    for key in ("n_users", "n_items", "n_features"):
        if key in env_kwargs:
            raise ValueError(f"give {key} as its own argument, not in env_kwargs")

    # Build every agent once before anything is written, so that a bad option fails fast.
    probe = PeriodAdapter(make_period_env(n_users, n_items, n_features, **env_kwargs))
    probe.reset(seed=seeds[0])
    settings = {name: _settings(make_recommender(name, probe, seeds[0], agent_options.get(name), epsilon=epsilon,
                                                 epsilon_decay=epsilon_decay, spark_master=spark_master))
                for name in agents}

    run_dir = new_run_directory(logdir, run_name, stem="bandits")
    from agents.train_run import write_json  # the shared never-overwriting JSON writer

    config = {
        "agents": list(agents), "n_users": n_users, "n_items": n_items, "n_features": n_features, "n_periods": n_periods,
        "seeds": list(seeds), "epsilon": epsilon, "epsilon_decay": epsilon_decay, "agent_options": agent_options,
        "env_kwargs": env_kwargs,
        "spark_master": spark_master, "agent_settings": settings,
        "versions": package_versions(("recgym", "numpy", "scipy", "pandas", "torch", "gymnasium", "pyspark")),
    }
    write_json(run_dir / "config.json", config)

    from torch.utils.tensorboard import SummaryWriter

    rows: list[dict[str, Any]] = []
    references: list[float] = []
    bar = tqdm(total=len(agents) * len(seeds) * n_periods, desc="bandits", unit="period", disable=not progress_bar)
    try:
        for seed in seeds:
            for name in agents:
                bar.set_postfix_str(f"{name}, seed {seed}")
                adapter = PeriodAdapter(make_period_env(n_users, n_items, n_features, **env_kwargs))
                history = adapter.reset(seed=seed)
                if name == agents[0]:
                    references.append(population_best_regret(adapter))
                recommender = make_recommender(name, adapter, seed, agent_options.get(name), epsilon=epsilon,
                                               epsilon_decay=epsilon_decay, spark_master=spark_master)
                if len(history):
                    recommender.learn(history)
                writer = SummaryWriter(log_dir=str(run_dir / "tensorboard" / f"{name}_seed{seed}"))
                cumulative = 0.0
                try:
                    for _ in range(n_periods):
                        record = adapter.step(recommender)
                        cumulative += record.mean_regret
                        rows.append({"agent": name, "seed": seed, **record.as_dict(), "cumulative_regret": cumulative})
                        writer.add_scalar("bandit/mean_regret", record.mean_regret, record.period)
                        writer.add_scalar("bandit/cumulative_regret", cumulative, record.period)
                        if math.isfinite(record.rating_mse):
                            writer.add_scalar("bandit/rating_mse", record.rating_mse, record.period)
                        writer.add_scalar("time/inference_seconds", record.inference_seconds, record.period)
                        writer.add_scalar("time/training_seconds", record.training_seconds, record.period)
                        bar.update(1)
                finally:
                    writer.close()
                    adapter.env.close()
    finally:
        bar.close()

    periods = pd.DataFrame(rows)[list(PERIOD_COLUMNS)]
    summary = summarise_periods(periods)
    save_frame(periods, run_dir / "periods.csv")
    save_frame(summary, run_dir / "summary.csv")
    reference = float(np.mean(references))
    write_json(run_dir / "summary.json", {"run_dir": run_dir, "seeds": list(seeds), "n_periods": n_periods,
                                          "population_best_regret": reference, "agents": summary.to_dict(orient="records")})
    title = f"{n_users:,} users × {n_items:,} items, {n_features} features; world seeds {', '.join(map(str, seeds))}"
    plot_bandit_regret(periods, run_dir / "regret.png", reference_lines={"best item on average (ground truth)": reference},
                       title=title)
    return BanditExperimentResult(run_dir, periods, summary, reference)
