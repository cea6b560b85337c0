"""Speed figures of issue 6: Thompson MF against the seed's per-interaction loop, and NumPy ALS against Spark ALS.

1. Per-period time (inference + learning) on seed 000's world (1,000 users x 1,000 items, 10
   features, seed 42) of recgym's ``ThompsonMF`` (defaults), of ``ThompsonMF`` with
   ``ThompsonConfig.seed_preset()`` (the seed's model and Monte-Carlo update, vectorised), and of
   ``benchmarks/seed_thompson_reference.py`` (the seed's loop as written: one object per user and
   item, ``multivariate_normal`` per call, one update per interaction), with the seed's sampler
   (a seeded legacy ``RandomState``) and with numpy's newer ``Generator``. They run in turn,
   a few periods at a time, so that they share the machine's load; each runs on its own env of the
   same world. The ratios are medians over the periods measured, in this one run.
2. Incrementality: ``ThompsonMF``'s per-period time after 20 periods and after 170, the two agents
   stepping in turn (a period's cost must not grow with the number of past periods).
3. ALS fit time on the same ratings (the seed's world, random recommendations for ``--als-periods``
   periods, 80/20 split) with NumPy (``recgym.calibration.fit_als``, no biases, as Spark) and
   Spark MLlib (``agents.spark_als.fit_spark_als`` on ``local[2]``: DataFrame creation, fit and
   factors back to NumPy, as ``ALSRecommender(backend="spark")`` does per batch; session start-up
   is printed apart), with both held-out RMSEs. Needs the ``spark`` extra; skipped without it.

Run: ``python benchmarks/bench_bandits.py`` (``--quick`` for a smoke run; ``--no-spark`` to skip 3).
BLAS runs on one thread, as the reference's small products do. Regret figures come from
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_thompson_reference import SeedBayesianRecommender

from agents.bandit_baselines import RandomRecommender
from agents.batch_recommender import PeriodAdapter, make_period_env
from agents.thompson_mf import ThompsonConfig, ThompsonMF
from recgym.calibration import fit_als


def period_times(rounds: int, periods_per_round: dict[str, int], seed: int = 42) -> dict[str, list[float]]:
    """Seconds of inference + learning per period for each agent, measured in interleaved rounds."""
    n = 1000
    agents = {
        "ThompsonMF (recgym defaults)": ThompsonMF(n, n, seed=seed),
        "ThompsonMF (seed preset, vectorised)": ThompsonMF(n, n, ThompsonConfig.seed_preset(), seed=seed),
        "seed's per-interaction loop": SeedBayesianRecommender(n, np.random.RandomState(seed)),
        "same, numpy Generator sampler": SeedBayesianRecommender(n, np.random.default_rng(seed)),
    }
    adapters = {}
    for name in agents:
        adapters[name] = PeriodAdapter(make_period_env(n, n, 10))
        adapters[name].reset(seed=seed)
    times: dict[str, list[float]] = {name: [] for name in agents}
    for _ in range(rounds):
        for name, agent in agents.items():
            for _ in range(periods_per_round[name]):
                record = adapters[name].step(agent)
                times[name].append(record.inference_seconds + record.training_seconds)
    return times


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
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the per-period timing (default 5)")
    parser.add_argument("--als-periods", type=int, default=50, help="periods of ratings for the ALS comparison (default 50)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    per_round = {"ThompsonMF (recgym defaults)": 2 if args.quick else 10,
                 "ThompsonMF (seed preset, vectorised)": 1 if args.quick else 2,
                 "seed's per-interaction loop": 1, "same, numpy Generator sampler": 1}
    print(f"{platform.node()} ({os.cpu_count()} CPUs), {datetime.date.today()}, numpy {np.__version__}, one BLAS thread")
    times = period_times(rounds, per_round)
    reference = float(np.median(times["seed's per-interaction loop"]))
    print("\nPer-period time (inference + learning), seed 000's world, 1,000 users x 1,000 items; medians over the periods "
          "measured, interleaved:")
    for name, values in times.items():
        median = float(np.median(values))
        print(f"  {name:38s} {median * 1e3:9.1f} ms  ({len(values)} periods, mean {np.mean(values) * 1e3:.1f} ms)  "
              f"{reference / median:7.1f}x faster than the seed's loop")
    young, old = (2, 6) if args.quick else (20, 170)
    measured = 2 if args.quick else 30
    young_time, old_time = growth(young, old, measured)
    print(f"\nThompsonMF per-period time, {measured} periods each, stepping in turn: after {young} periods "
          f"{young_time * 1e3:.1f} ms, after {old} periods {old_time * 1e3:.1f} ms (ratio {old_time / young_time:.2f})")
    if not args.no_spark:
        compare_als(5 if args.quick else args.als_periods, 2 if args.quick else 10, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
