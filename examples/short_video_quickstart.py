"""Play short-video sessions with a baseline policy, then look at and save the interaction log.

Run: ``python examples/short_video_quickstart.py [--episodes 20] [--out runs/quickstart]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np

import recgym  # registers the ids
from agents.baselines import GreedyBusinessPolicy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="RecGym-ShortVideo-v0", choices=recgym.SHORT_VIDEO_IDS)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="folder for the saved log")
    args = parser.parse_args()

    env = gym.make(args.env)
    policy = GreedyBusinessPolicy(env)
    obs, info = env.reset(seed=args.seed)
    returns = []
    for _ in range(args.episodes):
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            total += reward
            done = terminated or truncated
        returns.append(total)
        obs, info = env.reset()
    print(f"{args.episodes} sessions on {args.env}: mean return {np.mean(returns):.2f}, last outcome {info}")

    log = env.unwrapped.interaction_log()
    played = log[~log["from_history"]]
    print(played[["session_id", "user_id", "vid_id", "vid_category", "action", "reward", "session_length"]].tail(8))
    path = args.out / f"log-seed{args.seed}.parquet"
    if path.exists():
        print(f"{path} exists; kept it (delete it or pass another --out to save again)")
    else:
        print(f"saved {len(log):,} rows to {env.unwrapped.save_interaction_log(path)}")


if __name__ == "__main__":
    main()
