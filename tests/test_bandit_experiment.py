"""``recgym experiment bandits`` and the function behind it: files, rows, columns, errors."""

import json

import numpy as np
import pandas as pd
import pytest

from agents.bandit_experiment import AGENTS, DEFAULT_AGENTS, PERIOD_COLUMNS, run_bandit_experiment
from recgym import cli

SMALL = dict(n_users=40, n_items=25, n_features=3, n_periods=4)
LOCAL_AGENTS = ("thompson", "thompson-seed", "als", "epsilon-greedy", "popularity", "random", "oracle")


def test_experiment_writes_one_row_per_agent_seed_and_period(tmp_path):
    result = run_bandit_experiment(LOCAL_AGENTS, seeds=(0, 1), logdir=tmp_path, progress_bar=False,
                                   agent_options={"thompson-seed": {"n_samples": 20}}, **SMALL)
    run_dir = result.run_dir
    periods = pd.read_csv(run_dir / "periods.csv")
    assert periods.columns.tolist() == list(PERIOD_COLUMNS)
    assert len(periods) == len(LOCAL_AGENTS) * 2 * SMALL["n_periods"]
    assert periods.groupby(["agent", "seed"]).size().eq(SMALL["n_periods"]).all()
    assert periods[["agent", "seed", "period", "mean_regret", "cumulative_regret", "inference_seconds",
                    "training_seconds", "n_requests"]].notna().all().all()
    for _, rows in periods.groupby(["agent", "seed"]):
        np.testing.assert_allclose(rows["cumulative_regret"], rows["mean_regret"].cumsum())
    oracle = periods[periods["agent"] == "oracle"]
    assert (oracle["mean_regret"] == 0).all() and (oracle["rating_mse"].abs() < 1e-20).all()
    assert periods.loc[periods["agent"] == "random", "rating_mse"].isna().all()
    assert (periods["n_requests"] == SMALL["n_users"]).all()
    # A seed fixes the world, the request order and the noise: a second run of the random agent repeats its regrets.
    again = run_bandit_experiment(("random",), seeds=(0,), logdir=tmp_path, progress_bar=False, **SMALL)
    first = periods[(periods["agent"] == "random") & (periods["seed"] == 0)]["mean_regret"].to_numpy()
    np.testing.assert_allclose(again.periods["mean_regret"].to_numpy(), first)

    summary = json.loads((run_dir / "summary.json").read_text())
    assert [row["agent"] for row in summary["agents"]] == list(LOCAL_AGENTS)
    assert summary["population_best_regret"] > 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["agent_settings"]["thompson-seed"]["n_samples"] == 20
    assert (run_dir / "regret.png").stat().st_size > 10_000
    assert (run_dir / "summary.csv").exists()
    event_dirs = sorted(path.name for path in (run_dir / "tensorboard").iterdir())
    assert event_dirs == sorted(f"{agent}_seed{seed}" for agent in LOCAL_AGENTS for seed in (0, 1))


def test_tensorboard_scalars_hold_the_period_values(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = run_bandit_experiment(("als",), seeds=(3,), logdir=tmp_path, progress_bar=False, **SMALL)
    events = EventAccumulator(str(result.run_dir / "tensorboard" / "als_seed3"))
    events.Reload()
    logged = [event.value for event in events.Scalars("bandit/mean_regret")]
    np.testing.assert_allclose(logged, result.periods["mean_regret"], rtol=1e-6)
    assert {"bandit/cumulative_regret", "time/inference_seconds", "time/training_seconds"} <= set(events.Tags()["scalars"])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"agents": ("thompson", "bandit")}, "unknown agent"),
        ({"agents": ("als", "als")}, "distinct"),
        ({"agents": "als"}, "sequence"),
        ({"n_users": 0}, "n_users"),
        ({"n_items": -3}, "n_items"),
        ({"n_periods": 0}, "n_periods"),
        ({"seeds": ()}, "seeds"),
        ({"epsilon": 1.5}, "epsilon"),
        ({"agent_options": {"als": {"rank": 0}}, "agents": ("als",)}, "rank"),
        ({"agent_options": {"thompson": {"rank": 0}}, "agents": ("thompson",)}, "rank"),
        ({"agent_options": {"als": {}}, "agents": ("thompson",)}, "not run"),
        ({"env_kwargs": {"n_users": 5}}, "n_users"),
    ],
)
def test_invalid_arguments_fail_before_anything_is_written(tmp_path, kwargs, words):
    arguments = {**SMALL, "agents": ("random",), "logdir": tmp_path / "runs", "progress_bar": False, **kwargs}
    with pytest.raises(ValueError, match=words):
        run_bandit_experiment(**arguments)
    assert not (tmp_path / "runs").exists()


def test_cli_lists_the_same_agents_and_runs(tmp_path, capsys):
    assert cli.BANDIT_AGENTS == AGENTS and cli.BANDIT_DEFAULT_AGENTS == DEFAULT_AGENTS
    code = cli.main(["experiment", "bandits", "--agents", "popularity", "random", "--n-users", "30", "--n-items", "12",
                     "--n-features", "2", "--periods", "3", "--seeds", "5", "6", "--logdir", str(tmp_path), "--run-name",
                     "mine", "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "popularity" in out and "random" in out and "mine" in out
    assert len(pd.read_csv(tmp_path / "mine" / "periods.csv")) == 2 * 2 * 3
    with pytest.raises(SystemExit) as error:  # an existing run is never overwritten: usage error
        cli.main(["experiment", "bandits", "--agents", "random", "--n-users", "5", "--n-items", "3", "--periods", "1",
                  "--logdir", str(tmp_path), "--run-name", "mine", "--no-progress"])
    assert error.value.code == 2


@pytest.mark.parametrize(
    "arguments",
    [["--agents", "nobody"], ["--n-users", "0"], ["--periods", "-1"], ["--seeds", "x"],
     ["--agent-options", '{"als": {"rank": 0}}', "--agents", "als", "--n-users", "5", "--n-items", "3", "--periods", "1"]],
)
def test_cli_usage_errors_exit_2(tmp_path, arguments, capsys):
    with pytest.raises(SystemExit) as error:
        cli.main(["experiment", "bandits", "--logdir", str(tmp_path), "--no-progress", *arguments])
    assert error.value.code == 2
    assert "error" in capsys.readouterr().err


def test_example_script_runs_and_never_replaces_the_figure(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    figure = tmp_path / "figure.png"
    command = [sys.executable, str(root / "examples" / "bandit_experiment.py"), "--seeds", "1", "--periods", "2",
               "--n-users", "20", "--n-items", "10", "--logdir", str(tmp_path / "runs"), "--figure", str(figure)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr
    assert figure.stat().st_size > 10_000 and "thompson-seed" in done.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=root)
    assert again.returncode != 0 and "already exists" in again.stderr


def test_cli_als_spark_without_pyspark_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)
    with pytest.raises(SystemExit) as error:
        cli.main(["experiment", "bandits", "--agents", "als-spark", "--n-users", "5", "--n-items", "3", "--periods", "1",
                  "--logdir", str(tmp_path / "runs"), "--no-progress"])
    assert error.value.code == 2 and "recgym[spark]" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
