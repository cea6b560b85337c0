"""Load a trained Stable-Baselines3 model from a ``recgym train`` run directory and evaluate it against the baselines.

``recgym train --agent sb3-*`` saves the model as ``agent.zip`` (and the observation statistics
as ``vecnormalize.pkl`` when it normalised them) next to ``config.json``. ``SB3Policy.load``
reads them back; the policy is then evaluated with ``agents.training.evaluate`` in the run's
evaluation world, next to the baselines of the env's family (random, business-score greedy,
category rotation and the myopic oracle for short video; random, population best and the
oracle for ratings), on the same episodes. Pass ``--episodes`` and ``--world`` to evaluate
somewhere else than the run did.

Without ``--run`` the script first trains one (``agents.train_run.train_and_compare``, what
``recgym train`` calls) with ``--agent`` and ``--steps``, writing a new run directory.

Run: ``python examples/sb3_load_and_evaluate.py --run runs/sb3-dqn_RecGym-ShortVideo-v0_seed0_1``
or ``python examples/sb3_load_and_evaluate.py [--agent sb3-dqn] [--steps 50000] [--logdir runs] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import recgym  # noqa: F401  (registers the ids)
from agents.comparison import ORACLES, comparison_table, evaluate_baselines, format_comparison
from agents.sb3_agents import SB3_AGENTS, SB3Policy
from agents.train_run import train_and_compare
from agents.training import evaluate, make_vector_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="a run directory of recgym train with an SB3 agent")
    parser.add_argument("--agent", choices=SB3_AGENTS, default="sb3-dqn", help="agent to train first when --run is not given")
    parser.add_argument("--env", default="RecGym-ShortVideo-v0", help="env id to train on when --run is not given")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps to train when --run is not given")
    parser.add_argument("--logdir", default="runs", help="parent of the run directory trained when --run is not given")
    parser.add_argument("--episodes", type=int, help="evaluation episodes per policy (default: the run's)")
    parser.add_argument("--world", type=int, help="evaluation world seed (default: the run's)")
    parser.add_argument("--quick", action="store_true", help="train a tiny run first: checks that it runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.run is None:
        kwargs: dict = {"progress_bar": False}
        if args.quick:
            args.steps = 480
            kwargs |= {"num_envs": 8, "eval_episodes": 24, "env_kwargs": {"n_users": 30, "n_videos": 200},
                       "agent_config": {"learning_starts": 100} if args.agent != "sb3-ppo" else {"n_steps": 16}}  # fmt: skip
        args.run = train_and_compare(args.env, args.agent, args.steps, logdir=args.logdir, **kwargs).run_dir
        print(f"trained {args.agent} on {args.env} for {args.steps:,} env steps into {args.run}")

    config = json.loads((args.run / "config.json").read_text(encoding="utf-8"))
    env_id, episodes = config["env_id"], args.episodes or config["eval_episodes"]
    world = args.world if args.world is not None else config["eval_seed"]
    eval_env = make_vector_env(env_id, config["eval_num_envs"], **config["env_kwargs"])
    policy = SB3Policy.load(args.run, eval_env)  # agent.zip, and vecnormalize.pkl when the run normalised observations
    print(f"loaded {config['agent']} ({type(policy.model).__name__}, {policy.model.num_timesteps:,} env steps) from {args.run}")
    results = {config["agent"]: evaluate(policy, eval_env, episodes, seed=world)}
    results |= evaluate_baselines(env_id, eval_env, episodes, world, seed=config["seed"])
    eval_env.close()
    print(f"{env_id}, world seed {world}, {episodes:,} episodes per policy (mean return ± standard error):")
    print(format_comparison(comparison_table(results, oracle=ORACLES[env_id])))


if __name__ == "__main__":
    main()
