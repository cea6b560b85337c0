"""Env steps per second through recgym's SB3 adapter vs SB3's DummyVecEnv of N single envs, at N = 64 (issue 7's goal: >= 10x).

Three measurements, each a ratio taken in the same run (rounds interleaved, medians reported):

1. raw stepping with uniformly random actions (drawn beforehand from a seeded generator):
   ``RecGymVecEnv`` over the native vector env vs ``DummyVecEnv`` of ``N`` single envs; the
   native vector env stepped directly is measured in the same rounds, so that the adapter's own
   cost per vector step (its conversion of the vector info into ``N`` info dicts) is printed too;
2. the same with what training uses: ``make_sb3_vec_env`` (``RecordRecMetricsVector`` and
   ``VecMonitor``) vs ``DummyVecEnv`` of ``RecordRecMetrics`` single envs under ``VecMonitor``;
3. PPO rollout collection (``PPO.collect_rollouts``: policy forward pass, stepping, buffer) on
   the envs of 2.

Each ratio is given from wall-clock time and from the CPU time of the process: on a machine that
other jobs load, the CPU-time ratio varies less from round to round (both sides are single-threaded
here, so it also measures the work done).

Every env has the default world (200 users, 3,000 videos). BLAS and torch run on one thread on
both sides (on a loaded 2-core machine multi-threaded OpenBLAS spins on the CF products instead
of computing); ``--blas-threads`` changes that.

Run: ``python benchmarks/bench_sb3_vecenv.py [--n-envs 64] [--steps 150] [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor
from threadpoolctl import threadpool_limits

import recgym  # noqa: F401  (registers the ids)
from recgym.monitoring import RecGymVecEnv, make_sb3_vec_env, make_vector_env
from recgym.wrappers import RecordRecMetrics

ENV_ID = "RecGym-ShortVideo-v0"

Rate = tuple[float, float]
"""Env steps per second from wall-clock time and from CPU time."""


def adapter(n: int, training: bool) -> VecEnv:
    if training:
        return make_sb3_vec_env(ENV_ID, n)
    return RecGymVecEnv(make_vector_env(ENV_ID, n))


def dummy(n: int, training: bool) -> VecEnv:
    if training:
        return VecMonitor(DummyVecEnv([lambda: RecordRecMetrics(gym.make(ENV_ID)) for _ in range(n)]))
    return DummyVecEnv([lambda: gym.make(ENV_ID) for _ in range(n)])


def timed(run: Callable[[], int]) -> Rate:
    """Env steps per second of ``run`` (which returns the env steps it took), wall-clock and CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    steps = run()
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def stepping_rate(env: VecEnv | gym.vector.VectorEnv, actions: list[np.ndarray]) -> Rate:
    """Env steps per second of ``env.step`` over the pre-drawn ``actions`` (one array per vector step)."""

    def run() -> int:
        for batch in actions:
            env.step(batch)
        return len(actions) * env.num_envs

    return timed(run)


def rollout_rate(env: VecEnv, n_steps: int) -> Rate:
    """Env steps per second of one PPO rollout of ``n_steps`` vector steps (policy forward, step, buffer)."""
    model = PPO("MlpPolicy", env, n_steps=n_steps, batch_size=n_steps * env.num_envs, seed=0, device="cpu")
    _, callback = model._setup_learn(n_steps * env.num_envs, None)

    def run() -> int:
        model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=n_steps)
        return n_steps * env.num_envs

    return timed(run)


def ratio_text(ours: list[float], theirs: list[float]) -> str:
    rounds = ", ".join(f"{x / y:.1f}" for x, y in zip(ours, theirs, strict=True))
    return f"ratio {statistics.median(ours) / statistics.median(theirs):.1f}x (rounds: {rounds})"


def measure(name: str, rounds: int, run: Callable[[Callable[[int, bool], VecEnv]], Rate],
            native: Callable[[], Rate] | None = None, n_envs: int = 0) -> None:  # fmt: skip
    """Print both sides' median rates and their ratios; with ``native``, also the adapter's own cost per vector step."""
    ours, theirs, alone = [], [], []
    for _ in range(rounds):  # interleaved, so that load from other jobs hits every side alike
        ours.append(run(adapter))
        theirs.append(run(dummy))
        if native is not None:
            alone.append(native())
    wall = [[rate[0] for rate in side] for side in (ours, theirs)]
    cpu = [[rate[1] for rate in side] for side in (ours, theirs)]
    print(f"{name}: adapter {statistics.median(wall[0]):,.0f} env-steps/s, DummyVecEnv {statistics.median(wall[1]):,.0f} "
          f"env-steps/s, {ratio_text(*wall)}; from CPU time: {ratio_text(*cpu)}")  # fmt: skip
    if native is not None:
        # CPU seconds per vector step through the adapter minus those of the bare native step, round by round.
        own = [n_envs / rate[1] - n_envs / bare[1] for rate, bare in zip(ours, alone, strict=True)]
        print(f"   the native vector env stepped directly: {statistics.median(r[0] for r in alone):,.0f} env-steps/s "
              f"({statistics.median(r[1] for r in alone):,.0f} from CPU time); the adapter's own CPU time per vector "
              f"step: {1e6 * statistics.median(own):.0f} µs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-envs", type=int, default=64, help="envs on each side (default 64)")
    parser.add_argument("--steps", type=int, default=150, help="vector steps per measurement (default 150)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads on both sides (default 1)")
    parser.add_argument("--quick", action="store_true", help="a few steps and one round: checks that it runs")
    args = parser.parse_args()
    if args.quick:
        args.n_envs, args.steps, args.rounds = 8, 10, 1
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    actions = [rng.integers(10, size=args.n_envs) for _ in range(args.steps)]
    n = args.n_envs
    print(f"{ENV_ID}, default world, N = {n} envs, {args.steps} vector steps per measurement, {args.rounds} round(s); "
          f"BLAS threads {args.blas_threads}, torch threads 1")  # fmt: skip

    def build(make: Callable[[int, bool], VecEnv], training: bool) -> VecEnv:
        env = make(n, training)
        env.seed(0)
        env.reset()
        return env

    def stepping(training: bool) -> Callable[[Callable[[int, bool], VecEnv]], Rate]:
        return lambda make: stepping_rate(build(make, training), actions)

    def native() -> Rate:
        env = make_vector_env(ENV_ID, n)
        env.reset(seed=0)
        return stepping_rate(env, actions)

    with threadpool_limits(args.blas_threads):
        began = time.perf_counter()
        build(adapter, False)
        made_adapter = time.perf_counter() - began
        began = time.perf_counter()
        build(dummy, False)
        made_dummy = time.perf_counter() - began
        print(f"construction and first reset: adapter {made_adapter:.2f} s (one world), "
              f"DummyVecEnv {made_dummy:.2f} s ({n} worlds)")  # fmt: skip
        measure("1. raw stepping, random actions", args.rounds, stepping(False), native, n)
        measure("2. raw stepping with metrics wrappers and VecMonitor", args.rounds, stepping(True))
        measure("3. PPO rollout collection (metrics wrappers, VecMonitor)", args.rounds,
                lambda make: rollout_rate(build(make, True), args.steps))  # fmt: skip


if __name__ == "__main__":
    main()
