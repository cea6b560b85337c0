"""Same seed + same actions give identical trajectories and logs; single and vector envs agree step for step."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from helpers import SMALL_WORLD


def assert_obs_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    else:
        np.testing.assert_array_equal(a, b)


def assert_info_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def single_trajectory(env_id, seed, n_steps, observation_mode="box", action_seed=0, **kwargs):
    env = gym.make(env_id, observation_mode=observation_mode, **SMALL_WORLD, **kwargs)
    actions = np.random.default_rng(action_seed).integers(0, 10, size=n_steps)
    obs, info = env.reset(seed=seed)
    trajectory = [("reset", obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        trajectory.append(("step", obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            trajectory.append(("reset", obs, info))
    return trajectory, env.unwrapped.interaction_log()


def assert_trajectories_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a[0] == b[0]
        assert_obs_equal(a[1], b[1])
        assert_info_equal(a[-1], b[-1])
        assert a[2:-1] == b[2:-1]  # reward, terminated, truncated


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_same_seed_and_actions_give_identical_trajectories_and_logs(env_id, observation_mode):
    first, first_log = single_trajectory(env_id, 17, 300, observation_mode)
    second, second_log = single_trajectory(env_id, 17, 300, observation_mode)
    assert_trajectories_equal(first, second)
    pd.testing.assert_frame_equal(first_log, second_log)
    assert sum(entry[0] == "reset" for entry in first) > 10  # many episodes were covered


def test_reset_with_the_same_seed_replays_the_same_world(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=5)
        rewards = []
        for action in [0, 3, 1, 9, 2, 0, 0, 4]:
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            if terminated or truncated:
                obs, _ = env.reset()
        runs.append((rewards, obs.copy(), env.unwrapped.interaction_log()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    pd.testing.assert_frame_equal(runs[0][2], runs[1][2])


def test_different_seeds_give_different_worlds_and_logs(env_id):
    _, log_a = single_trajectory(env_id, 1, 50)
    _, log_b = single_trajectory(env_id, 2, 50)
    assert not log_a.equals(log_b)
    assert len(log_a) != len(log_b) or not np.array_equal(log_a["vid_id"], log_b["vid_id"])
    a = gym.make(env_id, **SMALL_WORLD)
    b = gym.make(env_id, **SMALL_WORLD)
    a.reset(seed=1)
    b.reset(seed=2)
    assert not np.array_equal(a.unwrapped.core.simulator.videos.category, b.unwrapped.core.simulator.videos.category)


def vector_trajectory(env_id, seed, n_steps, num_envs, action_seed=0, **kwargs):
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **SMALL_WORLD, **kwargs)
    actions = np.random.default_rng(action_seed).integers(0, 10, size=(n_steps, num_envs))
    obs, info = env.reset(seed=seed)
    trajectory = [("reset", obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trajectory.append(("step", obs, reward.tolist(), terminated.tolist(), truncated.tolist(), info))
    return trajectory, env.unwrapped.interaction_log()


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_vector_env_same_seed_and_actions_give_identical_trajectories_and_logs(env_id, observation_mode):
    first, first_log = vector_trajectory(env_id, 4, 120, 5, observation_mode=observation_mode)
    second, second_log = vector_trajectory(env_id, 4, 120, 5, observation_mode=observation_mode)
    assert_trajectories_equal(first, second)
    pd.testing.assert_frame_equal(first_log, second_log)
    _, other_log = vector_trajectory(env_id, 5, 120, 5, observation_mode=observation_mode)
    assert not first_log.equals(other_log)


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_vector_env_of_one_runs_in_lockstep_with_the_single_env(env_id, observation_mode):
    single = gym.make(env_id, observation_mode=observation_mode, **SMALL_WORLD)
    vector = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point",
                          observation_mode=observation_mode, **SMALL_WORLD)
    rng = np.random.default_rng(6)
    s_obs, s_info = single.reset(seed=23)
    v_obs, v_info = vector.reset(seed=23)
    n_episodes = 0
    single_done = False
    for _ in range(400):
        action = int(rng.integers(10))
        v_obs, v_reward, v_terminated, v_truncated, v_info = vector.step(np.array([action]))
        if single_done:
            # NEXT_STEP autoreset: the vector env resets now and ignores the action; the single env was
            # reset right after its episode ended.
            s_obs, s_info = single.reset()
            assert v_reward[0] == 0.0 and not v_terminated[0] and not v_truncated[0]
            single_done = False
            n_episodes += 1
        else:
            s_obs, s_reward, s_terminated, s_truncated, s_info = single.step(action)
            assert v_reward[0] == s_reward
            assert v_terminated[0] == s_terminated and v_truncated[0] == s_truncated
            single_done = s_terminated or s_truncated
        for key, value in s_info.items():
            assert v_info[f"_{key}"][0], key
            assert v_info[key][0] == value, key
        assert_obs_equal({k: v[0] for k, v in v_obs.items()} if isinstance(v_obs, dict) else v_obs[0], s_obs)
    assert n_episodes > 20
    pd.testing.assert_frame_equal(vector.unwrapped.interaction_log(), single.unwrapped.interaction_log())
