"""Every SB3 algorithm on every env id it supports, with RecMetricsCallback: the event files hold every metric, finite."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import SMALL_RATINGS_WORLD, SMALL_WORLD
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.logger import configure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from recgym.monitoring import RecMetricsCallback, make_sb3_vec_env
from recgym.wrappers import RecordRecMetrics

SHORT_VIDEO_METRICS = {"return", "length", "watch_seconds", "watch_rate", "like_rate", "skip_rate", "end_rate",
                       "category_coverage", "diversity", "catalogue_coverage", "creator_gini"}  # fmt: skip
RATINGS_METRICS = {"return", "length", "regret", "cumulative_regret", "zero_regret_rate", "catalogue_coverage"}
WORLDS = {
    "RecGym-ShortVideo-v0": (SMALL_WORLD, SHORT_VIDEO_METRICS),
    "RecGym-ShortVideoFatigue-v0": (SMALL_WORLD, SHORT_VIDEO_METRICS),
    "RecGym-Ratings-v0": ({**SMALL_RATINGS_WORLD, "max_steps": 5}, RATINGS_METRICS),
    "RecGym-RatingsEmbedding-v0": ({**SMALL_RATINGS_WORLD, "max_steps": 5}, RATINGS_METRICS),
}
OFF_POLICY = {"learning_starts": 40, "batch_size": 32, "buffer_size": 1_000}
ALGORITHMS = {  # class, keyword arguments, action space
    "dqn": (DQN, OFF_POLICY | {"target_update_interval": 50}, gym.spaces.Discrete),
    "ppo": (PPO, {"n_steps": 16, "batch_size": 32, "n_epochs": 2}, None),
    "a2c": (A2C, {"n_steps": 8}, None),
    "td3": (TD3, OFF_POLICY, gym.spaces.Box),
    "sac": (SAC, OFF_POLICY, gym.spaces.Box),
}
CASES = [
    (name, env_id)
    for name, (_, _, space) in ALGORITHMS.items()
    for env_id in WORLDS
    if space is None or isinstance(gym.make(env_id, **WORLDS[env_id][0]).action_space, space)
]


def scalars(logdir):
    accumulator = EventAccumulator(str(logdir))
    accumulator.Reload()
    return {tag: [event.value for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_the_cases_cover_every_algorithm_and_the_action_spaces_decide_which_env_ids():
    assert {name for name, _ in CASES} == set(ALGORITHMS)
    assert [env_id for name, env_id in CASES if name == "dqn"] == ["RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0",
                                                                   "RecGym-Ratings-v0"]  # fmt: skip
    assert [env_id for name, env_id in CASES if name in ("td3", "sac")] == ["RecGym-RatingsEmbedding-v0"] * 2
    assert len(CASES) == 13


@pytest.mark.parametrize(("name", "env_id"), CASES)
def test_algorithm_trains_with_the_callback_and_every_metric_reaches_tensorboard(name, env_id, tmp_path):
    torch.set_num_threads(1)
    kwargs, expected = WORLDS[env_id]
    algorithm, hyperparameters, _ = ALGORITHMS[name]
    env = make_sb3_vec_env(env_id, 4, seed=0, **kwargs)
    model = algorithm("MlpPolicy", env, seed=0, **hyperparameters)
    model.set_logger(configure(str(tmp_path), ["tensorboard"]))
    callback = RecMetricsCallback()
    model.learn(320, callback=callback, log_interval=1)
    model.logger.close()
    logged = scalars(tmp_path)
    for metric in expected:
        values = logged.get(f"rec/{metric}")
        assert values, f"rec/{metric} missing; logged: {sorted(logged)}"
        assert all(math.isfinite(value) for value in values), (metric, values)
    assert not {tag for tag in logged if tag.startswith("rec/")} - {f"rec/{metric}" for metric in expected}
    assert any(tag.startswith("train/") for tag in logged)  # SB3's own scalars, next to ours
    # the last logged value is the mean of the window's episodes, as the metrics wrapper recorded them
    queue = list(env.venv.env.metrics_queue)
    last = queue[-min(callback.episodes, 100):]
    assert callback.means()["return"] == pytest.approx(np.mean([episode["return"] for episode in last]))


def test_single_env_path_dqn_with_the_wrapper_inside_sb3s_monitor(tmp_path):
    torch.set_num_threads(1)
    env = RecordRecMetrics(gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD))
    model = DQN("MlpPolicy", env, seed=0, tensorboard_log=str(tmp_path), **OFF_POLICY)
    model.learn(300, callback=RecMetricsCallback(prefix="recsys"))
    logged = scalars(next(tmp_path.iterdir()))
    assert {f"recsys/{metric}" for metric in SHORT_VIDEO_METRICS} <= set(logged)
    assert "rollout/ep_rew_mean" in logged


def test_the_callback_refuses_an_env_without_the_metrics_wrapper():
    model = DQN("MlpPolicy", gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD), **OFF_POLICY)
    with pytest.raises(ValueError, match=r"wrap single envs in recgym\.wrappers\.RecordRecMetrics"):
        model.learn(10, callback=RecMetricsCallback())
    model.learn(10, callback=RecMetricsCallback(require_metrics=False))  # nothing to log, but allowed


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prefix": "a/b"}, "prefix must be a non-empty name"),
    ({"stats_window_size": 0}, "stats_window_size must be a positive integer"),
])  # fmt: skip
def test_bad_callback_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecMetricsCallback(**kwargs)
