import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recgym.cli import main
from recgym.data import load_interaction_log

ROOT = Path(__file__).resolve().parents[1]


def test_demo_prints_a_row_per_env_and_policy(capsys):
    assert main(["demo", "--sessions", "60", "--num-envs", "8", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    for env_id in ("RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0"):
        for policy in ("random", "greedy (business score)", "category rotation"):
            assert any(env_id in line and policy in line for line in out.splitlines()), (env_id, policy)
    assert "60 sessions per policy, seed 3" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--sessions", "0"], "argument --sessions: must be a positive integer, got '0'"),
        (["demo", "--env", "CartPole-v1"], "argument --env: invalid choice: 'CartPole-v1'"),
        (["nope"], "invalid choice: 'nope'"),
        (["demo", "--num-envs", "500"], "num_envs (500) must be <= n_users (200)"),
    ],
)
def test_cli_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_run_sessions_summary_matches_the_log():
    from agents.baselines import GreedyBusinessPolicy
    from agents.evaluation import run_sessions, summarise

    sessions = run_sessions(
        "RecGym-ShortVideo-v0", GreedyBusinessPolicy, sessions=40, seed=1, num_envs=4, n_users=30, n_videos=300
    )
    assert len(sessions) == 40
    assert (sessions["steps"] == sessions["watched"] + sessions["liked"] + sessions["skipped"] + sessions["ended"]).all()
    rewards = sessions["watched"] + 2 * sessions["liked"] - 2 * sessions["skipped"] - 0.5 * sessions["ended"]
    pd.testing.assert_series_equal(sessions["return"], rewards.astype(float), check_names=False)
    summary = summarise(sessions)
    assert summary["mean_return"] == pytest.approx(sessions["return"].mean())
    assert summary["watched_rate"] + summary["liked_rate"] + summary["skipped_rate"] <= 1.0


def test_quickstart_example_runs_and_keeps_an_existing_log(tmp_path):
    command = [sys.executable, str(ROOT / "examples" / "short_video_quickstart.py"), "--episodes", "3", "--out", str(tmp_path)]
    first = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    saved = tmp_path / "log-seed0.parquet"
    assert "saved" in first.stdout and saved.exists()
    before = saved.read_bytes()
    second = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "kept it" in second.stdout
    assert saved.read_bytes() == before
    assert load_interaction_log(saved)["from_history"].sum() > 0


def test_benchmark_script_runs_quick():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_short_video.py"), "--quick", "--vector-users", "300"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    assert "steps/s" in result.stdout and "of the starting rate" in result.stdout


def test_plot_example_writes_a_png_and_keeps_an_existing_one(tmp_path):
    out = tmp_path / "returns.png"
    command = [sys.executable, str(ROOT / "examples" / "plot_baseline_returns.py"), "--sessions", "20", "--out", str(out)]
    subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = out.read_bytes()
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "exists" in again.stderr
    assert out.read_bytes() == before


def test_ratings_benchmark_runs_quick():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ratings.py"), "--quick"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    assert result.stdout.count("requests/s") == 2 and result.stdout.count("vector env step") == 2


def test_ratings_example_reproduces_the_reference_points(tmp_path):
    out = tmp_path / "regret.png"
    command = [sys.executable, str(ROOT / "examples" / "ratings_reference_points.py"), "--periods", "2", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # SPEC §2's reference points on seed 000's world (seed 42): random ≈ 1.48, population best ≈ 0.19, oracle 0.
    first = {line.split("mean regret")[0].strip(): float(line.split("first ")[1].split(",")[0])
             for line in result.stdout.splitlines()[1:4]}
    assert abs(first["random"] - 1.48) < 0.03
    assert abs(first["population best item"] - 0.19) < 0.01
    assert first["oracle"] == 0.0
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "exists" in again.stderr
