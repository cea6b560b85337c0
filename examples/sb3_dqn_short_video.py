"""Stable-Baselines3 DQN on RecGym-ShortVideo-v0, over several seeds, against the random policy on unseen worlds.

For each seed, SB3's DQN learns in the world of that seed through recgym's batched vector env
(``make_sb3_vec_env``: 16 concurrent sessions in one simulator call, episode metrics recorded)
with ``CandidateDQNPolicy`` (one Q-network head shared by the 10 candidate slots), logging to
TensorBoard: SB3's ``rollout/`` and ``train/`` scalars and ``rec/`` from ``RecMetricsCallback``.
The greedy policy is then evaluated on a world it never saw (seed + 10,000), next to the random
policy, the myopic oracle and the untrained network's greedy policy on the same world. The margin
over random is printed per seed and pooled over the seeds (mean ± standard error).

Run: ``python examples/sb3_dqn_short_video.py [--seeds 0 1 2] [--steps 50000] [--logdir runs] [--quick]``
(about 1.5-3 minutes on 2 cores with the defaults), then ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse
import math

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.logger import configure
from threadpoolctl import threadpool_limits

import recgym  # noqa: F401  (registers the ids)
from agents.baselines import RandomPolicy
from agents.oracle import ShortVideoOracle
from agents.run_directory import new_run_directory
from agents.sb3_agents import SB3Policy
from agents.sb3_candidate_policy import CandidateDQNPolicy, candidate_policy_kwargs
from agents.training import evaluate
from recgym.monitoring import RecMetricsCallback, make_sb3_vec_env

ENV_ID = "RecGym-ShortVideo-v0"
HYPERPARAMETERS = {  # agents.dqn.DQNConfig's settings where SB3 has the knob (one gradient step per 16 env steps)
    "learning_rate": 5e-4, "buffer_size": 100_000, "batch_size": 256, "gamma": 0.9, "learning_starts": 2_000,
    "train_freq": 1, "gradient_steps": 1, "target_update_interval": 1_000, "exploration_fraction": 0.5,
    "exploration_final_eps": 0.2,
}  # fmt: skip


def train_one(seed: int, steps: int, run_dir, env_kwargs: dict, evaluate_untrained) -> tuple[DQN, object]:
    env = make_sb3_vec_env(ENV_ID, 16, seed=seed, **env_kwargs)
    model = DQN(CandidateDQNPolicy, env, policy_kwargs=dict(candidate_policy_kwargs(env)), seed=seed, **HYPERPARAMETERS)
    untrained = evaluate_untrained(model)  # greedy actions of the initial network: what learning starts from
    model.set_logger(configure(str(run_dir / f"seed{seed}"), ["tensorboard"]))
    model.learn(steps, callback=RecMetricsCallback(), log_interval=20)
    model.logger.close()
    env.close()
    return model, untrained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per seed (default 50,000)")
    parser.add_argument("--eval-episodes", type=int, default=2_000, help="sessions per policy and seed (default 2,000)")
    parser.add_argument("--logdir", default="runs", help="parent of the new run directory (default runs)")
    parser.add_argument("--quick", action="store_true", help="a tiny world and budget: checks that it runs")
    args = parser.parse_args()
    env_kwargs: dict = {}
    if args.quick:
        args.steps, args.eval_episodes, env_kwargs = 600, 32, {"n_users": 30, "n_videos": 200}
        HYPERPARAMETERS["learning_starts"] = 200
    torch.set_num_threads(1)
    # One BLAS thread for the simulator's CF products: on a busy 2-core machine multi-threaded OpenBLAS spins
    # on them instead of computing (benchmarks/bench_sb3_vecenv.py --blas-threads 2 shows it).
    threadpool_limits(1)
    run_dir = new_run_directory(args.logdir, stem="sb3_dqn_short_video")
    print(f"SB3 DQN on {ENV_ID}: {args.steps:,} env steps per seed, TensorBoard logs in {run_dir}")

    rows = []
    for seed in args.seeds:
        eval_env = gym.make_vec(ENV_ID, 16, vectorization_mode="vector_entry_point", **env_kwargs)
        world = seed + 10_000  # a world the agent never trained in
        model, untrained = train_one(seed, args.steps, run_dir, env_kwargs,
                                     lambda model: evaluate(SB3Policy(model), eval_env, args.eval_episodes, seed=world))  # noqa: B023
        results = {
            "dqn": evaluate(SB3Policy(model), eval_env, args.eval_episodes, seed=world),
            "random": evaluate(RandomPolicy(eval_env, seed=seed), eval_env, args.eval_episodes, seed=world),
            "oracle": evaluate(ShortVideoOracle(eval_env), eval_env, args.eval_episodes, seed=world),
        }
        eval_env.close()
        margin = results["dqn"].mean_return - results["random"].mean_return
        margin_se = math.hypot(results["dqn"].stderr, results["random"].stderr)
        rows.append((margin, margin_se))
        share = 100 * results["dqn"].mean_return / results["oracle"].mean_return
        print(f"seed {seed}: DQN {results['dqn'].mean_return:.3f} ± {results['dqn'].stderr:.3f} (untrained "
              f"{untrained.mean_return:.3f}), random "
              f"{results['random'].mean_return:.3f} ± {results['random'].stderr:.3f}, oracle {results['oracle'].mean_return:.3f}"
              f" -> margin over random {margin:+.3f} ± {margin_se:.3f} (DQN at {share:.1f} % of the oracle)")  # fmt: skip
    margins = np.array([margin for margin, _ in rows])
    pooled_se = math.sqrt(sum(se**2 for _, se in rows)) / len(rows)
    print(f"margin over random, mean of {len(rows)} seeds: {margins.mean():+.3f} ± {pooled_se:.3f} "
          f"(mean return per session on unseen worlds, {args.eval_episodes:,} sessions per policy and seed)")  # fmt: skip


if __name__ == "__main__":
    main()
