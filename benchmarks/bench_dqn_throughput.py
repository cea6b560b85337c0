"""Training throughput of our DQN against Stable-Baselines3's DQN on ``RecGym-ShortVideo-v0`` (issue 5, item 7).

Target: our DQN trains at >= 1.0x the env steps/s of SB3's DQN with the same network, batch and
train frequency, measured in one run.

Both agents train for the same number of env steps (transitions) with the same hyperparameters,
in two settings:

- ``N=1``: one env each. SB3 on ``DummyVecEnv([gym.make(id)])``, ours on the same single
  ``gym.make(id)`` env through :func:`agents.training.train` (which runs it as a batch of one).
- ``N=16``: SB3 on a ``DummyVecEnv`` of 16 single envs, ours on the native vector env
  (``gym.make_vec(id, num_envs=16, vectorization_mode="vector_entry_point")``).

and three configurations: ``sb3`` (SB3's DQN defaults where they matter for cost: batch 32, one
gradient step every 4 env steps), ``ours`` (:class:`agents.dqn.DQNConfig`'s defaults: batch 256,
one gradient step every 16 env steps) and ``no-learn`` (a diagnostic: no gradient step and ε = 1
throughout, so neither agent runs its network; what is left is the env, its vector wrapper, the
training loop and the replay buffer). Within a configuration every hyperparameter is the same for
both agents: learning rate, buffer size, batch, learning_starts, train frequency, gradient steps,
target update interval, gamma, the linear ε schedule, max_grad_norm, Huber loss, plain (not
double) DQN, Adam without weight decay, seed, and an MLP of two hidden layers of 64 over the raw 81 float observation
(ours: ``DQN(obs_space, action_space, config)`` with no layout, i.e. a ``FlatEncoder``, which is
SB3's ``MlpPolicy`` network exactly; ``--ours-encoder layout`` uses our usual
``ObservationEncoder`` instead: embeddings of the categorical fields and scaled numeric fields).

Train frequency. SB3's ``train_freq=(k, "step")`` counts *vector* steps, ours counts env steps
(transitions). With N=1 they coincide. With N envs, SB3 gets ``train_freq=1`` and
``gradient_steps = gradient_steps * N / train_freq`` (or ``train_freq = train_freq / N`` when
``train_freq`` is a multiple of N), so both take the same gradient steps per env step; the
gradient steps each agent actually took are printed.

What still differs (inherent in the libraries, not in the settings):

- SB3 acts at random without a forward pass before ``learning_starts`` and draws one ε coin per
  vector step; ours acts ε-greedily from the first step with one coin per env.
- SB3's ``DummyVecEnv`` resets an ended env within the same step; our native vector env resets it
  on the next step (``next_step`` autoreset), and that reset row is not a transition, so ours
  steps the env slightly more often for the same number of transitions.
- SB3 counts ``learning_starts`` with ``>``, ours with ``>=``: a one-step difference.

No evaluation, no progress bar, no logging output for either (SB3 ``verbose=0``, no Monitor;
ours ``progress_bar=False``, no callbacks). Both run at ``torch.set_num_threads(1)``. Repetitions
interleave the two agents (ours, SB3, SB3, ours, ...: the order alternates) and each repetition's
ratio compares neighbours in time, which the machine's load shifts less than it shifts whole runs.
Besides wall-clock steps/s, each run's env steps per CPU second of the process is printed: with
one torch thread it measures the work a run did, and other jobs on the machine move it much less.

``--bare-loop`` adds a diagnostic contender with N=1: our same DQN driven by a plain
``act/step/observe/update`` loop on the single env instead of :func:`agents.training.train`, which
separates the agent's cost from the training loop's per-step cost.

Run: ``python benchmarks/bench_dqn_throughput.py`` (``--quick`` for a smoke run with tiny budgets).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import platform
import time
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv

import recgym  # registers the ids
from agents.dqn import DQN, DQNConfig
from agents.training import train

ENV_ID = "RecGym-ShortVideo-v0"
HIDDEN = (64, 64)


@dataclass(frozen=True)
class Setting:
    """One configuration's shared hyperparameters (steps are env steps)."""

    name: str
    learning_rate: float
    buffer_size: int
    batch_size: int
    gamma: float
    learning_starts: int
    train_freq: int
    gradient_steps: int
    target_update_interval: int
    epsilon_start: float
    epsilon_end: float
    exploration_fraction: float
    max_grad_norm: float


DIFFERENCES = (
    "SB3 acts at random without a forward pass before learning_starts and draws one eps coin per vector step; "
    "ours acts eps-greedily from the first step, one coin per env (and skips the forward pass when every env explores)",
    "N=16: SB3's DummyVecEnv resets an ended env within the step; our native vector env resets it on the next step "
    "(a reset row, not a transition: ours steps the env more often for the same transitions)",
    "SB3 starts training when num_timesteps > learning_starts, ours when >= (gradient steps printed per run)",
    "SB3 has no Monitor wrapper, ours no callbacks or progress bar; neither evaluates",
)


def settings() -> dict[str, Setting]:
    """``sb3``: SB3's DQN defaults (buffer, warm-up scaled to the run); ``ours``: DQNConfig's; ``no-learn``: no learning."""
    ours = DQNConfig()
    sb3 = Setting("sb3", 1e-4, 100_000, 32, 0.99, 1_000, 4, 1, 10_000, 1.0, 0.05, 0.1, 10.0)
    return {
        "sb3": sb3,
        "no-learn": dataclasses.replace(sb3, name="no-learn", learning_starts=10**9, epsilon_end=1.0),
        "ours": Setting(
            "ours",
            ours.learning_rate,
            ours.buffer_size,
            ours.batch_size,
            ours.gamma,
            ours.learning_starts,
            ours.train_freq,
            ours.gradient_steps,
            ours.target_update_interval,
            ours.epsilon_start,
            ours.epsilon_end,
            ours.exploration_fraction,
            10.0 if ours.max_grad_norm is None else ours.max_grad_norm,
        ),
    }


def sb3_frequency(setting: Setting, n_envs: int) -> tuple[int, int]:
    """SB3's ``(train_freq in vector steps, gradient_steps)`` that give ``setting``'s gradient steps per env step."""
    if n_envs % setting.train_freq == 0:
        return 1, setting.gradient_steps * n_envs // setting.train_freq
    if setting.train_freq % n_envs == 0:
        return setting.train_freq // n_envs, setting.gradient_steps
    raise ValueError(f"train_freq={setting.train_freq} and n_envs={n_envs}: one must divide the other")


def make_ours(setting: Setting, n_envs: int, seed: int, encoder: str) -> tuple[gym.Env | gym.vector.VectorEnv, DQN]:
    """Our env (single or native vector) and DQN with ``setting``'s hyperparameters."""
    config = DQNConfig(
        learning_rate=setting.learning_rate,
        weight_decay=0.0,  # plain Adam, as SB3's DQN
        buffer_size=setting.buffer_size,
        batch_size=setting.batch_size,
        gamma=setting.gamma,
        learning_starts=setting.learning_starts,
        train_freq=setting.train_freq,
        gradient_steps=setting.gradient_steps,
        target_update_interval=setting.target_update_interval,
        tau=1.0,
        double_q=False,
        loss="huber",
        max_grad_norm=setting.max_grad_norm,
        epsilon_start=setting.epsilon_start,
        epsilon_end=setting.epsilon_end,
        exploration_fraction=setting.exploration_fraction,
        epsilon_decay="linear",
        hidden_sizes=HIDDEN,
        q_network="flat",
        embedding_dim=None,
        seed=seed,
    )
    if n_envs == 1:
        env = gym.make(ENV_ID)
        spaces = env.observation_space, env.action_space
    else:
        env = gym.make_vec(ENV_ID, num_envs=n_envs, vectorization_mode="vector_entry_point")
        spaces = env.single_observation_space, env.single_action_space
    return env, DQN.for_env(env, config) if encoder == "layout" else DQN(*spaces, config)


class Run(NamedTuple):
    """One training run's figures: env steps per wall-clock second and per CPU second of this process."""

    rate: float
    cpu_rate: float
    steps: int
    gradient_steps: int


class Clock:
    """Wall-clock and process CPU time of a block (CPU time is what the run itself used, whatever the other jobs do)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def run(self, steps: int, gradient_steps: int) -> Run:
        return Run(steps / self.wall, steps / self.cpu, steps, gradient_steps)


def run_ours(setting: Setting, n_envs: int, steps: int, seed: int, encoder: str) -> Run:
    """Our DQN trained by :func:`agents.training.train`."""
    env, agent = make_ours(setting, n_envs, seed, encoder)
    with Clock() as clock:
        result = train(agent, env, steps, seed=seed, progress_bar=False, torch_thread_limit=1)
    env.close()
    return clock.run(result.num_timesteps, agent.n_updates)


def run_bare(setting: Setting, steps: int, seed: int, encoder: str) -> Run:
    """Diagnostic: our DQN on one env driven by a plain loop instead of :func:`agents.training.train`.

    The agent makes the same calls (act, observe, update) and sees the same transitions as under
    ``train``; what is left out is ``train``'s per-step machinery: the one-env ``SyncVectorEnv`` it
    wraps a single env in, episode bookkeeping, info merging and callback records.
    """
    env, agent = make_ours(setting, 1, seed, encoder)
    agent.set_total_steps(steps)
    with Clock() as clock:
        obs, _ = env.reset(seed=seed)
        for _ in range(steps):
            action = agent.act(obs[None])
            next_obs, reward, terminated, truncated, _ = env.step(action[0])
            agent.observe(obs[None], action, np.array([reward]), next_obs[None], np.array([terminated]), np.array([truncated]))
            agent.update()
            obs = env.reset()[0] if terminated or truncated else next_obs
    env.close()
    return clock.run(steps, agent.n_updates)


def run_sb3(setting: Setting, n_envs: int, steps: int, seed: int) -> Run:
    """Stable-Baselines3's DQN."""
    train_freq, gradient_steps = sb3_frequency(setting, n_envs)
    env = DummyVecEnv([functools.partial(gym.make, ENV_ID) for _ in range(n_envs)])
    model = stable_baselines3.DQN(
        "MlpPolicy",
        env,
        learning_rate=setting.learning_rate,
        buffer_size=setting.buffer_size,
        learning_starts=setting.learning_starts,
        batch_size=setting.batch_size,
        tau=1.0,
        gamma=setting.gamma,
        train_freq=(train_freq, "step"),
        gradient_steps=gradient_steps,
        target_update_interval=setting.target_update_interval,
        exploration_fraction=setting.exploration_fraction,
        exploration_initial_eps=setting.epsilon_start,
        exploration_final_eps=setting.epsilon_end,
        max_grad_norm=setting.max_grad_norm,
        policy_kwargs={"net_arch": list(HIDDEN)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.set_logger(Logger(folder=None, output_formats=[]))  # no output (and no SB3-<time> folder in the temp dir)
    with Clock() as clock:
        model.learn(total_timesteps=steps)
    env.close()
    return clock.run(model.num_timesteps, model._n_updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to check the script runs")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per training run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each agent per setting")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 16], help="numbers of envs to compare")
    parser.add_argument("--configs", nargs="+", default=["sb3", "ours", "no-learn"], choices=["sb3", "ours", "no-learn"])
    parser.add_argument(
        "--ours-encoder",
        default="raw",
        choices=["raw", "layout"],
        help="raw: our MLP over the raw 81 floats (SB3's network); layout: our embeddings + scaled fields",
    )
    parser.add_argument(
        "--bare-loop",
        action="store_true",
        help="with N=1, also time our DQN driven by a plain loop instead of agents.training.train (a diagnostic)",
    )
    args = parser.parse_args()
    steps, repeats = (3_000, 1) if args.quick else (args.steps, args.repeats)
    torch.set_num_threads(1)
    all_settings = settings()
    if args.quick:  # so that the smoke run reaches the gradient steps
        all_settings |= {name: dataclasses.replace(all_settings[name], learning_starts=500) for name in ("sb3", "ours")}

    print(
        f"recgym {recgym.__version__}, stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}, "
        f"numpy {np.__version__}, gymnasium {gym.__version__}, python {platform.python_version()}, torch threads 1"
    )
    network = {
        "raw": f"both: MLP {HIDDEN} over the raw 81 floats (ours: FlatEncoder, the same network as SB3's MlpPolicy)",
        "layout": f"SB3: MLP {HIDDEN} over the raw 81 floats; ours: MLP {HIDDEN} over ObservationEncoder "
        "(categorical fields embedded, numeric fields scaled or symlogged)",
    }[args.ours_encoder]
    print(f"{ENV_ID}, {steps:,} env steps per run, {repeats} runs of each agent per row, interleaved")
    print(f"network: {network}")
    for name in args.configs:
        s = all_settings[name]
        if name == "no-learn":
            print("config no-learn: no gradient step (learning_starts beyond the run), eps = 1 throughout: no network runs")
            continue
        print(
            f"config {name}: lr {s.learning_rate:g}, buffer {s.buffer_size:,}, batch {s.batch_size}, gamma {s.gamma}, "
            f"learning_starts {s.learning_starts:,}, {s.gradient_steps} gradient step(s) every {s.train_freq} env steps, "
            f"target update every {s.target_update_interval:,}, eps {s.epsilon_start}->{s.epsilon_end} over "
            f"{s.exploration_fraction:.0%}, max_grad_norm {s.max_grad_norm}, huber, plain DQN"
        )
    for n_envs in args.envs:
        if n_envs > 1:
            for name in [name for name in args.configs if name != "no-learn"]:
                train_freq, gradient_steps = sb3_frequency(all_settings[name], n_envs)
                sb3 = f"train_freq=({train_freq}, 'step') in vector steps, gradient_steps={gradient_steps}"
                print(f"N={n_envs}, config {name}: SB3 {sb3} (ours: train_freq={all_settings[name].train_freq} env steps)")
    print("what still differs:")
    for line in DIFFERENCES:
        print(f"  - {line}")
    # Warm-up: the first run in a process pays one-off costs (imports, torch kernels, allocator).
    warm = dataclasses.replace(all_settings["sb3"], learning_starts=100)
    run_ours(warm, 1, 500, args.seed, args.ours_encoder)
    run_sb3(warm, 1, 500, args.seed)
    if args.bare_loop:
        run_bare(warm, 500, args.seed, args.ours_encoder)

    rows = []
    label = {"ours": "ours", "sb3": "SB3", "bare": "ours in a plain loop"}
    for name in args.configs:
        setting = all_settings[name]
        for n_envs in args.envs:
            contenders = ["ours", "sb3"] + (["bare"] if args.bare_loop and n_envs == 1 else [])
            runs: dict[str, list[Run]] = {who: [] for who in contenders}
            for rep in range(repeats):
                seed = args.seed + rep
                for who in contenders if rep % 2 == 0 else contenders[::-1]:
                    if who == "ours":
                        runs[who].append(run_ours(setting, n_envs, steps, seed, args.ours_encoder))
                    elif who == "sb3":
                        runs[who].append(run_sb3(setting, n_envs, steps, seed))
                    else:
                        runs[who].append(run_bare(setting, steps, seed, args.ours_encoder))
                parts = [
                    f"{label[who]} {runs[who][-1].rate:>6,.0f} steps/s, {runs[who][-1].cpu_rate:>6,.0f} per CPU s "
                    f"({runs[who][-1].steps:,} steps, {runs[who][-1].gradient_steps:,} gradient steps)"
                    for who in contenders
                ]
                ours, sb3 = runs["ours"][-1], runs["sb3"][-1]
                print(
                    f"  {name:>8} N={n_envs:<2} run {rep + 1}: " + ", ".join(parts)
                    + f"; ratio {ours.rate / sb3.rate:.2f} (CPU {ours.cpu_rate / sb3.cpu_rate:.2f})",
                    flush=True,
                )  # fmt: skip
            for who in contenders[::2]:  # ours, then the plain loop
                mine, theirs = runs[who], runs["sb3"]
                wall = [a.rate / b.rate for a, b in zip(mine, theirs, strict=True)]
                cpu = [a.cpu_rate / b.cpu_rate for a, b in zip(mine, theirs, strict=True)]
                what = f"{name}: our DQN in a plain loop (diagnostic)" if who == "bare" else name
                median_rate = float(np.median([run.rate for run in mine]))
                rows.append((what, n_envs, median_rate, float(np.median([run.rate for run in theirs])), wall, cpu))

    print()
    print(
        "| config | envs | ours (median steps/s) | SB3 (median steps/s) | ours / SB3, wall clock (median of runs) "
        "| per-run ratios | ours / SB3, per CPU second (median) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, n_envs, ours, sb3, wall, cpu in rows:
        per_run = ", ".join(f"{ratio:.2f}" for ratio in wall)
        ratio, cpu_ratio = np.median(wall), np.median(cpu)
        print(f"| {name} | {n_envs} | {ours:,.0f} | {sb3:,.0f} | **{ratio:.2f}x** | {per_run} | {cpu_ratio:.2f}x |")


if __name__ == "__main__":
    main()
