"""Learning quality of our DQN and DDPG after a fixed budget, over several seeds (issue 5's targets).

Three parts, each run once per seed:

``short_video``
    DQN (``DQNConfig()`` defaults, 16-env native vector env) trained for ``--steps`` env steps on
    ``RecGym-ShortVideo-v0``, then evaluated greedily on fresh worlds (``--eval-worlds`` seeds that
    no run trained on, ``--eval-episodes`` sessions each) beside random, greedy by business score,
    category rotation and the myopic oracle on the very same worlds. Target: DQN >= 95 % of the
    oracle's mean return, and above greedy and random.
``fatigue``
    The same on ``RecGym-ShortVideoFatigue-v0``. Target: DQN >= 1.10 x greedy by business score.
``ddpg``
    DDPG (``DDPGConfig.ratings_preset()``) on ``RecGym-RatingsEmbedding-v0`` with one vector step
    per period (num_envs = n_users = 1,000) for ``--periods`` periods; then the deterministic actor
    serves ``--eval-periods`` more periods of the same world and its mean regret is compared with
    the uniformly random action's (a uniform point of the action box, seeded) and the population's
    best item's (ground truth: the best policy that serves everybody the same item) over the first
    ``--eval-periods`` periods of the same world. Target: DDPG's regret >= 50 % below random's.
    Also printed: distinct items served per period, which tells whether the actor personalises.

Run: ``python benchmarks/bench_learning.py`` (all parts, 3 seeds; about 25 minutes on 2 cores), or
``--parts short_video --seeds 0 1 2``, or ``--quick`` for a smoke run. ``--plot PATH`` draws the
DQN learning curves (periodic greedy evaluation) of the short-video parts; ``--csv PATH`` saves
every figure. Torch runs on one thread; all draws come from the seeds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

import recgym  # noqa: F401  (registers the ids)
from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
from agents.ddpg import DDPG, DDPGConfig
from agents.dqn import DQN, DQNConfig
from agents.oracle import ShortVideoOracle
from agents.ratings_baselines import PopulationBestPolicy, RandomActionPolicy
from agents.training import evaluate, make_vector_env, train
from recgym.data.files import write_new_file
from recgym.data.tables import save_frame

SHORT_VIDEO_PARTS = {"short_video": "RecGym-ShortVideo-v0", "fatigue": "RecGym-ShortVideoFatigue-v0"}
EVAL_SEED_BASE = 10_000  # evaluation worlds never coincide with a training seed
DDPG_ENV_ID = "RecGym-RatingsEmbedding-v0"
DDPG_USERS = 1_000


def short_video_part(
    env_id: str, seed: int, steps: int, eval_worlds: int, eval_episodes: int, curve_every: int
) -> tuple[dict[str, float], list[tuple[int, float]]]:
    """Train DQN with ``seed`` and evaluate it and the baselines on the same fresh worlds."""
    eval_seeds = [EVAL_SEED_BASE + 100 * seed + k for k in range(eval_worlds)]
    env = make_vector_env(env_id, 16)
    agent = DQN.for_env(env, DQNConfig(seed=seed))
    began = time.perf_counter()
    result = train(
        agent,
        env,
        steps,
        seed=seed,
        eval_env=make_vector_env(env_id, 16) if curve_every else None,
        eval_every=curve_every or steps,
        eval_episodes=eval_episodes,
        eval_seed=eval_seeds[0],
        progress_bar=False,
    )
    seconds = time.perf_counter() - began
    env.close()
    curve = [(step, evaluation.mean_return) for step, evaluation in result.evaluations]
    eval_env = make_vector_env(env_id, 16)
    policies: dict[str, Any] = {
        "dqn": agent,
        "random": RandomPolicy(eval_env, seed=seed),
        "greedy": GreedyBusinessPolicy,
        "rotation": CategoryRotationPolicy,
        "oracle": ShortVideoOracle,  # a class: built on the evaluation env, whose ground truth it reads
    }
    row: dict[str, float] = {"train_seconds": seconds}
    for name, policy in policies.items():
        row[name] = evaluate(policy, eval_env, eval_episodes, eval_seeds).mean_return
    eval_env.close()
    return row, curve


def serve_periods(
    env: gym.vector.VectorEnv, act: Callable[[Any], np.ndarray], periods: int, observations: Any
) -> dict[str, float]:
    """Mean ``info["regret"]`` over ``periods`` vector steps of ``act``, and how personal its choices were.

    ``distinct`` is the mean number of distinct items served per period (1: the same item for
    everybody); ``top_share`` the mean share of the period's requests that got its most served item.
    """
    regrets, distinct, top_share = [], [], []
    for _ in range(periods):
        observations, _, _, _, info = env.step(act(observations))
        regrets.append(np.mean(info["regret"]))
        _, counts = np.unique(info["item"], return_counts=True)
        distinct.append(len(counts))
        top_share.append(counts.max() / counts.sum())
    return {"regret": float(np.mean(regrets)), "distinct": float(np.mean(distinct)), "top_share": float(np.mean(top_share))}


def _ratings_world() -> gym.vector.VectorEnv:
    return gym.make_vec(DDPG_ENV_ID, num_envs=DDPG_USERS, vectorization_mode="vector_entry_point", n_users=DDPG_USERS)


def ddpg_part(seed: int, periods: int, eval_periods: int) -> dict[str, float]:
    """Train DDPG for ``periods`` periods of world ``seed``; its regret beside random's and the population best's.

    The deterministic actor serves the ``eval_periods`` periods that follow training in the same
    world. The uniformly random action and the population's best item
    (:class:`~agents.ratings_baselines.PopulationBestPolicy`, ground truth, the best
    non-personalised policy) serve the first ``eval_periods`` periods of a fresh copy of the world.
    """
    env = _ratings_world()
    agent = DDPG.for_env(env, DDPGConfig.ratings_preset(seed=seed))
    began = time.perf_counter()
    train(agent, env, periods * DDPG_USERS, seed=seed, progress_bar=False)
    seconds = time.perf_counter() - began
    observations, _ = env.reset()  # unseeded: the next requests of the same stream, nothing redrawn
    with torch.no_grad():
        ddpg = serve_periods(env, lambda obs: agent.act(obs, deterministic=True), eval_periods, observations)
    env.close()
    row = {"train_seconds": seconds, "ddpg": ddpg["regret"], "distinct": ddpg["distinct"], "top_share": ddpg["top_share"]}
    for name, make_policy in (("random", lambda e: RandomActionPolicy(e, seed=seed)), ("population_best", PopulationBestPolicy)):
        fresh = _ratings_world()
        observations, _ = fresh.reset(seed=seed)
        row[name] = serve_periods(fresh, make_policy(fresh).act, eval_periods, observations)["regret"]
        fresh.close()
    row["reduction"] = 1.0 - row["ddpg"] / row["random"]
    return row


def plot_curves(
    curves: dict[str, list[list[tuple[int, float]]]],
    baselines: dict[str, dict[str, float]],
    episodes: int,
    path: Path,
    overwrite: bool = False,
) -> None:
    """One panel per env id: each seed's DQN evaluation curve (thin), their mean (thick), and the baselines' returns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.2), squeeze=False)
    for ax, (part, runs) in zip(axes[0], curves.items(), strict=True):
        for run in runs:
            steps, returns = zip(*run, strict=True)
            ax.plot(steps, returns, color="tab:blue", alpha=0.35, linewidth=1)
        steps = [step for step, _ in runs[0]]
        mean = np.mean([[value for _, value in run] for run in runs], axis=0)
        ax.plot(steps, mean, color="tab:blue", linewidth=2.5, marker="o", markersize=4, label=f"DQN, mean of {len(runs)} seeds")
        for name, style in (("oracle", "k--"), ("rotation", "g:"), ("greedy", "r-."), ("random", "b:")):
            ax.axhline(baselines[part][name], linestyle=style[1:], color=style[0], label=f"{name} (final evaluation)")
        ax.set_title(SHORT_VIDEO_PARTS[part])
        ax.set_xlabel("env steps")
        ax.set_ylabel("mean return per session")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"DQN's greedy policy during training (thin: one seed, one evaluation world, {episodes:,} sessions); "
        "baselines over all evaluation worlds",
        fontsize=9,
    )
    fig.tight_layout()
    write_new_file(path, lambda temporary: fig.savefig(temporary, dpi=110, format="png"), overwrite=overwrite)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=(*SHORT_VIDEO_PARTS, "ddpg"), default=[*SHORT_VIDEO_PARTS, "ddpg"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=50_000, help="DQN env steps per run (default 50,000)")
    parser.add_argument("--eval-worlds", type=int, default=8, help="fresh worlds per evaluation (default 8)")
    parser.add_argument("--eval-episodes", type=int, default=1_000, help="sessions per world (default 1,000)")
    parser.add_argument("--curve-every", type=int, default=0, help="env steps between learning-curve points (0: none)")
    parser.add_argument("--periods", type=int, default=200, help="DDPG training periods (default 200)")
    parser.add_argument("--eval-periods", type=int, default=20, help="periods of regret measurement (default 20)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to check the script runs")
    parser.add_argument("--plot", type=Path, help="PNG of the DQN learning curves (needs --curve-every)")
    parser.add_argument("--csv", type=Path, help="save the per-seed figures here")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --plot / --csv files")
    args = parser.parse_args(argv)
    for option in ("plot", "csv"):
        path = getattr(args, option)
        if path is not None and path.exists() and not args.overwrite:
            parser.error(f"--{option} {str(path)!r} already exists; choose another path or pass --overwrite")
    if args.plot is not None and not args.curve_every:
        parser.error("--plot draws the learning curves: it needs --curve-every N (env steps between evaluations)")
    if args.quick:
        args.steps, args.eval_worlds, args.eval_episodes, args.periods, args.eval_periods = 3_000, 1, 50, 25, 2
        args.curve_every = args.curve_every and 1_000
    torch.set_num_threads(1)

    rows: list[dict[str, Any]] = []
    curves: dict[str, list[list[tuple[int, float]]]] = {}
    for part in args.parts:
        for seed in args.seeds:
            if part == "ddpg":
                row = ddpg_part(seed, args.periods, args.eval_periods)
                print(
                    f"ddpg seed {seed}: regret {row['ddpg']:.3f} vs random {row['random']:.3f} ({row['reduction']:.0%} lower), "
                    f"population best {row['population_best']:.3f}; {row['distinct']:.1f} distinct items per period, "
                    f"top item {row['top_share']:.0%} of requests; {row['train_seconds']:.0f} s",
                    flush=True,
                )
            else:
                row, curve = short_video_part(
                    SHORT_VIDEO_PARTS[part], seed, args.steps, args.eval_worlds, args.eval_episodes, args.curve_every
                )
                curves.setdefault(part, []).append(curve)
                print(
                    f"{part} seed {seed}: "
                    + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "train_seconds")
                    + f", {row['train_seconds']:.0f} s",
                    flush=True,
                )
            rows.append({"part": part, "seed": seed, **row})
    table = pd.DataFrame(rows)
    print()
    baselines: dict[str, dict[str, float]] = {}
    for part, group in table.groupby("part", sort=False):
        means = group.drop(columns=["part", "seed"]).mean()
        if part == "ddpg":
            print(
                f"ddpg over {len(group)} seeds: mean regret {means['ddpg']:.3f} vs random {means['random']:.3f}: "
                f"{1 - means['ddpg'] / means['random']:.1%} lower (target >= 50 %); population best "
                f"{means['population_best']:.3f}; {means['distinct']:.1f} distinct items per period"
            )
            continue
        baselines[str(part)] = dict(means)
        print(f"{SHORT_VIDEO_PARTS[str(part)]} over {len(group)} seeds (mean evaluation return per session):")
        for name in ("dqn", "oracle", "rotation", "greedy", "random"):
            print(f"  {name:<9} {means[name]:.3f}")
        print(f"  DQN / oracle = {means['dqn'] / means['oracle']:.1%} (target >= 95 % on ShortVideo)")
        print(f"  DQN / greedy = {means['dqn'] / means['greedy']:.3f} (target >= 1.10 on Fatigue)")
        print(f"  DQN / rotation = {means['dqn'] / means['rotation']:.3f}")
    if args.csv:
        save_frame(table, args.csv, overwrite=args.overwrite, format="csv")
    if args.plot and curves:
        plot_curves(curves, baselines, args.eval_episodes, args.plot, args.overwrite)
        print(f"learning curves: {args.plot}")


if __name__ == "__main__":
    main()
