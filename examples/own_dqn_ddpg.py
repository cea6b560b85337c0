"""recgym's own agents through the Python API: DQN on RecGym-ShortVideo-v0, DDPG on RecGym-RatingsEmbedding-v0.

Each agent is built for a native vector env (``DQN.for_env`` / ``DDPG.for_env`` read the env's
observation layout), trained with ``agents.training.train`` and a ``TensorBoardCallback``
(``rollout/*`` recommender metrics, ``train/*`` losses, ``eval/*`` periodic evaluations), and
compared with its env family's baselines on the same evaluation episodes. ``recgym train`` does
the same with files and a figure; this is the loop written out.

- DQN: ``DQNConfig()`` (the per-candidate Q-network), 16 concurrent sessions, evaluated on a
  world it never saw (seed + 10,000).
- DDPG: ``DDPGConfig.ratings_preset()``, one env per user (a vector step is a period), evaluated
  in its training world replayed from the start.

Run: ``python examples/own_dqn_ddpg.py [--agent dqn|ddpg|both] [--dqn-steps 50000] [--ddpg-periods 150]
[--seed 0] [--logdir runs] [--quick]`` (about 2-3 minutes on 2 cores for both), then ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import recgym  # noqa: F401  (registers the ids)
from agents.comparison import ORACLES, comparison_table, evaluate_baselines, format_comparison
from agents.ddpg import DDPG, DDPGConfig
from agents.dqn import DQN, DQNConfig
from agents.run_directory import new_run_directory
from agents.tensorboard import TensorBoardCallback
from agents.training import train

SHORT_VIDEO, RATINGS = "RecGym-ShortVideo-v0", "RecGym-RatingsEmbedding-v0"


def run(name, agent, env, eval_env, env_id, steps, eval_seed, episodes, logdir, seed) -> None:
    tensorboard = TensorBoardCallback(logdir / name, log_every=max(1_000, env.num_envs))
    result = train(agent, env, steps, callbacks=[tensorboard], seed=seed, eval_env=eval_env, eval_every=max(1, steps // 5),
                   eval_episodes=episodes, eval_seed=eval_seed, progress_bar=False)  # fmt: skip
    print(f"{name} on {env_id}: {result.num_timesteps:,} env steps in {result.wall_seconds:.0f} s "
          f"({result.steps_per_second:,.0f} steps/s without evaluations), {len(result.episode_returns):,} episodes")  # fmt: skip
    # train() ends with an evaluation of the final agent; the baselines face the same world and episodes
    results = {name: result.evaluations[-1][1]} | evaluate_baselines(env_id, eval_env, episodes, eval_seed)
    print(format_comparison(comparison_table(results, oracle=ORACLES[env_id])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", choices=("dqn", "ddpg", "both"), default="both")
    parser.add_argument("--dqn-steps", type=int, default=50_000, help="DQN env steps (default 50,000)")
    parser.add_argument("--ddpg-periods", type=int, default=150, help="DDPG periods of n_users requests (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="world and agent seed (default 0)")
    parser.add_argument("--logdir", default="runs", help="parent of the new run directory (default runs)")
    parser.add_argument("--quick", action="store_true", help="tiny worlds and budgets: checks that it runs")
    args = parser.parse_args()
    video: dict = {}
    ratings: dict = {"max_steps": 20}
    dqn_config, ddpg_overrides, episodes = DQNConfig(seed=args.seed), {"seed": args.seed}, 2_000
    if args.quick:
        args.dqn_steps, args.ddpg_periods, episodes = 400, 6, 24
        video = {"n_users": 30, "n_videos": 200}
        ratings |= {"n_users": 12, "n_items": 20, "n_features": 4, "embedding_dim": 5, "frame_size": 4, "max_steps": 5}
        dqn_config = DQNConfig(seed=args.seed, learning_starts=100)
        ddpg_overrides |= {"learning_starts": 24, "gradient_steps": 2, "batch_size": 32}
    logdir = new_run_directory(args.logdir, stem="own_dqn_ddpg")
    print(f"TensorBoard logs in {logdir}")

    if args.agent in ("dqn", "both"):
        env = gym.make_vec(SHORT_VIDEO, 16, vectorization_mode="vector_entry_point", **video)
        eval_env = gym.make_vec(SHORT_VIDEO, 16, vectorization_mode="vector_entry_point", **video)
        run("dqn", DQN.for_env(env, dqn_config), env, eval_env, SHORT_VIDEO, args.dqn_steps, args.seed + 10_000,
            episodes, logdir, args.seed)  # fmt: skip
    if args.agent in ("ddpg", "both"):
        n_users = gym.make(RATINGS, **ratings).unwrapped.core.config.n_users
        env = gym.make_vec(RATINGS, n_users, vectorization_mode="vector_entry_point", **ratings)
        eval_env = gym.make_vec(RATINGS, n_users, vectorization_mode="vector_entry_point", **ratings)
        config = DDPGConfig.ratings_preset(**({"learning_starts": 20 * n_users} | ddpg_overrides))
        run("ddpg", DDPG.for_env(env, config), env, eval_env, RATINGS, args.ddpg_periods * n_users, args.seed, n_users,
            logdir, args.seed)  # fmt: skip


if __name__ == "__main__":
    main()
