"""The A/B runner (agents.ab_*): one population served by two policies, bookkeeping against the env's log,
A/A through the real envs, files, policy specs and the ``recgym ab`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agents.ab_policies import build_policy, check_policy_spec
from agents.ab_report import SHORT_VIDEO_METRICS, compare
from agents.ab_test import run_ab_test, simulate_ab_traffic
from agents.ab_traffic import ArmLookup, serve_traffic
from agents.run_directory import RunExistsError
from agents.training import make_vector_env
from recgym.ab.assignment import assign_arms
from recgym.cli import main

SHORT_VIDEO = "RecGym-ShortVideo-v0"
RATINGS = "RecGym-Ratings-v0"


def _constant(action):
    return lambda observations: np.full(len(observations), action, dtype=np.int64)


def test_each_session_is_served_by_its_user_s_arm_and_visits_match_the_env_log():
    env = make_vector_env(SHORT_VIDEO, 16, n_users=120)
    arms = ArmLookup(seed=5, treatment_share=0.5, known_users=120)
    traffic = serve_traffic(env, SHORT_VIDEO, _constant(0), _constant(9), arms, 240, seed=3)
    visits, log = traffic.visits, env.unwrapped.interaction_log()
    env.close()
    assert sorted(visits["visit"]) == list(range(240))
    # A user keeps one arm across all their sessions: the hash of (seed, user id).
    assert (visits.groupby("user")["arm"].nunique() == 1).all()
    assert (visits["arm"].to_numpy() == assign_arms(visits["user"], seed=5)).all()
    assert visits.groupby("user").size().max() > 1
    # Sessions are numbered by the env in the order they start, as the runner numbers visits.
    sessions = log[log["session_id"] >= 0]
    counted = sessions[sessions["session_id"] < 240]
    per_session = counted.groupby("session_id").agg(user=("user_id", "first"), impressions=("user_id", "size"),
                                                    clicks=("action", lambda a: a.isin(["watched", "liked"]).sum()),
                                                    watch_seconds=("watch_seconds", "sum"), position=("position", "unique"))
    merged = visits.merge(per_session, left_on="visit", right_index=True, suffixes=("", "_log"))
    assert (merged["user"] == merged["user_log"]).all()
    assert (merged["impressions"] == merged["impressions_log"]).all()
    assert (merged["clicks"] == merged["clicks_log"]).all()
    assert np.allclose(merged["watch_seconds"], merged["watch_seconds_log"])
    # Arm A's policy always shows slot 0, B's slot 9: every impression came from the user's own arm.
    expected = np.where(merged["arm"] == 1, 9, 0)
    assert all(list(p) == [e] for p, e in zip(merged["position"], expected, strict=True))


def test_same_seed_gives_the_same_experiment():
    def run():
        env = make_vector_env(SHORT_VIDEO, 8, n_users=60)
        act_a = build_policy("random", env, SHORT_VIDEO, seed=1)
        act_b = build_policy("greedy", env, SHORT_VIDEO)
        visits = serve_traffic(env, SHORT_VIDEO, act_a, act_b, ArmLookup(9, 0.5, 60), 90, seed=4).visits
        env.close()
        return visits

    pd.testing.assert_frame_equal(run(), run())


def _a_a_p_values(env_id, n_users, seeds, metrics, num_envs):
    p_values = {metric.name: [] for metric in metrics}
    for seed in seeds:
        users = simulate_ab_traffic("random", "random", env_id, n_users, seed=seed, visits_per_user=1, num_envs=num_envs).users()
        for metric in metrics:
            p_values[metric.name].append(compare(users, metric).p_value)
    return {name: np.array(values) for name, values in p_values.items()}


def test_a_a_through_the_ratings_env_holds_the_false_positive_rate():
    from agents.ab_report import RATINGS_METRICS

    p_values = _a_a_p_values(RATINGS, 400, range(300), RATINGS_METRICS[:2], 400)
    for name, values in p_values.items():
        assert 0.02 <= np.mean(values < 0.05) <= 0.085, name  # 300 experiments: 5 % ± 3.5 standard errors
        assert stats.kstest(values, "uniform").pvalue > 0.01, name


def test_a_a_through_the_short_video_env_looks_uniform():
    metrics = [m for m in SHORT_VIDEO_METRICS if m.name in ("ctr", "session_return")]
    p_values = _a_a_p_values(SHORT_VIDEO, 100, range(24), metrics, 16)
    for name, values in p_values.items():
        assert np.sum(values < 0.05) <= 4, name  # P(>= 5 of 24 | 5 %) < 1 %
        assert stats.kstest(values, "uniform").pvalue > 0.01, name


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("ab")
    return run_ab_test("random", "oracle", SHORT_VIDEO, 150, seed=2, visits_per_user=2, num_envs=16, checkpoints=8,
                       logdir=logdir, run_name="oracle")


def test_run_ab_test_writes_every_file_and_detects_the_oracle(oracle_run):
    result = oracle_run
    names = {"config.json", "visits.parquet", "users.parquet", "timeline.csv", "report.csv", "report.json", "ab_test.png"}
    assert set(result.files) == names and all((result.run_dir / name).is_file() for name in names)
    assert set(result.report["metric"]) == {m.name for m in SHORT_VIDEO_METRICS}
    regret = result.report.set_index("metric").loc["regret"]
    assert regret["estimate_b"] == pytest.approx(0.0, abs=1e-12)  # the myopic oracle's own regret
    assert regret["significant"] and regret["difference"] < 0
    users = pd.read_parquet(result.run_dir / "users.parquet")
    assert len(users) == 150 and (users["arm"].to_numpy() == assign_arms(range(150), seed=2)).all()
    assert users["visits"].sum() == 300 and users["exposed"].sum() == (users["visits"] > 0).sum()
    saved = json.loads((result.run_dir / "report.json").read_text())
    assert saved["summary"]["exposed_a"] + saved["summary"]["exposed_b"] == int(users["exposed"].sum())
    assert result.timeline["look"].nunique() == 8


def test_each_look_of_the_timeline_is_the_first_sessions_to_start(oracle_run):
    visits, frame = oracle_run.visits, oracle_run.timeline
    assert frame["visits"].max() == len(visits) == 300
    for _, look in frame[frame["metric"] == "ctr"].iterrows():
        first = visits[visits["visit"] < look["visits"]]
        users = first.groupby("user")["arm"].first()
        assert (look["users_a"], look["users_b"]) == ((users == 0).sum(), (users == 1).sum())
        assert look["step"] == first["end_step"].max()


def test_an_existing_run_is_never_overwritten(oracle_run):
    with pytest.raises(RunExistsError):
        run_ab_test("random", "greedy", SHORT_VIDEO, 60, num_envs=8, logdir=oracle_run.run_dir.parent, run_name="oracle")


def test_ratings_run_with_one_request_per_user_uses_the_two_proportion_z_test(tmp_path):
    result = run_ab_test("random", "population-best", RATINGS, 400, seed=1, checkpoints=4, logdir=tmp_path, table_format="csv")
    ctr = result.report.set_index("metric").loc["ctr"]
    assert ctr["method"].startswith("two-proportion z-test") and ctr["significant"] and ctr["difference"] > 0
    assert (result.run_dir / "visits.csv").is_file() and len(result.visits) == 400


def test_checkpoint_specs_load_our_agents_and_sb3_models(tmp_path):
    from agents.dqn import DQN, DQNConfig

    env = make_vector_env(SHORT_VIDEO, 4, n_users=40)
    observations, _ = env.reset(seed=0)
    agent = DQN.for_env(env, DQNConfig(seed=0))
    agent.save(tmp_path / "agent.pt")
    expected = agent.act(observations, deterministic=True)
    for spec in (f"dqn:{tmp_path / 'agent.pt'}", f"dqn:{tmp_path}"):
        assert (build_policy(spec, env, SHORT_VIDEO)(observations) == expected).all()

    from stable_baselines3 import PPO

    from recgym.monitoring import RecGymVecEnv

    model = PPO("MlpPolicy", RecGymVecEnv(env), n_steps=8, batch_size=8, seed=0, device="cpu")
    run_dir = tmp_path / "sb3_run"
    run_dir.mkdir()
    model.save(run_dir / "agent.zip")
    (run_dir / "config.json").write_text(json.dumps({"agent": "sb3-ppo"}))
    greedy = model.predict(observations, deterministic=True)[0]
    for spec in (f"sb3-ppo:{run_dir / 'agent.zip'}", f"sb3:{run_dir}", f"sb3:{run_dir / 'agent.zip'}"):
        assert (build_policy(spec, env, SHORT_VIDEO)(observations) == greedy).all()
    other = make_vector_env(SHORT_VIDEO, 4, n_users=40, n_candidates=5)
    with pytest.raises(ValueError, match="trained with observation_space"):
        build_policy(f"dqn:{tmp_path}", other, SHORT_VIDEO)
    with pytest.raises(ValueError, match="not an SB3 agent"):
        (run_dir / "config.json").write_text(json.dumps({"agent": "dqn"}))
        build_policy(f"sb3:{run_dir}", env, SHORT_VIDEO)
    env.close()
    other.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"policy_b": "best"}, "unknown policy 'best'"),
        ({"policy_b": "population-best"}, "unknown policy"),  # a ratings baseline on short video
        ({"policy_b": "sb3-xyz:model.zip"}, "unknown policy"),
        ({"policy_b": "dqn:/no/such/checkpoint.pt"}, "no checkpoint"),
        ({"n_users": 2}, "n_users"),
        ({"num_envs": 100}, "num_envs"),
        ({"treatment_share": 1.0}, "treatment_share"),
        ({"alpha": 0.0}, "alpha"),
        ({"env_kwargs": {"n_users": 10}}, "n_users"),
        ({"env_id": "CartPole-v1"}, "env_id"),
        ({"table_format": "xlsx"}, "table_format"),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, message):
    arguments = {"policy_a": "random", "policy_b": "greedy", "env_id": SHORT_VIDEO, "n_users": 50, "num_envs": 8,
                 "logdir": tmp_path} | kwargs
    with pytest.raises(ValueError, match=message):
        run_ab_test(**arguments)
    assert not any(tmp_path.iterdir())  # nothing written for a refused experiment


def test_spec_syntax_per_family():
    assert check_policy_spec("population-best", RATINGS) == "population-best"
    with pytest.raises(ValueError, match="unknown policy 'greedy' for RecGym-Ratings-v0"):
        check_policy_spec("greedy", RATINGS)


def test_cli_runs_an_experiment_and_refuses_bad_input(tmp_path, capsys):
    assert main(["ab", "--a", "random", "--b", "oracle", "--users", "300", "--env", RATINGS, "--seed", "3",
                 "--logdir", str(tmp_path), "--run-name", "cli", "--looks", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "two-proportion z-test" in out and "run written to" in out and (tmp_path / "cli" / "report.csv").is_file()
    for argv, message in (
        (["--a", "random", "--b", "magic"], "unknown policy 'magic'"),
        (["--a", "random", "--b", "oracle", "--alpha", "1"], "--alpha"),
        (["--a", "random", "--b", "oracle", "--users", "0"], "--users"),
    ):
        base = ["ab", "--users", "300", "--env", RATINGS, "--logdir", str(tmp_path)]
        with pytest.raises(SystemExit) as error:
            main(base + argv)
        assert error.value.code == 2 and message in capsys.readouterr().err


def test_examples_run(tmp_path, monkeypatch, capsys):
    import runpy
    from pathlib import Path

    from agents.dqn import DQN, DQNConfig

    examples = Path(__file__).resolve().parents[1] / "examples"
    env = make_vector_env(SHORT_VIDEO, 4, n_users=40)
    DQN.for_env(env, DQNConfig(seed=0)).save(tmp_path / "agent.pt")
    env.close()
    figure = tmp_path / "figure.png"
    monkeypatch.setattr("sys.argv", ["ab_test_dqn_vs_random.py", "--dqn", str(tmp_path / "agent.pt"), "--users", "60",
                                     "--sizes", "40", "--repeats", "2", "--logdir", str(tmp_path), "--figure", str(figure)])
    runpy.run_path(str(examples / "ab_test_dqn_vs_random.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "users per arm for 90% power" in out and "power ctr" in out and figure.is_file()
    # An existing --figure is refused before anything runs, unless --overwrite.
    runs = set(tmp_path.iterdir())
    with pytest.raises(SystemExit) as error:
        runpy.run_path(str(examples / "ab_test_dqn_vs_random.py"), run_name="__main__")
    assert error.value.code == 2 and "--overwrite" in capsys.readouterr().err and set(tmp_path.iterdir()) == runs
    monkeypatch.setattr("sys.argv", ["ab_error_rates.py", "--experiments", "20"])
    runpy.run_path(str(examples / "ab_error_rates.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "1,074 users per group" in out and "mSPRT" in out
