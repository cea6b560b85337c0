"""A student's client of the course's rating protocol (seed 002): learn online to predict ratings over HTTP.

The server proposes a (user, item) pair; the client predicts the rating; the server answers with the
true rating and the next pair. This client predicts ``mean + user bias + item bias``, learned online
by stochastic gradient descent from the history and from every answer, and compares itself with
the running mean (a constant predictor) on the same ratings. New users and items start at bias 0.

Run against a server: ``recgym serve --env RecGym-Ratings-v0 --env-kwargs '{"n_history": 5,
"new_users_per_period": 10, "new_items_per_period": 10}'`` then
``python examples/rating_protocol_client.py --url http://127.0.0.1:8000``.
Without ``--url`` the script starts such a server itself, in a background thread.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from collections import defaultdict

import httpx

WORLD = {"n_users": 200, "n_items": 300, "n_history": 5, "new_users_per_period": 10, "new_items_per_period": 10}


class BiasModel:
    """``mean + b_user + b_item``, fitted online by SGD (learning rate ``lr``, L2 penalty ``reg``)."""

    def __init__(self, lr: float = 0.05, reg: float = 0.01) -> None:
        self.lr, self.reg = lr, reg
        self.total, self.count = 0.0, 0
        self.user_bias: defaultdict[int, float] = defaultdict(float)
        self.item_bias: defaultdict[int, float] = defaultdict(float)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def predict(self, user: int, item: int) -> float:
        return self.mean + self.user_bias[user] + self.item_bias[item]

    def learn(self, user: int, item: int, rating: float) -> None:
        error = rating - self.predict(user, item)
        self.user_bias[user] += self.lr * (error - self.reg * self.user_bias[user])
        self.item_bias[item] += self.lr * (error - self.reg * self.item_bias[item])
        self.total += rating
        self.count += 1


def run(url: str, user_id: str, steps: int, seed: int) -> None:
    with httpx.Client(base_url=url, timeout=10.0) as http:
        start = http.get("/reset", params={"user_id": user_id, "seed": seed})
        start.raise_for_status()
        state = start.json()
        model = BiasModel()
        history = list(zip(state["user_history"], state["item_history"], state["rating_history"], strict=True))
        for _ in range(3):  # a few passes over the history before going online
            for user, item, rating in history:
                model.learn(user, item, rating)
        print(f"{state['nb_users']} users, {state['nb_items']} items, {len(history)} historical ratings")
        squared = baseline_squared = 0.0
        new_users = new_items = 0
        latencies = []
        for _ in range(steps):
            user, item = state["next_user"], state["next_item"]
            new_users += user >= state["nb_users"]  # ids at or above the sizes at reset are arrivals
            new_items += item >= state["nb_items"]
            prediction, baseline = model.predict(user, item), model.mean
            began = time.perf_counter()
            answer = http.get("/predict", params={"user_id": user_id, "predicted_score": prediction})
            latencies.append(time.perf_counter() - began)
            answer.raise_for_status()
            answer = answer.json()
            rating = answer["rating"]
            squared += (prediction - rating) ** 2
            baseline_squared += (baseline - rating) ** 2
            model.learn(user, item, rating)
            state = {**state, **answer}
        score = http.get("/score", params={"user_id": user_id}).json()
    latencies.sort()
    print(f"{steps} predictions ({new_users} for users and {new_items} for items that arrived after the reset)")
    print(f"RMSE: biases {math.sqrt(squared / steps):.3f}, running mean {math.sqrt(baseline_squared / steps):.3f}, "
          f"noise floor {score['oracle_rmse']:.3f} (the server's /score says {score['rmse']:.3f})")
    print(f"answers in {1e3 * latencies[len(latencies) // 2]:.2f} ms (median), "
          f"{1e3 * latencies[int(0.99 * (len(latencies) - 1))]:.2f} ms (p99)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running recgym server (default: start one here)")
    parser.add_argument("--user-id", default="student-1", help="your client id")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from recgym.serve.app import create_app
            from recgym.serve.server import BackgroundServer

            url = stack.enter_context(BackgroundServer(create_app("RecGym-Ratings-v0", env_kwargs=WORLD, seed=0))).url
        run(url, args.user_id, args.steps, args.seed)


if __name__ == "__main__":
    main()
