"""A session's memory stays bounded however long it is used: served envs keep their world's history but no log of
the steps they serve, and the rating protocol keeps running sums, not its predictions."""

import tracemalloc

import gymnasium as gym
import pytest
from serve_support import require_serve_extra

require_serve_extra()

import httpx  # noqa: E402

import recgym  # noqa: E402, F401
from recgym.serve.app import create_app  # noqa: E402
from recgym.serve.server import BackgroundServer  # noqa: E402

WORLDS = {
    "RecGym-Ratings-v0": {"n_users": 40, "n_items": 60, "n_history": 3, "new_users_per_period": 2,
                          "new_items_per_period": 2},
    "RecGym-ShortVideo-v0": {"n_users": 40, "n_videos": 300, "max_steps": 20},
}


def _held_growth(env, steps):
    """Bytes allocated during ``steps`` steps (after a warm-up) and still held at their end (tracemalloc)."""

    def play(n):
        for _ in range(n):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()

    env.action_space.seed(0)
    play(300)  # first-use caches
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        play(steps)
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("env_id", list(WORLDS))
def test_a_served_sessions_memory_does_not_grow_with_its_steps(env_id):
    app = create_app(env_id, env_kwargs=WORLDS[env_id], seed=0)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        client_id = http.post("/sessions").json()["client_id"]
        assert http.post(f"/sessions/{client_id}/reset", json={"seed": 5}).status_code == 200
        env = app.state.store.peek("gym", client_id).env
        log = env.unwrapped.core.simulator.log
        history = len(log)
        assert history > 0
        for _ in range(300):
            answer = http.post(f"/sessions/{client_id}/step", json={"action": 1}).json()
            if answer["terminated"] or answer["truncated"]:
                http.post(f"/sessions/{client_id}/reset")
        assert len(log) == history  # 300 steps served, not one logged
    # Nothing else grows either: 5,000 more steps of the session's env hold on to no memory beyond tracemalloc's own
    # bookkeeping (about 16 KiB whatever the number of steps; a logging env holds about 70-100 bytes per step).
    assert _held_growth(env, 5000) < 32 * 1024


def test_the_measure_sees_a_logging_envs_growth():
    env = gym.make("RecGym-Ratings-v0", **WORLDS["RecGym-Ratings-v0"])
    env.reset(seed=5)
    assert _held_growth(env, 5000) > 5000 * 40  # the log's 72-byte rows, in arrays that double when full


def test_the_rating_protocol_keeps_sums_not_predictions():
    app = create_app("RecGym-Ratings-v0", env_kwargs=WORLDS["RecGym-Ratings-v0"], seed=0)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        history = len(http.get("/reset", params={"user_id": "frank", "seed": 2}).json()["rating_history"])
        protocol = app.state.store.peek("rating", "frank")
        for j in range(300):
            assert http.get("/predict", params={"user_id": "frank", "predicted_score": j % 4}).status_code == 200
        assert len(protocol.env.unwrapped.core.simulator.log) == history == 40 * 3
        assert http.get("/score", params={"user_id": "frank"}).json()["predictions"] == 300
    # Besides its env, the protocol holds only numbers (the proposed item, the count and the error sums).
    state = {name: value for name, value in vars(protocol).items() if name not in ("env", "_ratings")}
    assert state and all(type(value) in (int, float) for value in state.values()), state


@pytest.mark.parametrize("value", [True, 1, "yes"])
def test_a_server_refuses_envs_that_keep_a_log(value):
    with pytest.raises(ValueError, match="env_kwargs\\['log_interactions'\\] must be False or left out"):
        create_app("RecGym-Ratings-v0", env_kwargs={"n_users": 5, "n_items": 5, "log_interactions": value})
    app = create_app("RecGym-Ratings-v0", env_kwargs={"n_users": 5, "n_items": 5, "log_interactions": False})
    assert app.state.env_id == "RecGym-Ratings-v0"
