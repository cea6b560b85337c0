"""The bandit benchmarks run (their figures are printed, never asserted: machines are noisy)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *arguments):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *arguments], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bench_bandits_quick_prints_the_ratio_and_the_breakdown():
    out = _run("bench_bandits.py", "--quick", "--no-spark", "--breakdown")
    assert "seed's per-interaction loop" in out and "ratio seed's loop / ThompsonMF per round" in out
    assert "learn: Cholesky factors" in out and "total (inference + learning)" in out


def test_bench_als_ablation_quick_prints_a_row_per_setting_and_the_worlds():
    out = _run("bench_als_ablation.py", "--quick")
    assert "defaults (the seed's ALS)" in out and "random items in periods 0-1, then ALS" in out
    assert "users whose best item was rated in period 0" in out
