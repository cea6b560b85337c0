"""Train Stable-Baselines3's DQN on an environment served over HTTP, exactly as on a local one.

``gym.make("RecGym-Remote-v0", url=...)`` is an ordinary Gymnasium env whose steps run on a
``recgym serve`` server. This script trains DQN on the served ``RecGym-Ratings-v0`` and on the local
one with the same seeds, and shows that both runs learn the very same network. Then it evaluates the
remote-trained policy against random recommendations in the world it was trained in (mean regret per
request, from the env's info).

Run against a server: ``recgym serve --env RecGym-Ratings-v0 --env-kwargs '{"n_users": 20, "n_items": 10}'``
then ``python examples/sb3_remote_env.py --url http://127.0.0.1:8000``. Without ``--url`` the script
starts that server itself, in a background thread.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN

import recgym  # noqa: F401  (registers the ids, RecGym-Remote-v0 included)

WORLD = {"n_users": 20, "n_items": 10, "n_features": 4}


def train(env: gym.Env, steps: int, seed: int) -> DQN:
    model = DQN("MlpPolicy", env, seed=seed, learning_starts=200, train_freq=4, target_update_interval=250,
                exploration_fraction=0.5, policy_kwargs={"net_arch": [64, 64]}, device="cpu")
    return model.learn(steps)


def mean_regret(env: gym.Env, act, requests: int) -> float:
    obs, _ = env.reset()  # no seed: the world DQN was trained in, as it is now
    regrets = []
    for _ in range(requests):
        obs, _, terminated, truncated, info = env.step(act(obs))
        regrets.append(info["regret"])
        if terminated or truncated:
            obs, _ = env.reset()
    return float(np.mean(regrets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running recgym server of RecGym-Ratings-v0 with this script's world")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # a small network: extra threads only contend, badly so on a busy machine
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from recgym.serve.app import create_app
            from recgym.serve.server import BackgroundServer

            url = stack.enter_context(BackgroundServer(create_app("RecGym-Ratings-v0", env_kwargs=WORLD, seed=0))).url
        remote = stack.enter_context(contextlib.closing(gym.make("RecGym-Remote-v0", url=url, env_id="RecGym-Ratings-v0")))
        began = time.perf_counter()
        model = train(remote, args.steps, args.seed)
        seconds = time.perf_counter() - began
        local_model = train(gym.make("RecGym-Ratings-v0", **WORLD), args.steps, args.seed)
        same = all(bool((a == b).all()) for a, b in zip(model.policy.state_dict().values(),
                                                        local_model.policy.state_dict().values(), strict=True))
        print(f"DQN, {args.steps:,} steps on the remote env in {seconds:.1f} s ({args.steps / seconds:,.0f} steps/s); "
              f"same network as trained locally: {same}")
        rng = np.random.default_rng(args.seed)
        trained = mean_regret(remote, lambda obs: int(model.predict(obs, deterministic=True)[0]), 1000)
        random = mean_regret(remote, lambda obs: int(rng.integers(WORLD["n_items"])), 1000)
        print(f"mean regret per request over the next 1,000 requests: DQN {trained:.3f}, random {random:.3f}")


if __name__ == "__main__":
    main()
