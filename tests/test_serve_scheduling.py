"""Where the server runs env calls: cheap ones on the event loop, and in the thread pool the world draws, a rating
env's steps that start a changing period, and any kind of call measured to cost more than the budget."""

import math
import threading

import gymnasium as gym
import pytest
from serve_support import require_serve_extra

require_serve_extra()

import httpx  # noqa: E402

import recgym  # noqa: E402, F401
from recgym.serve.app import create_app  # noqa: E402
from recgym.serve.scheduling import DECAY, INLINE_BUDGET, CallCosts, step_may_stall  # noqa: E402
from recgym.serve.server import BackgroundServer  # noqa: E402

SMALL = {"n_users": 6, "n_items": 9, "n_features": 3}


@pytest.mark.parametrize("changes", [{"new_users_per_period": 1}, {"new_items_per_period": 1}, {"user_drift_std": 0.1}])
@pytest.mark.parametrize("env_id", ["RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0"])
def test_step_may_stall_exactly_when_the_step_starts_a_changing_period(env_id, changes):
    env = gym.make(env_id, **SMALL, **changes, max_steps=4)  # episodes and periods out of step
    env.reset(seed=0)
    env.action_space.seed(0)
    simulator = env.unwrapped.simulator
    flagged = 0
    for _ in range(40):
        predicted, period = step_may_stall(env), simulator.period
        if env.step(env.action_space.sample())[3]:
            env.reset()
        assert predicted == (simulator.period > period)
        flagged += predicted
    assert flagged == 40 // 6  # one step in n_users starts a period
    # Without changes between periods, nothing in a step grows with the world.
    still = gym.make(env_id, **SMALL)
    still.reset(seed=0)
    for _ in range(20):
        assert not step_may_stall(still)
        if still.step(still.action_space.sample())[3]:
            still.reset()


def test_short_video_steps_never_stall():
    env = gym.make("RecGym-ShortVideo-v0", n_users=10, n_videos=50, max_steps=5)
    assert not step_may_stall(env)  # before any world
    env.reset(seed=0)
    for _ in range(30):
        assert not step_may_stall(env)
        if any(env.step(0)[2:4]):
            env.reset()


def _record_threads(env, calls):
    """Wrap the unwrapped env's reset and step so that each call records (name, seeded or stalling, thread)."""
    unwrapped = env.unwrapped
    for name in ("reset", "step"):
        method = getattr(unwrapped, name)

        def recorded(*args, _method=method, _name=name, **kwargs):
            flag = kwargs.get("seed") is not None if _name == "reset" else step_may_stall(env)
            calls.append((_name, flag, threading.current_thread().name))
            return _method(*args, **kwargs)

        setattr(unwrapped, name, recorded)


@pytest.mark.parametrize("budget", [INLINE_BUDGET, 0.0])
def test_the_server_runs_cheap_calls_on_the_loop_and_the_rest_in_the_thread_pool(budget):
    app = create_app("RecGym-Ratings-v0", env_kwargs={**SMALL, "user_drift_std": 0.1, "max_steps": 4}, seed=0)
    app.state.costs.budget = budget  # 0: every call is too expensive for the loop
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        loop = server._thread.name  # uvicorn's event loop runs in the background server's thread
        client_id = http.post("/sessions").json()["client_id"]
        calls = []
        _record_threads(app.state.store.peek("gym", client_id).env, calls)
        assert http.post(f"/sessions/{client_id}/reset", json={"seed": 1}).status_code == 200
        for _ in range(30):
            if http.post(f"/sessions/{client_id}/step", json={"action": 1}).json()["truncated"]:
                assert http.post(f"/sessions/{client_id}/reset").status_code == 200  # unseeded
        assert http.get("/reset", params={"user_id": "grace", "seed": 1}).status_code == 200
        predictions = []
        _record_threads(app.state.store.peek("rating", "grace").env, predictions)
        for _ in range(14):
            assert http.get("/predict", params={"user_id": "grace", "predicted_score": 1.0}).status_code == 200
    steps = [(stalls, thread) for name, stalls, thread in calls if name == "step"]
    resets = [(seeded, thread) for name, seeded, thread in calls if name == "reset"]
    predicted = [(stalls, thread) for name, stalls, thread in predictions if name == "step"]
    assert len(steps) == 30 and len(resets) == 1 + 30 // 4 and len(predicted) == 14
    assert sum(stalls for stalls, _ in steps) == 30 // 6 and sum(stalls for stalls, _ in predicted) == 14 // 6
    # World draws and steps that start a changing period: always in the thread pool.
    assert resets[0] == (True, resets[0][1]) and resets[0][1] != loop
    assert all(thread != loop for stalls, thread in steps + predicted if stalls)
    if budget == 0.0:
        assert all(thread != loop for _, thread in steps + resets + predicted)
        return
    # The first call of each kind is not yet known to be cheap; after it, cheap calls run on the loop.
    for first, *rest in (steps, resets[1:], predicted):
        assert first[1] != loop
        assert all(thread == loop for stalls, thread in rest if not stalls), rest
    assert 0 < app.state.costs.estimate("step") < INLINE_BUDGET and 0 < app.state.costs.estimate("reset") < INLINE_BUDGET


def test_call_costs_keep_a_decaying_maximum():
    costs = CallCosts(budget=1e-3)
    assert costs.estimate("step") == float("inf") and not costs.inline("step")  # unknown: not known to be cheap
    costs.record("step", 2e-4)
    assert costs.inline("step") and costs.estimate("step") == 2e-4
    costs.record("step", 15e-3)  # one expensive call: the kind leaves the loop at once
    calls_off_the_loop = 0
    while not costs.inline("step"):
        calls_off_the_loop += 1
        costs.record("step", 1e-4)
    assert calls_off_the_loop == math.ceil(math.log(15) / -math.log(DECAY))
    with pytest.raises(KeyError), costs.timed("reset"):
        raise KeyError("a failed call is not measured")
    assert costs.estimate("reset") == float("inf")
    with costs.timed("reset"):
        sum(range(10_000))
    assert 0 < costs.estimate("reset") < 0.1 and costs.inline("step")
