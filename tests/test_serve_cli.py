"""``recgym serve`` as a user runs it (a subprocess on a free loopback port), its usage errors, and recgym without
the serve extra: importing works, and the remote env and the command say what to install."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from serve_support import require_serve_extra

from recgym.cli import main

require_serve_extra()

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BLOCK_SERVE_EXTRA = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("fastapi", "uvicorn", "httpx", "starlette"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    """
)


def test_serve_command_serves_the_protocol_and_stops_cleanly_on_ctrl_c():
    env_kwargs = json.dumps({"n_users": 10, "n_items": 8, "n_history": 2})
    process = subprocess.Popen(
        [sys.executable, "-m", "recgym.cli", "serve", "--env", "RecGym-Ratings-v0", "--port", "0", "--seed", "4",
         "--env-kwargs", env_kwargs, "--max-clients", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = process.stdout.readline()
        assert banner.startswith("recgym serves RecGym-Ratings-v0 at http://127.0.0.1:"), banner
        url = banner.split(" at ")[1].split(" ")[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(url + "/health").json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.05)
        assert health["max_clients"] == 3 and health["sessions"] == 0
        answer = httpx.get(url + "/reset", params={"user_id": "aaaa"}).json()
        assert answer["nb_users"] == 10 and len(answer["rating_history"]) == 20
        predicted = httpx.get(url + "/predict", params={"user_id": "aaaa", "predicted_score": 0.761}).json()
        assert set(predicted) == {"rating", "next_user", "next_item"}
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve"], "the following arguments are required: --env"),
        (["serve", "--env", "RecGym-Remote-v0"], "argument --env: invalid choice: 'RecGym-Remote-v0'"),
        (["serve", "--env", "RecGym-Ratings-v0", "--port", "70000"], "must be a port number in 0..65535"),
        (["serve", "--env", "RecGym-Ratings-v0", "--max-clients", "0"], "argument --max-clients: must be a positive integer"),
        (["serve", "--env", "RecGym-Ratings-v0", "--idle-timeout", "nan"], "argument --idle-timeout: must be a positive number"),
        (["serve", "--env", "RecGym-Ratings-v0", "--max-body-bytes", "10"], "max_body_bytes must be >= 1024, got 10"),
        (["serve", "--env", "RecGym-Ratings-v0", "--env-kwargs", '{"n_users": -1}'], "n_users must be >= 1, got -1"),
        (["serve", "--env", "RecGym-Ratings-v0", "--env-kwargs", "[1]"], "must be a JSON object"),
        (["serve", "--env", "RecGym-ShortVideo-v0", "--env-kwargs", '{"log_interactions": true}'],
         "env_kwargs['log_interactions'] must be False or left out"),
        (["serve", "--env", "RecGym-Ratings-v0", "--host", "192.0.2.1"], "cannot listen on --host 192.0.2.1 --port 8000"),
    ],
)
def test_serve_usage_errors_exit_2_and_say_what_is_wrong(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _without_serve_extra(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_SERVE_EXTRA + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_recgym_works_without_the_serve_extra_and_says_what_to_install():
    result = _without_serve_extra(
        """
        import gymnasium as gym
        import recgym
        assert "RecGym-Remote-v0" in gym.registry
        env = gym.make("RecGym-Ratings-v0", n_users=5, n_items=5)
        env.reset(seed=0)
        try:
            gym.make("RecGym-Remote-v0", url="http://127.0.0.1:1")
        except ImportError as error:
            print("IMPORT ERROR:", error)
        from recgym.cli import main
        main(["serve", "--env", "RecGym-Ratings-v0"])
        """
    )
    assert "IMPORT ERROR: RecGym-Remote-v0 needs the HTTP client httpx, which is not installed: " \
           "pip install 'recgym[serve]'" in result.stdout, result.stderr
    assert result.returncode == 2
    assert "recgym serve needs the serve extra (fastapi is not installed): pip install 'recgym[serve]'" in result.stderr


def test_rating_protocol_client_example_learns_better_than_the_running_mean():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "rating_protocol_client.py"), "--steps", "1500"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rmse = result.stdout.split("RMSE: biases ")[1]
    biases, running_mean = float(rmse.split(",")[0]), float(rmse.split("running mean ")[1].split(",")[0])
    assert biases < running_mean
    assert "the server's /score says " + f"{biases:.3f}" in result.stdout


def test_sb3_remote_env_example_learns_the_same_network_as_locally():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "sb3_remote_env.py"), "--steps", "400"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "same network as trained locally: True" in result.stdout


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env_id": "CartPole-v1"}, "env_id must be one of"),
        ({"env_id": "RecGym-Remote-v0"}, "env_id must be one of"),
        ({"env_kwargs": [("n_users", 5)]}, "env_kwargs must be a mapping"),
        ({"env_kwargs": {"n_userz": 5}}, "unknown keyword argument(s) ['n_userz']"),
        ({"max_clients": 0}, "max_clients must be >= 1, got 0"),
        ({"idle_timeout": -1.0}, "idle_timeout must be > 0.0, got -1.0"),
        ({"max_body_bytes": 100}, "max_body_bytes must be >= 1024, got 100"),
        ({"seed": -3}, "seed must be >= 0, got -3"),
        ({"seed": 1.5}, "seed must be an integer, got 1.5"),
    ],
)
def test_create_app_checks_every_argument(kwargs, message):
    from recgym.serve.app import create_app

    arguments = {"env_id": "RecGym-Ratings-v0", "env_kwargs": {"n_users": 5, "n_items": 5}, **kwargs}
    with pytest.raises(ValueError) as error:
        create_app(arguments.pop("env_id"), **arguments)
    assert message in str(error.value)


def test_bench_serve_quick_runs_without_errors():
    pytest.importorskip("aiohttp")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_serve.py"), "--quick", "--phases", "protocol",
                             "--pause-ms", "0"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("protocol "))
    assert int(row.split()[8]) == 0  # errors
    assert int(row.split()[3].replace(",", "")) > 0  # requests
