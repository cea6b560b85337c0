"""The ``recgym`` command line: ``recgym demo`` (later issues add train, experiment, ab, serve)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from recgym.envs.registration import SHORT_VIDEO_IDS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _demo(args: argparse.Namespace) -> int:
    # Agents sit above the environments, so the CLI imports them only when a command needs them.
    from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
    from agents.evaluation import run_sessions, summarise

    policies = {
        "random": lambda env: RandomPolicy(env, seed=args.seed),
        "greedy (business score)": GreedyBusinessPolicy,
        "category rotation": CategoryRotationPolicy,
    }
    rows = []
    for env_id in args.env:
        for name, make_policy in policies.items():
            sessions = run_sessions(env_id, make_policy, sessions=args.sessions, seed=args.seed, num_envs=args.num_envs)
            rows.append({"env": env_id, "policy": name, **summarise(sessions)})
    table = pd.DataFrame(rows)
    formatted = table.assign(
        mean_return=[f"{m:.2f} ± {se:.2f}" for m, se in zip(table["mean_return"], table["return_se"], strict=True)],
        **{c: table[c].map("{:.1%}".format) for c in ("watched_rate", "liked_rate", "skipped_rate")},
        mean_steps=table["mean_steps"].map("{:.2f}".format),
        watch_seconds=table["watch_seconds"].map("{:.1f}".format),
    ).drop(columns="return_se")
    print(f"{args.sessions} sessions per policy, seed {args.seed} (mean return ± standard error)")
    print(formatted.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``recgym`` argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="recgym", description="Recommendation policies in simulation.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="compare random, greedy and category-rotation policies in simulation")
    demo.add_argument("--env", nargs="+", choices=SHORT_VIDEO_IDS, default=list(SHORT_VIDEO_IDS), help="environment ids")
    demo.add_argument("--sessions", type=_positive_int, default=2000, help="sessions per policy (default 2000)")
    demo.add_argument("--seed", type=int, default=0, help="world and policy seed (default 0)")
    demo.add_argument("--num-envs", type=_positive_int, default=32, help="concurrent sessions (default 32)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``recgym`` command line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # a knob out of range: say so like any other bad argument
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
