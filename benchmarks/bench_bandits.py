"""Speed figures of issue 6: Thompson MF against the seed's per-interaction loop, and NumPy ALS against Spark ALS.

1. Per-period time (inference + learning) on seed 000's world (1,000 users x 1,000 items, 10
   features, seed 42) of recgym's ``ThompsonMF`` (defaults), of ``ThompsonMF`` with
   ``ThompsonConfig.seed_preset()`` (the seed's model and Monte-Carlo update, vectorised), and of
   ``benchmarks/seed_thompson_reference.py`` (the seed's loop as written: one object per user and
   item, ``multivariate_normal`` per call, one update per interaction), with the seed's sampler
   (a seeded legacy ``RandomState``) and with numpy's newer ``Generator``. Each runs on its own env
   of the same world. ``ThompsonMF`` first runs ``--warm-up`` periods untimed, so that its window
   of revisable batches is full (its slowest, steady state); the reference's cost does not change
   with the period. Then the agents take turns, a few periods each per round, so that they share
   the machine's load; the ratios are of medians over the periods measured in this one run, in
   wall time (the goal's figure) and in CPU time of the process (less sensitive to other jobs),
   and the spread of the per-round wall ratios is printed too. ``--breakdown`` also prints where
   a steady-state ``ThompsonMF`` period goes.
2. Incrementality: ``ThompsonMF``'s per-period time after 20 periods and after 170, the two agents
   stepping in turn (a period's cost must not grow with the number of past periods).
3. ALS fit time on the same ratings (the seed's world, random recommendations for ``--als-periods``
   periods, 80/20 split) with NumPy (``recgym.calibration.fit_als``, no biases, as Spark) and
   Spark MLlib (``agents.spark_als.fit_spark_als`` on ``local[2]``: DataFrame creation, fit and
   factors back to NumPy, as ``ALSRecommender(backend="spark")`` does per batch; session start-up
   is printed apart), with both held-out RMSEs. Needs the ``spark`` extra; skipped without it.

Run: ``python benchmarks/bench_bandits.py`` (``--quick`` for a smoke run; ``--no-spark`` to skip 3).
BLAS and torch run on one thread, as the reference's small products do. Regret figures come from
``recgym experiment bandits --seeds 42 43 44`` (see ``docs/bandits.md``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import datetime
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_thompson_reference import SeedBayesianRecommender

from agents.bandit_baselines import RandomRecommender
from agents.batch_recommender import BatchRecommender, PeriodAdapter, make_period_env
from agents.thompson_mf import ThompsonConfig, ThompsonMF
from recgym.calibration import fit_als

THOMPSON = "ThompsonMF (recgym defaults)"
REFERENCE = "seed's per-interaction loop"


class Timed(BatchRecommender):
    """A recommender whose ``recommend`` and ``learn`` also record the process's CPU seconds."""

    def __init__(self, agent: Any, n_users: int, n_items: int) -> None:
        super().__init__(n_users, n_items)
        self.agent = agent
        self.cpu_seconds = 0.0

    def recommend(self, users: Any) -> pd.DataFrame:
        """The agent's recommendations."""
        start = time.process_time()
        frame = self.agent.recommend(users)
        self.cpu_seconds += time.process_time() - start
        return frame

    def learn(self, interactions: pd.DataFrame) -> None:
        """The agent's learning."""
        start = time.process_time()
        self.agent.learn(interactions)
        self.cpu_seconds += time.process_time() - start


def period_times(rounds: int, periods_per_round: dict[str, int], warm_up: int,
                 seed: int = 42) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[list[float]]]]:
    """Wall and CPU seconds of inference + learning per period for each agent, measured in interleaved rounds.

    Returns the wall times, the CPU times (both per agent, all periods measured) and the wall times per agent and round.
    """
    n = 1000
    agents = {
        THOMPSON: ThompsonMF(n, n, seed=seed),
        "ThompsonMF (seed preset, vectorised)": ThompsonMF(n, n, ThompsonConfig.seed_preset(), seed=seed),
        REFERENCE: SeedBayesianRecommender(n, np.random.RandomState(seed)),
        "same, numpy Generator sampler": SeedBayesianRecommender(n, np.random.default_rng(seed)),
    }
    adapters, timed = {}, {}
    for name, agent in agents.items():
        adapters[name] = PeriodAdapter(make_period_env(n, n, 10))
        adapters[name].reset(seed=seed)
        timed[name] = Timed(agent, n, n)
    for _ in range(warm_up):
        adapters[THOMPSON].step(agents[THOMPSON])
    wall: dict[str, list[float]] = {name: [] for name in agents}
    cpu: dict[str, list[float]] = {name: [] for name in agents}
    by_round: dict[str, list[list[float]]] = {name: [] for name in agents}
    for _ in range(rounds):
        for name in agents:
            this_round = []
            for _ in range(periods_per_round[name]):
                before = timed[name].cpu_seconds
                record = adapters[name].step(timed[name])
                this_round.append(record.inference_seconds + record.training_seconds)
                cpu[name].append(timed[name].cpu_seconds - before)
            wall[name].extend(this_round)
            by_round[name].append(this_round)
    return wall, cpu, by_round


def breakdown(periods: int, warm_up: int, seed: int = 42) -> list[tuple[str, float]]:
    """Median CPU milliseconds per steady-state period of ``ThompsonMF``'s parts (its private steps, timed in place)."""
    n = 1000
    adapter = PeriodAdapter(make_period_env(n, n, 10))
    adapter.reset(seed=seed)
    agent = ThompsonMF(n, n, seed=seed)
    for _ in range(warm_up):
        adapter.step(agent)
    spent: dict[str, float] = {}

    def timed(name: str) -> None:
        method = getattr(agent, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - start

        setattr(agent, name, wrapper)  # the instance attribute shadows the method

    parts = ("_user_draws", "_item_draw_factors", "_catalogue_draws", "_best_items", "_predict", "interaction_arrays",
             "_refresh", "_features", "_statistics", "_columns")
    for name in parts:
        timed(name)
    timed("recommend")
    timed("learn")
    rows: dict[str, list[float]] = {}
    for _ in range(periods):
        spent.clear()
        adapter.step(agent)
        s = {name: 1e3 * spent.get(name, 0.0) for name in parts}
        inference, training = 1e3 * spent["recommend"], 1e3 * spent["learn"]
        values = {
            "recommend: one draw per user": s["_user_draws"],
            "recommend: item factors to single precision": s["_item_draw_factors"],
            "recommend: 32 catalogue draws (permutations of a pool, one product per item)": s["_catalogue_draws"],
            "recommend: 1,000 x 1,000 sampled scores and their argmax": s["_best_items"] - s["_item_draw_factors"]
            - s["_catalogue_draws"],
            "recommend: posterior-mean predictions": s["_predict"],
            "recommend: checks and the DataFrame out": inference - s["_user_draws"] - s["_best_items"] - s["_predict"],
            "learn: DataFrame in and checks": s["interaction_arrays"],
            "learn: Cholesky factors, L^-1, means (users, items, stale)": s["_refresh"] - s["_features"],
            "learn: E[f f^T] of the updated beliefs": s["_features"],
            "learn: sparse sums over the window's pairs": s["_statistics"] + s["_columns"],
            "learn: window update, pair matrices, folds": training - s["interaction_arrays"] - s["_refresh"]
            - s["_statistics"] - s["_columns"],
            "total (inference + learning)": inference + training,
        }
        for key, value in values.items():
            rows.setdefault(key, []).append(value)
    return [(key, float(np.median(values))) for key, values in rows.items()]


def growth(young: int, old: int, measured: int, seed: int = 42) -> tuple[float, float]:
    """Median per-period seconds of two ``ThompsonMF`` agents, ``young`` and ``old`` periods in, stepping in turn."""
    n = 1000
    pairs = []
    for warm_up in (young, old):
        adapter = PeriodAdapter(make_period_env(n, n, 10))
        adapter.reset(seed=seed)
        agent = ThompsonMF(n, n, seed=seed)
        for _ in range(warm_up):
            adapter.step(agent)
        pairs.append((adapter, agent))
    times: list[list[float]] = [[], []]
    for _ in range(measured):
        for index, (adapter, agent) in enumerate(pairs):
            record = adapter.step(agent)
            times[index].append(record.inference_seconds + record.training_seconds)
    return float(np.median(times[0])), float(np.median(times[1]))


def als_data(periods: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratings of random recommendations on the seed's world: ``periods`` × 1,000 (user, item, rating)."""
    adapter = PeriodAdapter(make_period_env(1000, 1000, 10))
    adapter.reset(seed=seed)
    agent = RandomRecommender(1000, 1000, seed=seed)
    for _ in range(periods):
        adapter.step(agent)
    log = adapter.env.unwrapped.interaction_log()
    return log["user"].to_numpy(), log["item"].to_numpy(), log["rating"].to_numpy()


def compare_als(periods: int, iterations: int, repeats: int) -> None:
    """Print NumPy vs Spark ALS fit times and held-out RMSE on the same ratings."""
    try:
        from agents.spark_als import fit_spark_als, spark_session
    except ImportError:
        print("NumPy vs Spark ALS: skipped (PySpark is not installed: pip install -e '.[spark]')")
        return
    users, items, ratings = als_data(periods)
    rng = np.random.default_rng(0)
    test = rng.random(len(ratings)) < 0.2
    train = ~test
    test &= np.isin(users, users[train]) & np.isin(items, items[train])
    settings = dict(rank=10, regularization=0.05, n_iterations=iterations)

    start = time.perf_counter()
    session = spark_session("local[2]", app_name="recgym-bench")
    startup = time.perf_counter() - start
    numpy_times, spark_times = [], []
    for repeat in range(repeats):
        start = time.perf_counter()
        numpy_fit = fit_als(users[train], items[train], ratings[train], 1000, 1000, biases=False, rng=repeat, **settings)
        numpy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        spark_fit = fit_spark_als(session, users[train], items[train], ratings[train], 1000, 1000, seed=repeat, **settings)
        spark_times.append(time.perf_counter() - start)
    session.stop()

    def rmse(factors):
        return float(np.sqrt(np.mean((factors.predict(users[test], items[test]) - ratings[test]) ** 2)))

    numpy_time, spark_time = float(np.median(numpy_times)), float(np.median(spark_times))
    print(f"\nALS on {int(train.sum()):,} ratings (seed 000's world, {periods} periods of random recommendations), rank 10, "
          f"regParam 0.05, {iterations} iterations; median of {repeats} fits; {int(test.sum()):,} held-out ratings")
    print(f"  NumPy fit_als             {numpy_time * 1e3:9.1f} ms   held-out RMSE {rmse(numpy_fit):.4f}")
    print(f"  Spark ALS (local[2])      {spark_time * 1e3:9.1f} ms   held-out RMSE {rmse(spark_fit):.4f}   "
          f"(session start-up {startup:.1f} s, not included)")
    print(f"  Spark / NumPy time ratio  {spark_time / numpy_time:9.1f}x")


def main() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)  # PySpark 4 on pandas 3: harmless notices
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny budgets")
    parser.add_argument("--no-spark", action="store_true", help="skip the NumPy vs Spark ALS comparison")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds of the per-period timing (default 10)")
    parser.add_argument("--warm-up", type=int, default=25, help="untimed ThompsonMF periods before timing (default 25)")
    parser.add_argument("--breakdown", action="store_true", help="also print where a ThompsonMF period goes")
    parser.add_argument("--als-periods", type=int, default=50, help="periods of ratings for the ALS comparison (default 50)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    warm_up = 2 if args.quick else args.warm_up
    per_round = {THOMPSON: 2 if args.quick else 10, "ThompsonMF (seed preset, vectorised)": 1 if args.quick else 2,
                 REFERENCE: 1, "same, numpy Generator sampler": 1}
    print(f"{platform.node()} ({os.cpu_count()} CPUs), {datetime.date.today()}, numpy {np.__version__}, one BLAS thread, "
          f"load average {os.getloadavg()[0]:.1f}")
    wall, cpu, by_round = period_times(rounds, per_round, warm_up)
    reference, reference_cpu = float(np.median(wall[REFERENCE])), float(np.median(cpu[REFERENCE]))
    print(f"\nPer-period time (inference + learning), seed 000's world, 1,000 users x 1,000 items; ThompsonMF after "
          f"{warm_up} untimed periods; medians over the periods measured, interleaved in {rounds} rounds:")
    print(f"  {'':38s} {'wall':>9s} {'CPU':>9s}   faster than the seed's loop (wall, CPU)")
    for name in wall:
        median, median_cpu = float(np.median(wall[name])), float(np.median(cpu[name]))
        print(f"  {name:38s} {median * 1e3:6.1f} ms {median_cpu * 1e3:6.1f} ms   {reference / median:6.1f}x "
              f"{reference_cpu / median_cpu:6.1f}x   ({len(wall[name])} periods, wall mean {np.mean(wall[name]) * 1e3:.1f} ms)")
    ratios = [reference_round[0] / float(np.median(ours))
              for reference_round, ours in zip(by_round[REFERENCE], by_round[THOMPSON], strict=True)]
    print(f"  ratio seed's loop / ThompsonMF per round (wall): median {np.median(ratios):.0f}x, "
          f"range {min(ratios):.0f}x-{max(ratios):.0f}x over {len(ratios)} rounds")
    if args.breakdown:
        print(f"\nWhere a steady-state ThompsonMF period goes (median CPU ms over {2 if args.quick else 40} periods after "
              f"{warm_up} untimed ones; its steps timed in place):")
        for name, milliseconds in breakdown(2 if args.quick else 40, warm_up):
            print(f"  {name:78s} {milliseconds:6.2f}")
    young, old = (2, 6) if args.quick else (20, 170)
    measured = 2 if args.quick else 30
    young_time, old_time = growth(young, old, measured)
    print(f"\nThompsonMF per-period time, {measured} periods each, stepping in turn: after {young} periods "
          f"{young_time * 1e3:.1f} ms, after {old} periods {old_time * 1e3:.1f} ms (ratio {old_time / young_time:.2f})")
    if not args.no_spark:
        compare_als(5 if args.quick else args.als_periods, 2 if args.quick else 10, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
