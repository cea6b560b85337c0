"""What each knob of recgym's Thompson MF is worth: one change at a time from the defaults, on seed 000's world.

Each row runs ``ThompsonMF`` for ``--periods`` periods on the 1,000-user x 1,000-item world of each
seed and prints the last-period and cumulative mean regret (mean over seeds) and the median time
per period. The rows are the defaults, then each default undone in turn, then the seed's agent.

Run: ``python benchmarks/bench_thompson_ablation.py [--seeds 42 43 44] [--periods 50]`` (``--quick``:
two rows, tiny world).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime

import numpy as np

from agents.batch_recommender import PeriodAdapter, make_period_env
from agents.thompson_mf import ThompsonConfig, ThompsonMF

ROWS = {
    "defaults": {},
    "window=0 (pure assumed-density filtering)": {"window": 0},
    "window=5": {"window": 5},
    "relaxation=1 (no over-relaxation)": {"relaxation": 1.0},
    "n_sweeps=2": {"n_sweeps": 2},
    "catalogue_draws=1 (the seed's shared draw)": {"catalogue_draws": 1},
    "catalogue_draws=8": {"catalogue_draws": 8},
    "catalogue_draws=128": {"catalogue_draws": 128},
    "beta=100 (the world's noise precision)": {"beta": 100.0},
    "alpha_bias=0.1": {"alpha_bias": 0.1},
    "biases=False": {"biases": False},
}


def run(config: ThompsonConfig, seed: int, periods: int, n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean regret and seconds (inference + learning) of each period."""
    adapter = PeriodAdapter(make_period_env(n_users, n_items, 10))
    adapter.reset(seed=seed)
    agent = ThompsonMF(n_users, n_items, config, seed=seed)
    records = [adapter.step(agent) for _ in range(periods)]
    return (np.array([record.mean_regret for record in records]),
            np.array([record.inference_seconds + record.training_seconds for record in records]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = dict(ROWS)
    rows["the seed's agent (seed_preset)"] = None
    n_users = n_items = 1000
    if args.quick:
        rows = {"defaults": {}, "window=0 (pure assumed-density filtering)": {"window": 0}}
        n_users, n_items, args.periods, args.seeds = 100, 80, 5, args.seeds[:1]
    print(f"{datetime.date.today()}: {n_users:,} users x {n_items:,} items, {args.periods} periods, seeds {args.seeds} "
          "(regret: mean over seeds)")
    print(f"{'ThompsonMF':46s} {'last-period regret':>19s} {'cumulative regret':>18s} {'ms/period':>10s}")
    for name, change in rows.items():
        config = ThompsonConfig.seed_preset() if change is None else ThompsonConfig(**change)
        results = [run(config, seed, args.periods, n_users, n_items) for seed in args.seeds]
        last = np.mean([regrets[-1] for regrets, _ in results])
        cumulative = np.mean([regrets.sum() for regrets, _ in results])
        milliseconds = 1e3 * np.median(np.concatenate([seconds for _, seconds in results]))
        print(f"{name:46s} {last:19.3f} {cumulative:18.2f} {milliseconds:10.1f}", flush=True)


if __name__ == "__main__":
    main()
