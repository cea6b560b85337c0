"""The issue-5 benchmark scripts run (--quick), print their figures and never replace a file they were given."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_learning_benchmark_runs_quick_and_keeps_an_existing_plot(tmp_path):
    plot, csv = tmp_path / "curves.png", tmp_path / "figures.csv"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "bench_learning.py"), "--quick", "--parts", "short_video", "ddpg",
        "--seeds", "0", "--curve-every", "1000", "--plot", str(plot), "--csv", str(csv),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "DQN / oracle" in done.stdout and "lower (target >= 50 %)" in done.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and csv.read_text().startswith("part,seed,")
    before = plot.read_bytes()
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert plot.read_bytes() == before


def test_throughput_benchmark_runs_quick():
    command = [
        sys.executable, str(ROOT / "benchmarks" / "bench_dqn_throughput.py"), "--quick", "--configs", "no-learn", "sb3",
        "--envs", "1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| sb3 |") or line.startswith("| no-learn |")]
    assert len(rows) == 2 and all("x |" in row for row in rows)
