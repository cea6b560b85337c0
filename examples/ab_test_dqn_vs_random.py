"""A/B test of a trained DQN against random recommendations on RecGym-ShortVideo-v0, and how many users it needs.

1. Runs the A/B test (``recgym ab --a random --b dqn:DQN --users N``, as a function) and prints
   the report; its figure is in the run directory, and is also copied to ``--figure`` if given
   (an existing file is refused before anything runs, unless ``--overwrite``).
2. Plans from it, with the design calculator: users per arm for 90 % power at the observed
   difference, given the per-user standard deviations observed.
3. Measures the power: for each size in ``--sizes``, ``--repeats`` experiments on fresh worlds and
   assignments (seeds 1000, 1001, ...), and the share whose fixed-horizon test is significant.

Run (the DQN first, a few minutes on 2 cores; then this script, about 2 minutes with the default
10 repeats):

    recgym train --env RecGym-ShortVideo-v0 --agent dqn --steps 200000 --run-name dqn_for_ab
    python examples/ab_test_dqn_vs_random.py --dqn runs/dqn_for_ab

The figure and tables of docs/ab_testing.md: ``--repeats 30 --figure docs/img/ab_test.png --overwrite``.
"""

from __future__ import annotations

import argparse
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from agents.ab_report import SHORT_VIDEO_METRICS, compare
from agents.ab_test import format_summary, run_ab_test, simulate_ab_traffic
from recgym.ab.design import sample_size_means
from recgym.data.files import write_new_file

ENV_ID = "RecGym-ShortVideo-v0"
PLANNED = ("ctr", "session_return")
"""The metrics planned and measured in steps 2 and 3."""


def plan(report: pd.DataFrame, power: float) -> pd.DataFrame:
    """Users per arm for ``power`` at each metric's observed difference, from the observed per-user standard deviations."""
    rows = []
    for _, row in report[report["metric"].isin(PLANNED)].iterrows():
        sd_a, sd_b = row["se_a"] * math.sqrt(row["n_a"]), row["se_b"] * math.sqrt(row["n_b"])
        size = sample_size_means(row["difference"], sd_a, sd_b=sd_b, alpha=row["alpha"], power=power)
        rows.append({"metric": row["metric"], "observed difference": row["difference"],
                     "user sd (A, B)": f"{sd_a:.3g}, {sd_b:.3g}", f"users per arm for {power:.0%} power": size.n_a})
    return pd.DataFrame(rows)


def measured_power(dqn: str, sizes: list[int], repeats: int, visits_per_user: float) -> pd.DataFrame:
    """Share of significant fixed-horizon tests over ``repeats`` experiments per world size."""
    metrics = [metric for metric in SHORT_VIDEO_METRICS if metric.name in PLANNED]
    rows = []
    for n_users in sizes:
        significant = {metric.name: [] for metric in metrics}
        exposed = []
        for seed in range(1000, 1000 + repeats):
            users = simulate_ab_traffic("random", f"dqn:{dqn}", ENV_ID, n_users, seed=seed,
                                        visits_per_user=visits_per_user).users()
            exposed.append(len(users) / 2)
            for metric in metrics:
                significant[metric.name].append(compare(users, metric).significant)
        rows.append({"world users": n_users, "exposed per arm": round(float(np.mean(exposed))),
                     **{f"power {name}": f"{np.mean(hits):.0%}" for name, hits in significant.items()}})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dqn", required=True, help="a DQN checkpoint or a recgym train run directory holding agent.pt")
    parser.add_argument("--users", type=int, default=1000, help="users of the A/B test's world (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--visits-per-user", type=float, default=3.0, help="sessions per user on average (default 3)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800], help="world sizes of the power measurement")
    parser.add_argument("--repeats", type=int, default=10, help="experiments per size (default 10)")
    parser.add_argument("--logdir", default="runs", help="parent of the run directory (default runs)")
    parser.add_argument("--figure", type=Path, default=None,
                        help="also copy the run's figure here, e.g. docs/img/ab_test.png (default: no copy)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --figure")
    args = parser.parse_args()
    if args.figure is not None and args.figure.exists() and not args.overwrite:
        parser.error(f"--figure {args.figure} exists; pass --overwrite to replace it")

    result = run_ab_test("random", f"dqn:{args.dqn}", ENV_ID, args.users, seed=args.seed,
                         visits_per_user=args.visits_per_user, logdir=args.logdir)
    print(format_summary(result))
    print(result.format())
    source = result.run_dir / "ab_test.png"
    if args.figure is None:
        print(f"run written to {result.run_dir} (figure: {source})\n")
    else:
        write_new_file(args.figure, lambda temporary: shutil.copyfile(source, temporary), overwrite=args.overwrite)
        print(f"run written to {result.run_dir}; figure copied to {args.figure}\n")

    print("Planning the next test from this one (Welch t, alpha 0.05, two-sided):")
    print(plan(result.report, 0.9).to_string(index=False))
    print(f"\nMeasured power: {args.repeats} experiments per size, {args.visits_per_user:g} sessions per user, "
          "share significant at alpha 0.05:")
    print(measured_power(args.dqn, args.sizes, args.repeats, args.visits_per_user).to_string(index=False))


if __name__ == "__main__":
    main()
