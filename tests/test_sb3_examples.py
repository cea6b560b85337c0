"""Issue 7's examples and benchmark run with their reduced-budget flag, write TensorBoard logs into new run dirs."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args, cwd=None):
    command = [sys.executable, str(ROOT / script), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300, cwd=cwd).stdout


def scalar_tags(directory):
    tags = set()
    for path in directory.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(path))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"])
    return tags


def test_sb3_dqn_example_prints_the_margin_and_never_reuses_a_run_dir(tmp_path):
    out = run("examples/sb3_dqn_short_video.py", "--quick", "--seeds", "3", "--logdir", tmp_path)
    number = r"[\d.]+"
    assert re.search(rf"seed 3: DQN {number} ± {number} \(untrained {number}\), random {number} ± {number}, oracle {number} "
                     rf"-> margin over random [-+]{number}", out)  # fmt: skip
    assert "margin over random, mean of 1 seeds:" in out
    assert {"rec/watch_rate", "rec/creator_gini", "rollout/exploration_rate"} <= scalar_tags(tmp_path / "sb3_dqn_short_video_1")
    run("examples/sb3_dqn_short_video.py", "--quick", "--seeds", "3", "--logdir", tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sb3_dqn_short_video_1", "sb3_dqn_short_video_2"]


def test_sb3_ppo_example_and_the_monitoring_figure_from_its_event_files(tmp_path):
    out = run("examples/sb3_ppo_vector_env.py", "--quick", "--logdir", tmp_path)
    assert "PPO on RecGym-ShortVideo-v0: 512 env steps from 8 concurrent sessions" in out and "margin" in out
    logdir = tmp_path / "sb3_ppo_vector_env_1"
    assert {"rec/diversity", "rec/catalogue_coverage", "rollout/ep_rew_mean", "train/value_loss"} <= scalar_tags(logdir)
    figure = tmp_path / "curves.png"
    out = run("examples/plot_monitoring_curves.py", "--logdir", logdir, "--out", figure)
    assert "4 panels" in out and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = figure.read_bytes()
    again = subprocess.run([sys.executable, str(ROOT / "examples/plot_monitoring_curves.py"), "--logdir", str(logdir),
                            "--out", str(figure)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 2 and "exists" in again.stderr and figure.read_bytes() == before


def test_sb3_td3_example_compares_with_the_rating_baselines(tmp_path):
    out = run("examples/sb3_td3_ratings_embedding.py", "--quick", "--logdir", tmp_path)
    for policy in ("sb3-td3", "random", "population best", "oracle"):
        assert re.search(rf"^\s*{policy}\s+[\d.]+ ± [\d.]+", out, re.MULTILINE), policy
    assert {"rec/regret", "rec/zero_regret_rate"} <= scalar_tags(tmp_path / "sb3_td3_ratings_embedding_1")


def test_own_agents_example_trains_dqn_and_ddpg_with_tensorboard(tmp_path):
    out = run("examples/own_dqn_ddpg.py", "--quick", "--logdir", tmp_path)
    assert "dqn on RecGym-ShortVideo-v0" in out and "ddpg on RecGym-RatingsEmbedding-v0" in out
    assert "oracle (myopic)" in out and "population best" in out
    run_dir = tmp_path / "own_dqn_ddpg_1"
    assert {"rollout/watch_rate", "eval/mean_return"} <= scalar_tags(run_dir / "dqn")
    assert {"rollout/regret", "eval/mean_return"} <= scalar_tags(run_dir / "ddpg")


def test_load_and_evaluate_example_gives_back_the_runs_own_evaluation(tmp_path):
    out = run("examples/sb3_load_and_evaluate.py", "--quick", "--logdir", tmp_path)
    run_dir = Path(re.search(r"into (\S+)", out).group(1))
    saved = pd.read_csv(run_dir / "comparison.csv").iloc[0]
    assert saved["policy"] == "sb3-dqn"
    assert re.search(rf"^\s*sb3-dqn\s+{saved['mean_return']:.3f} ± {saved['stderr']:.3f}", out, re.MULTILINE), out


def test_sb3_vecenv_benchmark_runs_quick():
    out = run("benchmarks/bench_sb3_vecenv.py", "--quick")
    assert len(re.findall(r"adapter [\d,]+ env-steps/s, DummyVecEnv [\d,]+ env-steps/s, ratio [\d.]+x", out)) == 3
