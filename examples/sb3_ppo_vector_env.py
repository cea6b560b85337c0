"""Stable-Baselines3 PPO on recgym's native vector env: 64 users stepped in one batched simulator call per step.

``make_sb3_vec_env`` builds the native vector env of the id (same-step autoreset), records each
episode's recommender metrics (``RecordRecMetricsVector``), adapts it to SB3's ``VecEnv``
contract (``RecGymVecEnv``) and adds SB3's ``VecMonitor``; ``VecNormalize`` scales the
observations (view counts and seconds are in the tens to hundreds). PPO then collects its
rollouts from all 64 sessions at once, instead of stepping 64 env copies one after the other in
``DummyVecEnv``. ``RecMetricsCallback`` logs ``rec/*`` next to SB3's scalars in TensorBoard.
At the end the greedy policy is compared with the random policy on a world it never saw.

Run: ``python examples/sb3_ppo_vector_env.py [--steps 200000] [--n-envs 64] [--seed 0] [--logdir runs] [--quick]``
(about 1-2 minutes on 2 cores with the defaults), then ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse
import math
import time

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize
from threadpoolctl import threadpool_limits

import recgym  # noqa: F401  (registers the ids)
from agents.baselines import RandomPolicy
from agents.run_directory import new_run_directory
from agents.sb3_agents import SB3Policy
from agents.training import evaluate
from recgym.monitoring import RecMetricsCallback, make_sb3_vec_env

ENV_ID = "RecGym-ShortVideo-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200_000, help="env steps (default 200,000)")
    parser.add_argument("--n-envs", type=int, default=64, help="concurrent sessions in the vector env (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="world and model seed (default 0)")
    parser.add_argument("--eval-episodes", type=int, default=2_000, help="sessions per policy (default 2,000)")
    parser.add_argument("--logdir", default="runs", help="parent of the new run directory (default runs)")
    parser.add_argument("--quick", action="store_true", help="a tiny world and budget: checks that it runs")
    args = parser.parse_args()
    env_kwargs: dict = {}
    n_steps = 32
    if args.quick:
        args.steps, args.n_envs, args.eval_episodes, n_steps, env_kwargs = 512, 8, 32, 16, {"n_users": 30, "n_videos": 200}
    torch.set_num_threads(1)
    # One BLAS thread for the simulator's CF products: on a busy 2-core machine multi-threaded OpenBLAS spins
    # on them instead of computing (benchmarks/bench_sb3_vecenv.py --blas-threads 2 shows it).
    threadpool_limits(1)
    run_dir = new_run_directory(args.logdir, stem="sb3_ppo_vector_env")

    # The five lines: a batched vector env, PPO, learn.
    env = VecNormalize(make_sb3_vec_env(ENV_ID, args.n_envs, seed=args.seed, **env_kwargs), norm_reward=False, gamma=0.9)
    batch_size = min(256, n_steps * args.n_envs)
    model = PPO("MlpPolicy", env, n_steps=n_steps, batch_size=batch_size, n_epochs=4, gamma=0.9, ent_coef=0.01, seed=args.seed)
    model.set_logger(configure(str(run_dir), ["tensorboard"]))
    began = time.perf_counter()
    model.learn(args.steps, callback=RecMetricsCallback())
    seconds = time.perf_counter() - began
    model.logger.close()
    print(f"PPO on {ENV_ID}: {model.num_timesteps:,} env steps from {args.n_envs} concurrent sessions in {seconds:.0f} s "
          f"({model.num_timesteps / seconds:,.0f} steps/s, training included); TensorBoard logs in {run_dir}")  # fmt: skip

    env.training = False  # freeze the observation statistics for evaluation
    eval_env = gym.make_vec(ENV_ID, 16, vectorization_mode="vector_entry_point", **env_kwargs)
    world = args.seed + 10_000
    ppo = evaluate(SB3Policy(model, env), eval_env, args.eval_episodes, seed=world)
    random = evaluate(RandomPolicy(eval_env, seed=args.seed), eval_env, args.eval_episodes, seed=world)
    margin, margin_se = ppo.mean_return - random.mean_return, math.hypot(ppo.stderr, random.stderr)
    print(f"unseen world {world}, {args.eval_episodes:,} sessions each: PPO {ppo.mean_return:.3f} ± {ppo.stderr:.3f}, "
          f"random {random.mean_return:.3f} ± {random.stderr:.3f}, margin {margin:+.3f} ± {margin_se:.3f}")  # fmt: skip
    for key in ("watch_rate", "skip_rate", "coverage"):
        print(f"  {key}: PPO {ppo.metrics[key]:.3f}, random {random.metrics[key]:.3f}")
    env.close()


if __name__ == "__main__":
    main()
