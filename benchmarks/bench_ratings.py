"""Throughput of the rating envs: the two figures of issue 4, plus the embedding id.

1. the env's own cost of one period of 1,000 users x 1,000 items: one step of the native vector env
   with ``num_envs = n_users`` and precomputed actions (the agent excluded); the same period served
   as 1,000 single-env steps is printed beside it as the reference;
2. requests per second of the single env through ``gym.make``.

``--large`` adds the best-item search of a 100,000-user x 100,000-item world (time and peak memory
traced by ``tracemalloc``; about a minute).

Run: ``python benchmarks/bench_ratings.py`` (``--quick`` for a smoke run with tiny budgets).
Random actions from a seeded generator; wall-clock figures vary with the machine's load, so each is
the median of several blocks.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import gymnasium as gym
import numpy as np

import recgym
from recgym.simulators.ratings import best_items

IDS = ("RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0")


def random_actions(space: gym.Space, n: int, rng: np.random.Generator) -> list:
    """``n`` actions of a single env's space drawn from ``rng``."""
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(0, space.n, size=n).tolist()
    return list(rng.uniform(-1.0, 1.0, size=(n, *space.shape)).astype(np.float32))


def single_env_rate(env_id: str, steps: int, rng: np.random.Generator, blocks: int) -> float:
    """Median requests per second of ``steps`` random actions through ``gym.make``."""
    env = gym.make(env_id)
    env.reset(seed=0)
    rates = []
    for _ in range(blocks):
        actions = random_actions(env.action_space, steps, rng)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        rates.append(steps / (time.perf_counter() - start))
    return float(np.median(rates))


def period_cost(env_id: str, periods: int, rng: np.random.Generator, blocks: int) -> float:
    """Median seconds of one vector step with ``num_envs = n_users`` (one period)."""
    env = gym.make_vec(env_id, num_envs=1000, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    costs = []
    for _ in range(blocks):
        actions = [np.stack(random_actions(env.single_action_space, env.num_envs, rng)) for _ in range(periods)]
        start = time.perf_counter()
        for batch in actions:
            env.step(batch)
        costs.append((time.perf_counter() - start) / periods)
    return float(np.median(costs))


def large_search(n: int, rng: np.random.Generator) -> None:
    """Time and peak memory of the chunked best-item search over ``n`` users x ``n`` items."""
    users, items = rng.uniform(size=(n, 10)), rng.uniform(size=(n, 10))
    tracemalloc.start()
    start = time.perf_counter()
    best_items(users, items)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"best-item search, {n:,} users x {n:,} items: {seconds:6.1f} s, peak {peak / 2**20:,.0f} MiB "
          f"(the dense matrix would be {n * n * 8 / 2**30:,.0f} GiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to check the script runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large", action="store_true", help="also search a 100,000 x 100,000 world")
    args = parser.parse_args()
    steps, periods, blocks = (2_000, 10, 3) if args.quick else (20_000, 200, 5)
    rng = np.random.default_rng(args.seed)
    print(f"recgym {recgym.__version__}, numpy {np.__version__}, gymnasium {gym.__version__}")
    for env_id in IDS:
        vector = period_cost(env_id, periods, rng, blocks)
        rate = single_env_rate(env_id, steps, rng, blocks)
        as_single = 1000 / rate
        print(f"{env_id}:")
        print(f"  one 1,000-user period, vector env step:  {vector * 1e3:8.3f} ms")
        print(f"  the same period as 1,000 single steps:   {as_single * 1e3:8.3f} ms  ({as_single / vector:.0f}x slower)")
        print(f"  single env through gym.make:             {rate:8,.0f} requests/s")
    if args.large:
        large_search(100_000, rng)


if __name__ == "__main__":
    main()
