"""Throughput of the short-video envs: the three figures of issue 3.

1. single-env steps/s through ``gym.make`` (default knobs, and ``cf_refresh_interval=1``);
2. user-steps/s of the native vector env at N = 256 (populations 256 and ``--vector-users``, 3,000 videos);
3. the single env's step rate after 200,000 logged interactions relative to its rate at the start.

Run: ``python benchmarks/bench_short_video.py`` (``--quick`` for a smoke run with tiny budgets).
Random actions from a seeded generator; wall-clock rates vary with the machine's load.

BLAS runs on one thread (``--blas-threads`` changes it). A single env's retrievals use one thread
anyway; a vector step of 256 sessions retrieves for about 35 users at once, and with two threads
on a 2-core machine that other jobs load, OpenBLAS spins on those products instead of computing:
the same figure then swings between about 4,000 and 170,000 user-steps/s from run to run.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from threadpoolctl import threadpool_limits

import recgym  # registers the ids

ENV_ID = "RecGym-ShortVideo-v0"


def single_env_rate(env: gym.Env, steps: int, rng: np.random.Generator) -> float:
    """Steps per second of ``steps`` random actions, resetting after each episode."""
    n_actions = env.action_space.n
    actions = rng.integers(0, n_actions, size=steps).tolist()
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def median_rate(env: gym.Env, steps: int, rng: np.random.Generator, blocks: int = 3) -> float:
    """Median of ``blocks`` measurements of ``steps`` steps each (the machine is noisy)."""
    return float(np.median([single_env_rate(env, steps, rng) for _ in range(blocks)]))


def vector_env_rate(num_envs: int, n_users: int, steps: int, seed: int) -> float:
    """User-steps per second of the native vector env."""
    env = gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", n_users=n_users)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, env.single_action_space.n, size=(steps, num_envs))
    env.step(actions[0])  # warm-up
    start = time.perf_counter()
    for row in actions[1:]:
        env.step(row)
    return num_envs * (steps - 1) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to check the script runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vector-users", type=int, default=1000, help="second population of the vector benchmark")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    with threadpool_limits(args.blas_threads):
        run(args)


def run(args: argparse.Namespace) -> None:
    """Print every figure."""
    single_steps = 2_000 if args.quick else 10_000
    vector_steps = 20 if args.quick else 400
    logged_target = 20_000 if args.quick else 200_000

    rng = np.random.default_rng(args.seed)
    print(f"recgym {recgym.__version__}, numpy {np.__version__}, gymnasium {gym.__version__}, BLAS threads {args.blas_threads}")

    env = gym.make(ENV_ID)
    env.reset(seed=args.seed)
    start_rate = median_rate(env, single_steps, rng)
    print(f"single env, gym.make, default knobs:          {start_rate:>10,.0f} steps/s")
    exact = gym.make(ENV_ID, cf_refresh_interval=1)
    exact.reset(seed=args.seed)
    print(f"single env, gym.make, cf_refresh_interval=1:  {median_rate(exact, single_steps, rng):>10,.0f} steps/s")

    for n_users in (256, args.vector_users):
        rate = vector_env_rate(256, n_users, vector_steps, args.seed)
        print(f"vector env, N=256, {n_users:>5} users, 3000 videos: {rate:>10,.0f} user-steps/s")

    core = env.unwrapped.core
    while len(core.simulator.log) < logged_target:
        single_env_rate(env, 10_000, rng)
    late_rate = median_rate(env, single_steps, rng)
    print(
        f"single env after {len(core.simulator.log):,} logged interactions: {late_rate:>10,.0f} steps/s "
        f"= {late_rate / start_rate:.0%} of the starting rate"
    )


if __name__ == "__main__":
    main()
