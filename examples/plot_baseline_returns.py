"""Plot the baseline policies' mean session return on both short-video ids (the figure in docs/environments.md).

Run: ``python examples/plot_baseline_returns.py [--sessions 6000] [--out docs/img/baseline_returns.png]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt

import recgym  # registers the ids
from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
from agents.evaluation import run_sessions, summarise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=6000, help="sessions per policy and id")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("docs/img/baseline_returns.png"))
    parser.add_argument("--overwrite", action="store_true", help="replace an existing figure")
    args = parser.parse_args()
    if args.out.exists() and not args.overwrite:
        parser.error(f"{args.out} exists; pass --overwrite to replace it")

    policies = {
        "random": lambda env: RandomPolicy(env, seed=args.seed),
        "greedy (business score)": GreedyBusinessPolicy,
        "category rotation": CategoryRotationPolicy,
    }
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(policies)
    for i, (name, make_policy) in enumerate(policies.items()):
        stats = [summarise(run_sessions(env_id, make_policy, sessions=args.sessions, seed=args.seed, num_envs=64))
                 for env_id in recgym.SHORT_VIDEO_IDS]
        positions = [k + (i - 1) * width for k in range(len(recgym.SHORT_VIDEO_IDS))]
        ax.bar(positions, [s["mean_return"] for s in stats], width, yerr=[1.96 * s["return_se"] for s in stats],
               capsize=3, label=name)
    ax.set_xticks(range(len(recgym.SHORT_VIDEO_IDS)), recgym.SHORT_VIDEO_IDS)
    ax.set_ylabel("mean return per session")
    ax.set_title(f"Baselines, first {args.sessions:,} sessions, seed {args.seed} (95% intervals)")
    ax.legend(frameon=False)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
