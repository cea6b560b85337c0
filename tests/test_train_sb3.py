"""``recgym train --agent sb3-*``: the same run directory as our agents, loadable checkpoints, clear errors."""

import json
import math

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from stable_baselines3 import DQN
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.sb3_agents import SB3_AGENTS, SB3Policy, build_hyperparameters
from agents.sb3_candidate_policy import CandidateDQNPolicy
from agents.train_run import AGENTS, run_files, train_and_compare
from agents.training import evaluate
from recgym.cli import main

SMALL_VIDEO = {"n_users": 30, "n_videos": 200}
SMALL_RATINGS = {"n_users": 12, "n_items": 20, "n_features": 4, "embedding_dim": 5, "frame_size": 4, "max_steps": 5}


def tags(logdir):
    accumulator = EventAccumulator(str(next(logdir.glob("events.out.tfevents.*"))))
    accumulator.Reload()
    return {tag: [event.value for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_sb3_ppo_run_writes_the_same_outputs_and_its_checkpoint_replays_the_last_evaluation(tmp_path, capsys):
    argv = ["train", "--env", "RecGym-ShortVideo-v0", "--agent", "sb3-ppo", "--steps", "768", "--eval-every", "384",
            "--eval-episodes", "24", "--num-envs", "8", "--env-kwargs", json.dumps(SMALL_VIDEO), "--agent-config",
            '{"n_steps": 32, "batch_size": 64, "n_epochs": 2}', "--logdir", str(tmp_path), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    run_dir = tmp_path / "sb3-ppo_RecGym-ShortVideo-v0_seed0_1"
    assert sorted(path.name for path in run_dir.iterdir()) == sorted([*run_files("sb3-ppo", normalized=True), "tensorboard"])
    assert "sb3-ppo" in out and "oracle (myopic)" in out
    config = json.loads((run_dir / "config.json").read_text())
    assert config["agent_config"]["n_steps"] == 32 and config["agent_config"]["normalize_observations"] is True
    table = pd.read_csv(run_dir / "comparison.csv")
    assert table["policy"].tolist()[0] == "sb3-ppo" and len(table) == 5
    curve = pd.read_csv(run_dir / "evaluations.csv")
    assert curve["env_steps"].tolist() == [0, 384, 768]  # untrained, every 384 env steps (the last one is the end)
    logged = tags(run_dir / "tensorboard")
    expected = ("rec/watch_rate", "rec/diversity", "rec/creator_gini", "eval/mean_return", "train/value_loss",
                "rollout/ep_rew_mean")  # fmt: skip
    for tag in expected:
        assert tag in logged and all(math.isfinite(value) for value in logged[tag]), tag
    assert logged["eval/mean_return"] == pytest.approx(curve["mean_return"].tolist())
    # the saved model and observation statistics give back the last evaluation exactly
    eval_env = gym.make_vec("RecGym-ShortVideo-v0", config["eval_num_envs"], vectorization_mode="vector_entry_point",
                            **SMALL_VIDEO)  # fmt: skip
    policy = SB3Policy.load(run_dir, eval_env)
    again = evaluate(policy, eval_env, 24, seed=config["eval_seed"])
    assert again.mean_return == pytest.approx(table["mean_return"][0])


def test_sb3_td3_on_the_embedding_env_and_sb3_dqn_on_ratings(tmp_path):
    common = {"logdir": tmp_path, "env_kwargs": SMALL_RATINGS, "progress_bar": False, "eval_every": 120}
    td3 = train_and_compare("RecGym-RatingsEmbedding-v0", "sb3-td3", 240,
                            agent_config={"learning_starts": 60, "gradient_steps": 2, "batch_size": 32}, **common)  # fmt: skip
    assert sorted(td3.files) == sorted([*run_files("sb3-td3"), "tensorboard"])
    assert td3.table["policy"].tolist() == ["sb3-td3", "random", "population best", "oracle"]
    assert td3.config["agent_config"]["gamma"] == 0.0 and td3.training.num_timesteps == 240
    assert 0 < len(td3.training.episode_returns) and set(td3.training.episode_lengths.tolist()) == {5}
    assert "rec/regret" in tags(td3.files["tensorboard"])
    dqn_config = {"learning_starts": 60, "gradient_steps": 1}
    dqn = train_and_compare("RecGym-Ratings-v0", "sb3-dqn", 240, agent_config=dqn_config, **common)
    assert dqn.table["policy"].tolist()[0] == "sb3-dqn" and (dqn.run_dir / "agent.zip").exists()


def test_every_sb3_agent_is_offered_and_the_defaults_follow_the_env_family():
    assert set(SB3_AGENTS) <= set(AGENTS)
    video = build_hyperparameters("sb3-dqn", "RecGym-ShortVideo-v0", seed=4, n_envs=16, n_users=200)
    ratings = build_hyperparameters("sb3-sac", "RecGym-RatingsEmbedding-v0", seed=4, n_envs=1000, n_users=1000)
    assert video["gamma"] == 0.9 and video["policy"] == "CandidateDQNPolicy" and video["seed"] == 4
    assert build_hyperparameters("sb3-ppo", "RecGym-ShortVideo-v0", seed=4, n_envs=16, n_users=200)["normalize_observations"]
    assert ratings["gamma"] == 0.0 and ratings["learning_starts"] == 20_000 and not ratings["normalize_observations"]


@pytest.mark.parametrize(("agent", "env_id", "config", "messages"), [
    ("sb3-sac", "RecGym-Ratings-v0", None, ["agent 'sb3-sac' does not fit RecGym-Ratings-v0", "needs Box actions",
                                            "use agent 'dqn'"]),
    ("sb3-dqn", "RecGym-RatingsEmbedding-v0", None, ["needs Discrete actions", "use agent 'ddpg'"]),
    ("sb3-ppo", "RecGym-ShortVideo-v0", {"n_stepz": 8}, ["unknown PPO keyword(s) ['n_stepz']", "'n_steps'"]),
    ("sb3-a2c", "RecGym-ShortVideo-v0", {"action_noise_sigma": 0.1}, ["action_noise_sigma is a TD3 setting"]),
    ("sb3-a2c", "RecGym-ShortVideo-v0", {"policy": "CandidateDQNPolicy"},
     ["policy must be one of ['MlpPolicy', 'MultiInputPolicy']"]),
])  # fmt: skip
def test_bad_sb3_runs_are_refused_before_anything_is_written(agent, env_id, config, messages, tmp_path):
    with pytest.raises(ValueError) as error:
        train_and_compare(env_id, agent, 100, logdir=tmp_path / "runs", agent_config=config, env_kwargs=SMALL_RATINGS
                          if "Ratings" in env_id else SMALL_VIDEO, progress_bar=False)  # fmt: skip
    for message in messages:
        assert message in str(error.value)
    assert not (tmp_path / "runs").exists()


def test_sb3_dqn_with_the_candidate_policy_saves_loads_and_scores_slots_alike(tmp_path):
    result = train_and_compare("RecGym-ShortVideo-v0", "sb3-dqn", 480, logdir=tmp_path, num_envs=8, eval_every=240,
                               eval_episodes=16, env_kwargs=SMALL_VIDEO, agent_config={"learning_starts": 100},
                               progress_bar=False)  # fmt: skip
    assert sorted(result.files) == sorted([*run_files("sb3-dqn"), "tensorboard"])  # no VecNormalize: the encoder scales
    model = DQN.load(result.files["agent.zip"])
    assert isinstance(model.policy, CandidateDQNPolicy)
    eval_env = gym.make_vec("RecGym-ShortVideo-v0", result.config["eval_num_envs"], vectorization_mode="vector_entry_point",
                            **SMALL_VIDEO)  # fmt: skip
    again = evaluate(SB3Policy.load(result.run_dir), eval_env, 16, seed=result.config["eval_seed"])
    assert again.mean_return == pytest.approx(result.table["mean_return"][0])
    # one network scores every slot: permuting the candidates permutes the action values
    layout = model.policy.layout
    obs, _ = eval_env.reset(seed=1)
    order = np.array([3, 0, 9, 1, 2, 8, 4, 7, 6, 5])
    permuted = obs.copy()
    for item in layout:
        if tuple(item.shape) == (10,):
            columns = np.arange(item.offset, item.offset + 10)
            permuted[:, columns] = obs[:, columns[order]]
    with torch.no_grad():
        q = model.q_net(torch.as_tensor(obs)).numpy()
        q_permuted = model.q_net(torch.as_tensor(permuted)).numpy()
    np.testing.assert_allclose(q_permuted, q[:, order], rtol=1e-5, atol=1e-6)
