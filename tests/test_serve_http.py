"""The real server (uvicorn on loopback) driven by RecGym-Remote-v0 and raw HTTP: exact trajectories, isolation,
limits, and a battery of malformed and hostile requests that all get 4xx and leave the server serving."""

import socket
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import gymnasium as gym
import pytest
from serve_support import assert_same_step, assert_same_value, require_serve_extra

require_serve_extra()

import httpx  # noqa: E402
from gymnasium.utils.env_checker import check_env as gymnasium_check_env  # noqa: E402
from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402

import recgym  # noqa: E402, F401
from recgym.serve.app import create_app  # noqa: E402
from recgym.serve.rating_protocol import RatingProtocol  # noqa: E402
from recgym.serve.server import BackgroundServer  # noqa: E402

RATINGS = {"n_users": 12, "n_items": 20, "n_features": 4, "frame_size": 4, "embedding_dim": 5, "n_history": 2,
           "new_users_per_period": 2, "new_items_per_period": 2}
SHORT_VIDEO = {"n_users": 30, "n_videos": 200, "max_steps": 15}
SERVED = {
    "ratings": ("RecGym-Ratings-v0", RATINGS),
    "ratings_dict": ("RecGym-Ratings-v0", {**RATINGS, "observation_mode": "dict"}),
    "embedding": ("RecGym-RatingsEmbedding-v0", {**RATINGS, "observation_mode": "dict", "exclude_consumed": True}),
    "short_video": ("RecGym-ShortVideo-v0", SHORT_VIDEO),
    "fatigue_dict": ("RecGym-ShortVideoFatigue-v0", {**SHORT_VIDEO, "observation_mode": "dict"}),
}


@pytest.fixture(scope="module")
def servers():
    """One real server per served configuration, started once for the module and shut down at its end."""
    started = {}
    try:
        for name, (env_id, kwargs) in SERVED.items():
            server = BackgroundServer(create_app(env_id, env_kwargs=kwargs, seed=0, max_body_bytes=16384))
            started[name] = server.__enter__()
        yield {name: server.url for name, server in started.items()}
    finally:
        for server in started.values():
            server.close()


def _remote(url, **kwargs):
    return gym.make("RecGym-Remote-v0", url=url, **kwargs)


def _run_both(remote, local, seed, steps, actions_seed):
    """Step the remote and the local env with the same seeded actions; assert every step is identical."""
    assert_same_value(remote.reset(seed=seed)[0], local.reset(seed=seed)[0])
    local.action_space.seed(actions_seed)
    returns = 0.0
    for _ in range(steps):
        action = local.action_space.sample()
        remote_step, local_step = remote.step(action), local.step(action)
        assert_same_step(remote_step, local_step)
        returns += local_step[1]
        if local_step[2] or local_step[3]:
            remote_obs, remote_info = remote.reset()
            local_obs, local_info = local.reset()
            assert_same_value(remote_obs, local_obs)
            assert remote_info == local_info
    return returns


@pytest.mark.parametrize("name", list(SERVED))
def test_remote_trajectories_equal_the_local_envs(servers, name):
    env_id, kwargs = SERVED[name]
    remote, local = _remote(servers[name], env_id=env_id), gym.make(env_id, **kwargs)
    assert remote.observation_space == local.observation_space and remote.action_space == local.action_space
    _run_both(remote, local, seed=123, steps=60, actions_seed=1)
    _run_both(remote, local, seed=124, steps=10, actions_seed=2)  # a seeded reset draws a new world remotely too
    remote.close()


def test_concurrent_clients_never_see_each_others_state(servers):
    """Eight clients step their own worlds at once; each trajectory equals the local env's with its seed."""
    env_id, kwargs = SERVED["short_video"]

    def client(k):
        remote = _remote(servers["short_video"])
        result = _run_both(remote, gym.make(env_id, **kwargs), seed=1000 + k, steps=80, actions_seed=k)
        remote.close()
        return result

    with ThreadPoolExecutor(8) as pool:  # all at once; a failed assertion in a client is raised here
        returns = list(pool.map(client, range(8)))
    assert len(set(returns)) > 1  # different worlds, so different returns


def test_concurrent_rating_protocol_clients_are_isolated(servers):
    url, (env_id, kwargs) = servers["ratings"], SERVED["ratings"]

    def client(k):
        local = RatingProtocol(gym.make(env_id, **kwargs))
        with httpx.Client(base_url=url) as http:
            answer = http.get("/reset", params={"user_id": f"student-{k}", "seed": 50 + k}).json()
            assert answer == local.reset(50 + k)
            for j in range(40):
                score = 0.1 * (j % 30)
                assert http.get("/predict", params={"user_id": f"student-{k}", "predicted_score": score}).json() \
                    == local.predict(score)
            assert http.get("/score", params={"user_id": f"student-{k}"}).json() == local.score()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(client, range(6)))


def test_protocol_reset_restarts_and_ids_are_namespaced(servers):
    with httpx.Client(base_url=servers["ratings"]) as http:
        first = http.get("/reset", params={"user_id": "alice", "seed": 1}).json()
        http.get("/predict", params={"user_id": "alice", "predicted_score": 1})
        again = http.get("/reset", params={"user_id": "alice", "seed": 1}).json()
        assert again == first  # a reset starts the same world afresh
        assert http.get("/score", params={"user_id": "alice"}).json()["predictions"] == 0
        unseeded = [http.get("/reset", params={"user_id": "alice"}).json() for _ in range(2)]
        assert unseeded[0] != unseeded[1]  # "new random values" from the server's generator
        gym_id = http.post("/sessions").json()["client_id"]
        answer = http.get("/predict", params={"user_id": gym_id, "predicted_score": 1})
        assert answer.status_code == 404  # a gym session is not a protocol session of the same id
        assert http.delete(f"/sessions/{gym_id}").status_code == 204


def test_rating_protocol_is_refused_on_other_envs(servers):
    answer = httpx.get(servers["short_video"] + "/reset", params={"user_id": "bob"})
    assert answer.status_code == 404 and "--env RecGym-Ratings-v0" in answer.json()["detail"]


def test_env_checkers_pass_on_the_remote_env(servers):
    for name in ("ratings", "embedding"):
        remote = _remote(servers[name])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gymnasium_check_env(remote.unwrapped)
            sb3_check_env(remote.unwrapped)
        assert [str(w.message) for w in caught] == []
        remote.close()


@pytest.fixture
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: more threads only contend on a busy machine
    yield
    torch.set_num_threads(threads)


def test_sb3_learns_the_same_on_the_remote_env(servers, one_torch_thread):
    """DQN trained on the remote env ends with exactly the weights it gets on the local env."""
    env_id, kwargs = SERVED["ratings"]
    weights = []
    for env in (_remote(servers["ratings"]), gym.make(env_id, **kwargs)):
        model = DQN("MlpPolicy", env, seed=3, learning_starts=40, train_freq=4, buffer_size=500,
                    policy_kwargs={"net_arch": [16]}, device="cpu")
        model.learn(160)
        weights.append({k: v.clone() for k, v in model.policy.state_dict().items()})
        env.close()
    assert weights[0].keys() == weights[1].keys()
    assert all(bool((weights[0][k] == weights[1][k]).all()) for k in weights[0])


def test_client_errors_are_clear(servers):
    remote = _remote(servers["ratings"])
    with pytest.raises(RuntimeError, match=r"409.*reset before step"):
        remote.unwrapped.step(0)  # past Gymnasium's own order check, to the server's
    remote.reset(seed=0)
    with pytest.raises(ValueError, match=r"422.*action must lie in \[0, 19\]"):
        remote.step(20)
    with pytest.raises(ValueError, match="seed"):
        remote.reset(seed=-1)
    remote.close()
    with pytest.raises(ValueError, match="serves 'RecGym-Ratings-v0', not 'RecGym-ShortVideo-v0'"):
        _remote(servers["ratings"], env_id="RecGym-ShortVideo-v0")
    with pytest.raises(ValueError, match="url must be an http"):
        _remote("localhost:8000")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    with pytest.raises(ConnectionError, match="cannot reach the recgym server"):
        _remote(f"http://127.0.0.1:{free_port}", timeout=2.0)


def test_spaces_openapi_and_health(servers):
    with httpx.Client(base_url=servers["embedding"]) as http:
        spaces = http.get("/spaces").json()
        assert spaces["env_id"] == "RecGym-RatingsEmbedding-v0" and spaces["action_space"]["type"] == "Box"
        schema = http.get("/openapi.json").json()
        for path in ("/sessions", "/sessions/{client_id}/reset", "/sessions/{client_id}/step", "/reset", "/predict"):
            assert path in schema["paths"]
        score, = (p["schema"] for p in schema["paths"]["/predict"]["get"]["parameters"] if p["name"] == "predicted_score")
        assert (score["minimum"], score["maximum"]) == (-1e6, 1e6)
        health = http.get("/health").json()
        assert health["status"] == "ok" and health["max_clients"] == 64


# ---------------------------------------------------------------------------------------------- hostile requests
def _raw(url, payload: bytes) -> bytes:
    """Send raw bytes on a fresh connection; return the answer's first bytes, or b"" if the server cut the connection
    first (it may, after answering 400, while a huge request is still being sent)."""
    host, port = url.removeprefix("http://").split(":")
    data = b""
    with socket.create_connection((host, int(port)), timeout=2.0) as sock:
        try:
            sock.sendall(payload)
            while len(data) < 12 and (chunk := sock.recv(65536)):
                data += chunk
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            pass
    return data


def test_hostile_requests_get_4xx_and_the_server_keeps_serving(servers):
    url = servers["embedding"]  # Box actions: the richest validation
    http = httpx.Client(base_url=url, timeout=5.0)
    client_id = http.post("/sessions").json()["client_id"]
    fresh_id = http.post("/sessions").json()["client_id"]  # never reset
    assert http.post(f"/sessions/{client_id}/reset", json={"seed": 0}).status_code == 200
    step, reset = f"/sessions/{client_id}/step", f"/sessions/{client_id}/reset"
    huge = b'{"action": [' + b"0.1," * 300_000 + b'0.1]}'
    deep = b'{"action": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    as_json = {"content-type": "application/json"}
    cases = [
        # (method, path, keyword arguments of httpx, expected status)
        ("POST", step, {"content": b'{"action": "x"}'}, 422),  # no Content-Type
        ("POST", step, {"content": b"not json", "headers": as_json}, 422),
        ("POST", step, {"content": b'{"action": [0.1, 0.2', "headers": as_json}, 422),
        ("POST", step, {"content": b'{"action": "\xff\xfe"}', "headers": as_json}, 400),
        ("POST", step, {"content": b"[1, 2, 3]", "headers": as_json}, 422),
        ("POST", step, {"json": {}}, 422),
        ("POST", step, {"json": {"action": [0.1] * 4}}, 422),
        ("POST", step, {"json": {"action": [0.1] * 6}}, 422),
        ("POST", step, {"json": {"action": ["a"] * 5}}, 422),
        ("POST", step, {"json": {"action": [[0.1]] * 5}}, 422),
        ("POST", step, {"json": {"action": [True] * 5}}, 422),
        ("POST", step, {"json": {"action": None}}, 422),
        ("POST", step, {"json": {"action": {"x": 1}}}, 422),
        ("POST", step, {"content": b'{"action": [NaN, 0, 0, 0, 0]}', "headers": as_json}, 422),
        ("POST", step, {"content": b'{"action": [Infinity, 0, 0, 0, 0]}', "headers": as_json}, 422),
        ("POST", step, {"content": b'{"action": [1e999, 0, 0, 0, 0]}', "headers": as_json}, 422),
        ("POST", step, {"content": b'{"action": [' + b"9" * 5000 + b', 0, 0, 0, 0]}', "headers": as_json}, 400),
        ("POST", step, {"json": {"action": [0.1] * 5, "extra": 1}}, 422),
        ("POST", step, {"content": deep, "headers": as_json}, 400),
        ("POST", step, {"content": huge, "headers": as_json}, 413),
        ("POST", step, {"content": (b"x" * 1000 for _ in range(100)), "headers": as_json}, 413),  # chunked, no Content-Length
        ("POST", f"/sessions/{fresh_id}/step", {"json": {"action": [0.1] * 5}}, 409),
        ("POST", "/sessions/unknown-client/step", {"json": {"action": [0.1] * 5}}, 404),
        ("POST", "/sessions/" + "x" * 300 + "/step", {"json": {"action": [0.1] * 5}}, 422),
        ("POST", "/sessions/%2e%2e/step", {"json": {"action": [0.1] * 5}}, 404),
        ("POST", "/sessions/a%20b/reset", {}, 422),
        ("DELETE", "/sessions/unknown-client", {}, 404),
        ("POST", reset, {"json": {"seed": -1}}, 422),
        ("POST", reset, {"json": {"seed": 2**64}}, 422),
        ("POST", reset, {"json": {"seed": "5"}}, 422),
        ("POST", reset, {"json": {"seed": 1.5}}, 422),
        ("POST", reset, {"json": {"seed": True}}, 422),
        ("POST", reset, {"json": {"options": "x"}}, 422),
        ("POST", "/sessions", {"json": {"env_id": 5}}, 422),
        ("POST", "/sessions", {"json": {"env_id": "CartPole-v1"}}, 422),
        ("POST", "/sessions", {"json": {"surprise": 1}}, 422),
        ("POST", "/sessions", {"content": b"{", "headers": as_json}, 422),
        ("GET", "/sessions", {}, 405),
        ("PUT", step, {}, 405),
        ("GET", "/no/such/path", {}, 404),
        ("GET", "/reset", {"params": {"user_id": "x"}}, 404),  # protocol on a non-protocol env
    ]
    for method, path, kwargs, expected in cases:
        answer = http.request(method, path, **kwargs)
        assert answer.status_code == expected, (method, path[:60], answer.status_code, answer.text[:300])
        if answer.status_code != 405:
            assert isinstance(answer.json()["detail"], str) and answer.json()["detail"], answer.text[:300]
    # Connection-level garbage is refused by the HTTP parser with 400, and never reaches the app.
    for payload in (b"GARBAGE\r\n\r\n", b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                    b"GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"):
        assert _raw(url, payload).startswith(b"HTTP/1.1 400"), payload[:40]
    # Headers or a URL of a megabyte: refused (400), though the client may only see the connection cut.
    for payload in (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
                    b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
        answer = _raw(url, payload)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer
    # The session that was hammered still works, and so does the server.
    assert http.post(step, json={"action": [0.1] * 5}).status_code == 200
    assert http.get("/health").json()["status"] == "ok"
    http.close()


def test_hostile_protocol_requests_get_4xx(servers):
    with httpx.Client(base_url=servers["ratings"], timeout=5.0) as http:
        assert http.get("/reset", params={"user_id": "carol"}).status_code == 200
        cases = [
            ("/predict", {"predicted_score": "1"}, 422),
            ("/predict", {"user_id": "carol"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "abc"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": ""}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "nan"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "-inf"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "1e999"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "0x10"}, 422),
            ("/predict", {"user_id": "carol", "predicted_score": "1e200"}, 422),  # finite, but its square is not
            ("/predict", {"user_id": "carol", "predicted_score": "-1000000.5"}, 422),
            ("/predict", {"user_id": "nobody", "predicted_score": "1"}, 404),
            ("/predict", {"user_id": "", "predicted_score": "1"}, 422),
            ("/predict", {"user_id": "c" * 129, "predicted_score": "1"}, 422),
            ("/predict", {"user_id": "carol/../x", "predicted_score": "1"}, 422),
            ("/predict", {"user_id": "\x00", "predicted_score": "1"}, 422),
            ("/reset", {}, 422),
            ("/reset", {"user_id": "carol", "seed": "-1"}, 422),
            ("/reset", {"user_id": "carol", "seed": "x"}, 422),
            ("/reset", {"user_id": "carol", "seed": str(2**70)}, 422),
            ("/score", {"user_id": "nobody"}, 404),
        ]
        for path, params, expected in cases:
            answer = http.get(path, params=params)
            assert answer.status_code == expected, (path, params, answer.status_code, answer.text[:300])
            assert answer.json()["detail"]
        message = http.get("/predict", params={"user_id": "carol", "predicted_score": "abc"}).json()["detail"]
        assert message.startswith("query parameter 'predicted_score': Input should be a valid number")
        message = http.get("/predict", params={"user_id": "carol", "predicted_score": "1e200"}).json()["detail"]
        assert message == "predicted_score must lie within [-1e+06, 1e+06], got 1e+200"
        # The largest scores allowed keep the score finite (strict JSON): no session can be made to fail /score.
        for extreme in ("1e6", "-1e6"):
            assert http.get("/predict", params={"user_id": "carol", "predicted_score": extreme}).status_code == 200
        score = http.get("/score", params={"user_id": "carol"})
        assert score.status_code == 200 and score.json()["predictions"] == 2 and 9.9e5 < score.json()["rmse"] < 1.01e6
        assert http.get("/predict", params=[("user_id", "carol"), ("predicted_score", "1"), ("predicted_score", "2")]
                        ).status_code in (200, 422)
        answer = http.get("/predict", params={"user_id": "carol", "predicted_score": "2.5"})
        assert answer.status_code == 200 and set(answer.json()) == {"rating", "next_user", "next_item"}


def test_max_clients_and_idle_expiry():
    app = create_app("RecGym-Ratings-v0", env_kwargs={"n_users": 5, "n_items": 5}, max_clients=2, idle_timeout=0.4)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        first = http.post("/sessions").json()["client_id"]
        assert http.get("/reset", params={"user_id": "dave"}).status_code == 200
        full = http.post("/sessions")
        assert full.status_code == 503 and "max_clients" in full.json()["detail"]
        assert http.get("/reset", params={"user_id": "erin"}).status_code == 503
        assert http.delete(f"/sessions/{first}").status_code == 204
        second = http.post("/sessions").json()["client_id"]
        deadline = time.monotonic() + 5.0
        while http.get("/health").json()["sessions"] > 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # the sweeper drops idle sessions without any request
        assert http.get("/health").json()["sessions"] == 0
        answer = http.post(f"/sessions/{second}/reset")
        assert answer.status_code == 404 and "expired after 0.4 s" in answer.json()["detail"]
        assert app.state.store.expired_total == 2


def test_a_busy_session_waits_in_a_thread_and_the_event_loop_keeps_answering():
    """A request on a session held elsewhere goes to the thread pool; meanwhile the loop answers other requests."""
    app = create_app("RecGym-Ratings-v0", env_kwargs={"n_users": 5, "n_items": 5}, seed=0)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        client_id = http.post("/sessions").json()["client_id"]
        assert http.post(f"/sessions/{client_id}/reset", json={"seed": 1}).status_code == 200
        held, release = threading.Event(), threading.Event()

        def hold():
            with app.state.store.use("gym", client_id):
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(10)
        answers = {}
        stepper = threading.Thread(target=lambda: answers.update(step=httpx.post(
            f"{server.url}/sessions/{client_id}/step", json={"action": 1}, timeout=20)))
        stepper.start()
        time.sleep(0.3)
        assert stepper.is_alive()  # waiting for the session
        start = time.perf_counter()
        assert http.get("/health").status_code == 200
        assert time.perf_counter() - start < 0.5  # the loop is not blocked by the waiting request
        release.set()
        stepper.join(20)
        holder.join(20)
        assert answers["step"].status_code == 200 and answers["step"].json()["truncated"] is False
