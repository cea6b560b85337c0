"""Regret per period of three reference policies on ``RecGym-Ratings-v0`` (the figure in docs/ratings.md).

Seed 000's world (1,000 users x 1,000 items, 10 features), one native vector step per period:

* random: a uniformly drawn item per request;
* population best: the one item with the highest mean rating for the average user, for everybody
  (SPEC §2's "≈ 0.19" reference point), read through the evaluation back door;
* oracle: each user's own best item (``oracle_actions()``), regret 0 by construction.

The right panel repeats it with catalogue churn (``--new-items-per-period``, 20 by default): new items
replace random old ones, so a fixed choice goes stale once its item is retired.

Run: ``python examples/ratings_reference_points.py [--periods 30] [--out docs/img/ratings_regret.png]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import recgym  # noqa: F401  (registers the ids)


def run(policy: str, periods: int, seed: int, new_items: float) -> np.ndarray:
    """Mean regret of each period under ``policy``."""
    env = gym.make_vec("RecGym-Ratings-v0", num_envs=1000, vectorization_mode="vector_entry_point",
                       new_items_per_period=new_items, max_steps=periods)
    env.reset(seed=seed)
    vec = env.unwrapped
    rng = np.random.default_rng(seed)
    regrets = []
    for _ in range(periods):
        if policy == "random":
            actions = rng.integers(0, vec.single_action_space.n, size=vec.num_envs)
        elif policy == "oracle":
            actions = vec.oracle_actions()
        else:  # the best item for the average user, chosen once, from the initial catalogue
            if not regrets:
                truth = vec.simulator
                fixed = int(np.argmax(truth.item_attributes @ truth.user_attributes.mean(axis=0)))
            actions = np.full(vec.num_envs, fixed)
        _, _, _, _, info = env.step(actions)
        regrets.append(info["regret"].mean())
    return np.array(regrets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--periods", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--new-items-per-period", type=float, default=20.0, help="catalogue churn of the right panel")
    parser.add_argument("--out", type=Path, default=Path("docs/img/ratings_regret.png"))
    parser.add_argument("--overwrite", action="store_true", help="replace an existing figure")
    args = parser.parse_args()
    if args.out.exists() and not args.overwrite:
        parser.error(f"{args.out} exists; pass --overwrite to replace it")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, churn in zip(axes, (0.0, args.new_items_per_period), strict=True):
        print(f"new items per period: {churn:g}")
        for policy, label in (("random", "random"), ("population_best", "population best item"), ("oracle", "oracle")):
            regrets = run(policy, args.periods, args.seed, churn)
            print(f"  {label:<22} mean regret per period: first {regrets[0]:.3f}, overall {regrets.mean():.3f}")
            ax.plot(np.arange(args.periods), regrets, label=label)
        ax.set_xlabel("period (every user requests once)")
        ax.set_title(f"{churn:g} new items per period")
    axes[0].set_ylabel("mean regret (on mean ratings)")
    axes[0].legend(frameon=False)
    fig.suptitle(f"RecGym-Ratings-v0, 1,000 users x 1,000 items, seed {args.seed}")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
