"""Stable-Baselines3 TD3 on RecGym-RatingsEmbedding-v0: the actor proposes an item embedding for each request.

The rating world's vector env has one env per user, so one vector step is one period in which
every user asks for a recommendation once; TD3 sees ``n_users`` transitions per step. Consecutive
requests of an env come from different users, so the problem is a contextual bandit: ``gamma=0``.
The settings follow ``agents.ddpg.DDPGConfig.ratings_preset`` (a 20-period uniform warm-up, 32
gradient steps of 256 per period, Gaussian exploration noise 0.3 from its own seeded generator).
TensorBoard gets SB3's scalars and ``rec/regret``, ``rec/zero_regret_rate``,
``rec/catalogue_coverage`` … from ``RecMetricsCallback``. The trained actor is then replayed in
the same world from its start and compared with random, the population's best item and the
oracle (mean regret per request; the agent learned *these* users and items).

Run: ``python examples/sb3_td3_ratings_embedding.py [--periods 200] [--seed 0] [--logdir runs] [--quick]``
(about 1-3 minutes on 2 cores with the defaults), then ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import TD3
from stable_baselines3.common.logger import configure
from threadpoolctl import threadpool_limits

import recgym  # noqa: F401  (registers the ids)
from agents.comparison import comparison_table, evaluate_baselines, format_comparison
from agents.run_directory import new_run_directory
from agents.sb3_agents import SB3Policy, SeededNormalNoise
from agents.training import evaluate
from recgym.monitoring import RecMetricsCallback, make_sb3_vec_env

ENV_ID = "RecGym-RatingsEmbedding-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--periods", type=int, default=200, help="training periods (each: every user once; default 200)")
    parser.add_argument("--seed", type=int, default=0, help="world and model seed (default 0)")
    parser.add_argument("--logdir", default="runs", help="parent of the new run directory (default runs)")
    parser.add_argument("--quick", action="store_true", help="a tiny world and budget: checks that it runs")
    args = parser.parse_args()
    world = {"max_steps": 20}  # episodes of 20 requests per env, so that episodes end and their metrics are logged
    warm_up, gradient_steps = 20, 32
    if args.quick:
        args.periods, warm_up, gradient_steps = 12, 4, 2
        world |= {"n_users": 12, "n_items": 20, "n_features": 4, "embedding_dim": 5, "frame_size": 4, "max_steps": 5}
    torch.set_num_threads(1)
    # One BLAS thread for the simulator's CF products: on a busy 2-core machine multi-threaded OpenBLAS spins
    # on them instead of computing (benchmarks/bench_sb3_vecenv.py --blas-threads 2 shows it).
    threadpool_limits(1)
    n_users = gym.make(ENV_ID, **world).unwrapped.core.config.n_users
    run_dir = new_run_directory(args.logdir, stem="sb3_td3_ratings_embedding")

    env = make_sb3_vec_env(ENV_ID, n_users, seed=args.seed, **world)
    noise = SeededNormalNoise(0.3, int(np.prod(env.action_space.shape)), seed=args.seed)
    model = TD3("MlpPolicy", env, gamma=0.0, learning_starts=warm_up * n_users, train_freq=1, gradient_steps=gradient_steps,
                batch_size=256, learning_rate=3e-4, buffer_size=200_000, action_noise=noise, seed=args.seed)  # fmt: skip
    model.set_logger(configure(str(run_dir), ["tensorboard"]))
    began = time.perf_counter()
    model.learn(args.periods * n_users, callback=RecMetricsCallback(), log_interval=n_users)
    model.logger.close()
    env.close()
    print(f"TD3 on {ENV_ID}: {args.periods} periods of {n_users:,} users ({model.num_timesteps:,} env steps) in "
          f"{time.perf_counter() - began:.0f} s; TensorBoard logs in {run_dir}")  # fmt: skip

    eval_env = gym.make_vec(ENV_ID, n_users, vectorization_mode="vector_entry_point", **world)
    results = {"sb3-td3": evaluate(SB3Policy(model), eval_env, n_users, seed=args.seed)}
    results |= evaluate_baselines(ENV_ID, eval_env, n_users, args.seed, seed=args.seed)
    eval_env.close()
    print(f"the training world replayed from its start, {n_users:,} episodes of {world['max_steps']} requests per policy:")
    print(format_comparison(comparison_table(results, oracle="oracle")))


if __name__ == "__main__":
    main()
