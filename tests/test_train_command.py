"""``recgym train``: the run directory's files, never overwriting a run, and clear errors for bad input."""

import json
from pathlib import Path

import gymnasium as gym
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from agents.comparison import comparison_table
from agents.ddpg import DDPG
from agents.dqn import DQN
from agents.learning_curve import DPI, PANEL_SIZE
from agents.ratings_baselines import PopulationBestPolicy, RandomActionPolicy
from agents.run_directory import RunExistsError, new_run_directory, run_stem
from agents.train_run import AGENTS, FILES, train_and_compare
from agents.training import EvalResult
from recgym.cli import TRAIN_AGENTS, build_parser, main
from recgym.envs.registration import ENV_IDS

SMALL_VIDEO = {"n_users": 30, "n_videos": 200}
SMALL_RATINGS = {"n_users": 20, "n_items": 30, "n_features": 4, "embedding_dim": 5, "frame_size": 4}
FAST_DDPG = {"gradient_steps": 2, "batch_size": 64, "actor_hidden": [32, 32], "critic_hidden": [32, 32]}
DQN_ON_VIDEO = ["--env", "RecGym-ShortVideo-v0", "--agent", "dqn"]
VIDEO_BASELINES = ["random", "greedy (business score)", "category rotation", "oracle (myopic)"]
RATINGS_BASELINES = ["random", "population best", "oracle"]


def short_video_argv(logdir, *extra):
    return [
        "train", "--env", "RecGym-ShortVideo-v0", "--agent", "dqn", "--steps", "800", "--eval-every", "400",
        "--eval-episodes", "24", "--num-envs", "8", "--env-kwargs", json.dumps(SMALL_VIDEO),
        "--agent-config", '{"learning_starts": 200}', "--logdir", str(logdir), "--no-progress", *extra,
    ]  # fmt: skip


def small_video_run(logdir, **overrides):
    arguments = {
        "logdir": logdir, "seed": 3, "eval_every": 300, "eval_episodes": 16, "num_envs": 8, "env_kwargs": SMALL_VIDEO,
        "agent_config": {"learning_starts": 100}, "progress_bar": False,
    }  # fmt: skip
    return train_and_compare("RecGym-ShortVideo-v0", "dqn", 600, **(arguments | overrides))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def png_shape(panels: int) -> tuple[int, int, int]:
    width, height = PANEL_SIZE
    return round(height * DPI), round(width * panels * DPI), 4


# ---------------------------------------------------------------------------------------------- the run's files
def test_train_writes_every_file_and_they_parse(tmp_path, capsys):
    assert main(short_video_argv(tmp_path / "runs")) == 0
    out = capsys.readouterr().out
    run_dir = tmp_path / "runs" / "dqn_RecGym-ShortVideo-v0_seed0_1"
    assert f"run written to {run_dir}" in out
    for name in ["dqn", *VIDEO_BASELINES]:
        assert any(line.strip().startswith(name) for line in out.splitlines()), name
    assert sorted(path.name for path in run_dir.iterdir()) == sorted([*FILES, "tensorboard"])
    assert any(path.name.startswith("events.out.tfevents") for path in (run_dir / "tensorboard").iterdir())

    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_id"] == "RecGym-ShortVideo-v0" and config["agent"] == "dqn" and config["steps"] == 800
    assert config["seed"] == 0 and config["eval_seed"] == 10_000 and config["env_kwargs"] == SMALL_VIDEO
    assert config["agent_config"]["learning_starts"] == 200 and config["agent_config"]["seed"] == 0

    curve = pd.read_csv(run_dir / "evaluations.csv")
    # The untrained agent, then every 400 steps (a vector step of 8 envs may overshoot).
    assert len(curve) == 3 and curve["env_steps"][0] == 0
    assert 400 <= curve["env_steps"][1] < 408 and 800 <= curve["env_steps"][2] < 808
    assert (curve["episodes"] == 24).all()

    table = pd.read_csv(run_dir / "comparison.csv")
    assert table["policy"].tolist() == ["dqn", *VIDEO_BASELINES]
    assert table.loc[table["policy"] == "oracle (myopic)", "pct_of_oracle"].item() == pytest.approx(100.0)
    assert table.loc[0, "mean_return"] == curve["mean_return"].iloc[-1]  # the agent's row is its final evaluation
    for column in ("stderr", "mean_length", "watch_rate", "like_rate", "skip_rate", "coverage"):
        assert table[column].notna().all(), column

    saved = json.loads((run_dir / "comparison.json").read_text())
    assert saved["env_id"] == "RecGym-ShortVideo-v0" and saved["eval_episodes"] == 24 and saved["env_steps"] >= 800
    assert pd.DataFrame(saved["policies"])[table.columns.tolist()].equals(table)

    image = matplotlib.image.imread(run_dir / "learning_curve.png")
    assert image.shape == png_shape(1)

    agent = DQN.load(run_dir / "agent.pt")
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=2, vectorization_mode="vector_entry_point", **SMALL_VIDEO)
    observations, _ = env.reset(seed=1)
    assert agent.act(observations, deterministic=True).shape == (2,)
    assert agent.num_timesteps >= 800


def test_a_second_run_gets_a_new_directory_the_first_is_untouched_and_the_table_is_the_same(tmp_path):
    first = small_video_run(tmp_path)
    before = snapshot(first.run_dir)
    second = small_video_run(tmp_path)
    assert first.run_dir.name == "dqn_RecGym-ShortVideo-v0_seed3_1"
    assert second.run_dir.name == "dqn_RecGym-ShortVideo-v0_seed3_2"
    assert snapshot(first.run_dir) == before
    # Same seed, same arguments: the same numbers.
    pd.testing.assert_frame_equal(first.table, second.table)
    pd.testing.assert_frame_equal(first.curve, second.curve)
    assert (first.run_dir / "comparison.csv").read_bytes() == (second.run_dir / "comparison.csv").read_bytes()


def test_an_existing_run_name_is_refused_and_left_as_it_is(tmp_path, capsys):
    logdir = tmp_path / "runs"
    existing = logdir / "mine"
    existing.mkdir(parents=True)
    (existing / "notes.txt").write_text("my results")
    before = snapshot(logdir)
    with pytest.raises(SystemExit) as exit_info:
        main(short_video_argv(logdir, "--run-name", "mine"))
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert str(existing) in error and "never overwritten" in error
    assert snapshot(logdir) == before
    assert [path.name for path in logdir.iterdir()] == ["mine"]  # no other run was started either
    with pytest.raises(RunExistsError, match="never overwritten"):
        small_video_run(logdir, run_name="mine")


def test_ratings_run_with_ddpg_compares_with_random_population_best_and_oracle(tmp_path):
    result = train_and_compare(
        "RecGym-RatingsEmbedding-v0", "ddpg", 600, logdir=tmp_path, seed=1, eval_every=200,
        env_kwargs=SMALL_RATINGS, agent_config=FAST_DDPG | {"learning_starts": 100}, progress_bar=False,
    )  # fmt: skip
    table = result.table
    assert table["policy"].tolist() == ["ddpg", *RATINGS_BASELINES]
    rows = table.set_index("policy")
    assert rows.loc["oracle", "regret"] == 0.0 and rows.loc["oracle", "pct_regret_below_random"] == 100.0
    assert rows.loc["random", "pct_regret_below_random"] == 0.0
    assert rows.loc["population best", "regret"] < rows.loc["random", "regret"]
    assert (table["episodes"] == SMALL_RATINGS["n_users"]).all()  # one episode per env, num_envs = n_users
    assert (table["mean_length"] == 20).all()  # max_steps defaults to 20 requests
    config = result.config
    assert config["num_envs"] == SMALL_RATINGS["n_users"] and config["eval_seed"] == 1 and config["env_kwargs"]["max_steps"] == 20
    assert config["agent_config"]["gamma"] == 0.0  # ratings_preset
    assert result.curve["env_steps"].tolist() == [0, 200, 400, 600]
    assert matplotlib.image.imread(result.files["learning_curve.png"]).shape == png_shape(2)
    assert DDPG.load(result.files["agent.pt"]).num_timesteps == 600


def test_ratings_run_with_dqn_and_the_default_warm_up_of_ddpg(tmp_path, capsys):
    argv = [
        "train", "--env", "RecGym-Ratings-v0", "--agent", "dqn", "--steps", "200", "--logdir", str(tmp_path),
        "--env-kwargs", json.dumps(SMALL_RATINGS), "--agent-config", '{"learning_starts": 40}', "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for name in ["dqn", *RATINGS_BASELINES]:
        assert any(line.strip().startswith(name) for line in out.splitlines()), name
    assert "regret below random" in out
    from agents.train_run import build_agent_config

    preset = build_agent_config("ddpg", "RecGym-RatingsEmbedding-v0", seed=4, n_users=50)
    assert preset.learning_starts == 20 * 50 and preset.seed == 4 and preset.gradient_steps == 32


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("argv", "messages"),
    [
        (["--env", "CartPole-v1", "--agent", "dqn"], ["argument --env: invalid choice: 'CartPole-v1'", "RecGym-ShortVideo-v0"]),
        (["--env", "RecGym-ShortVideo-v0", "--agent", "ppo"], ["argument --agent: invalid choice: 'ppo'", "'dqn', 'ddpg'"]),
        (
            ["--env", "RecGym-RatingsEmbedding-v0", "--agent", "dqn"],
            ["agent 'dqn' does not fit RecGym-RatingsEmbedding-v0", "needs Discrete actions", "Box(", "use agent 'ddpg'"],
        ),
        (
            ["--env", "RecGym-ShortVideo-v0", "--agent", "ddpg"],
            ["agent 'ddpg' does not fit RecGym-ShortVideo-v0", "needs Box actions", "Discrete(10)", "use agent 'dqn'"],
        ),
        ([*DQN_ON_VIDEO, "--steps", "0"], ["argument --steps: must be a positive integer, got '0'"]),
        ([*DQN_ON_VIDEO, "--seed", "-1"], ["argument --seed: must be a non-negative integer"]),
        ([*DQN_ON_VIDEO, "--env-kwargs", "n_users=5"], ["argument --env-kwargs: must be a JSON object"]),
        ([*DQN_ON_VIDEO, "--env-kwargs", '{"n_userz": 5}'], ["unknown keyword argument", "n_userz"]),
        ([*DQN_ON_VIDEO, "--num-envs", "500"], ["num_envs (500) must be <= n_users (200)"]),
        (
            [*DQN_ON_VIDEO, "--agent-config", '{"learnig_rate": 0.1}'],
            ["unknown DQNConfig field(s) ['learnig_rate']", "learning_rate"],
        ),
        ([*DQN_ON_VIDEO, "--agent-config", '{"gamma": 2}'], ["DQNConfig.gamma must be a number in [0, 1]"]),
        ([*DQN_ON_VIDEO, "--run-name", "a/b"], ["run_name must be a single directory name", "'a/b'"]),
    ],
)
def test_bad_arguments_are_usage_errors_that_say_what_is_allowed(argv, messages, tmp_path, capsys):
    steps = [] if "--steps" in argv else ["--steps", "100"]
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *argv, *steps, "--logdir", str(tmp_path / "runs"), "--no-progress"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    for message in messages:
        assert message in error
    assert not (tmp_path / "runs").exists()  # refused before anything was created


def test_python_api_names_the_bad_value_and_the_allowed_ones(tmp_path):
    with pytest.raises(ValueError, match=r"env_id must be one of \['RecGym-ShortVideo-v0'.*got 'CartPole-v1'"):
        train_and_compare("CartPole-v1", "dqn", 100, logdir=tmp_path)
    with pytest.raises(ValueError, match=r"agent must be one of \['dqn', 'ddpg', 'sb3-dqn', .*'sb3-sac'\], got 'ppo'"):
        train_and_compare("RecGym-ShortVideo-v0", "ppo", 100, logdir=tmp_path)
    with pytest.raises(ValueError, match="use agent 'ddpg'"):
        train_and_compare("RecGym-RatingsEmbedding-v0", "dqn", 100, logdir=tmp_path)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        train_and_compare("RecGym-ShortVideo-v0", "dqn", 0, logdir=tmp_path)
    with pytest.raises(ValueError, match="agent_config must be a DDPGConfig for agent 'ddpg', got a DQNConfig"):
        from agents.dqn import DQNConfig

        train_and_compare("RecGym-RatingsEmbedding-v0", "ddpg", 100, logdir=tmp_path, agent_config=DQNConfig())
    assert list(tmp_path.iterdir()) == []


def test_the_cli_offers_exactly_the_trainable_agents_and_every_env():
    assert TRAIN_AGENTS == AGENTS
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    choices = {action.dest: action.choices for action in train._actions}
    assert tuple(choices["env"]) == ENV_IDS and tuple(choices["agent"]) == AGENTS


# ---------------------------------------------------------------------------------------------- run directories
def test_run_directories_count_up_and_skip_taken_names(tmp_path):
    stem = run_stem("dqn", "RecGym-ShortVideo-v0", 2)
    assert stem == "dqn_RecGym-ShortVideo-v0_seed2"
    (tmp_path / f"{stem}_1").mkdir()
    (tmp_path / f"{stem}_1" / "keep").write_text("x")
    (tmp_path / f"{stem}_3").mkdir()
    made = [new_run_directory(tmp_path, stem=stem).name for _ in range(3)]
    assert made == [f"{stem}_2", f"{stem}_4", f"{stem}_5"]
    assert (tmp_path / f"{stem}_1" / "keep").read_text() == "x"
    assert new_run_directory(tmp_path / "new" / "parent", "exact").is_dir()


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../escape"])
def test_run_names_must_be_one_plain_directory_name(tmp_path, name):
    with pytest.raises(ValueError, match="run_name must be"):
        new_run_directory(tmp_path, name)


def test_a_logdir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "runs"
    path.write_text("not a directory")
    with pytest.raises(ValueError, match="logdir must be a directory"):
        new_run_directory(path)
    assert path.read_text() == "not a directory"


# ---------------------------------------------------------------------------------------------- baselines and table
@pytest.mark.parametrize("env_id", ["RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0"])
def test_population_best_is_the_best_item_for_the_average_user_in_each_world(env_id):
    env = gym.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point", **SMALL_RATINGS)
    policy = PopulationBestPolicy(env)
    for seed in (0, 1):
        env.reset(seed=seed)
        truth = env.unwrapped.simulator
        best = int(np.argmax(truth.item_attributes @ truth.user_attributes.mean(axis=0)))
        actions = policy.act(None)
        assert policy.item() == best
        expected = np.full(5, best) if env_id == "RecGym-Ratings-v0" else np.repeat(truth.embeddings[best][None], 5, axis=0)
        np.testing.assert_array_equal(actions, expected)
        env.step(actions)


def test_random_actions_are_uniform_within_the_space_and_seeded():
    box = gym.make_vec("RecGym-RatingsEmbedding-v0", num_envs=4, vectorization_mode="vector_entry_point", **SMALL_RATINGS)
    observations = np.zeros((2000, 3), dtype=np.float32)
    draws = RandomActionPolicy(box, seed=5).act(observations)
    assert draws.shape == (2000, 5) and draws.dtype == np.float32
    assert draws.min() >= -1.0 and draws.max() <= 1.0 and abs(draws.mean()) < 0.05
    np.testing.assert_array_equal(draws, RandomActionPolicy(box, seed=5).act(observations))
    items = gym.make_vec("RecGym-Ratings-v0", num_envs=4, vectorization_mode="vector_entry_point", **SMALL_RATINGS)
    picks = RandomActionPolicy(items, seed=5).act(observations)
    assert picks.min() == 0 and picks.max() == SMALL_RATINGS["n_items"] - 1


def _result(mean: float, **metrics: float) -> EvalResult:
    returns = np.array([mean - 1.0, mean + 1.0])
    return EvalResult(2, mean, 1.0, 3.0, returns, np.array([3, 3]), metrics)


def test_comparison_table_shares_of_the_oracle_and_of_random_regret():
    results = {"agent": _result(3.0, regret=0.5), "random": _result(2.0, regret=1.0), "oracle": _result(4.0, regret=0.0)}
    table = comparison_table(results, oracle="oracle").set_index("policy")
    assert table["pct_of_oracle"].tolist() == [75.0, 50.0, 100.0]
    assert table["pct_regret_below_random"].tolist() == [50.0, 0.0, 100.0]
    assert table.loc["agent", "stderr"] == pytest.approx(1.0)
    negative = comparison_table({"agent": _result(1.0), "oracle": _result(-1.0)}, oracle="oracle")
    assert negative["pct_of_oracle"].isna().all()
    with pytest.raises(ValueError, match="oracle must name one of the results"):
        comparison_table(results, oracle="best")
