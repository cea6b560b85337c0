"""The native vector env: batched spaces, Gymnasium's autoreset semantics, distinct users, partial resets."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from helpers import SMALL_WORLD

STEP_ONLY_KEYS = ("video", "category", "creator", "outcome", "watch_seconds", "session_steps", "session_return")


def has(info, key, i):
    """Gymnasium's info convention: ``info[key][i]`` is valid where the mask ``info["_" + key][i]`` is set."""
    return key in info and bool(info[f"_{key}"][i])


def make_vec(env_id="RecGym-ShortVideo-v0", num_envs=4, **kwargs):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **{**SMALL_WORLD, **kwargs})


def session_field(env, obs):
    layout = env.unwrapped.observation_layout
    return obs["session"] if isinstance(obs, dict) else obs[:, layout["session"].flat_slice]


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_spaces_are_batched(env_id, observation_mode):
    env = make_vec(env_id, num_envs=5, observation_mode=observation_mode)
    single = gym.make(env_id, observation_mode=observation_mode, **SMALL_WORLD)
    assert env.num_envs == 5
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == spaces.Discrete(10)
    assert env.observation_space == batch_space(single.observation_space, 5)
    assert env.action_space == spaces.MultiDiscrete(np.full(5, 10))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.action_space.seed(0)
    for _ in range(100):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert reward.shape == terminated.shape == truncated.shape == (5,)
        assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
    if observation_mode == "dict":
        assert obs["candidate_score"].shape == (5, 10) and obs["gender"].shape == (5,)
    else:
        assert obs.shape == (5, env.unwrapped.observation_layout.size) and obs.dtype == np.float32


def test_next_step_autoreset_resets_on_the_following_step_and_ignores_the_action():
    env = make_vec(num_envs=4, max_steps=3)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    _, info = env.reset(seed=1)
    session_ids = info["session_id"].copy()
    rng = np.random.default_rng(0)
    done = np.zeros(4, dtype=bool)
    n_resets = 0
    for _ in range(150):
        log_length = len(env.unwrapped.core.simulator.log)
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, 10, size=4))
        # Only the envs that were not resetting produce a log row.
        assert len(env.unwrapped.core.simulator.log) == log_length + int((~done).sum())
        for i in np.flatnonzero(done):
            n_resets += 1
            assert reward[i] == 0.0 and not terminated[i] and not truncated[i]
            assert has(info, "user", i) and has(info, "session_id", i)
            assert info["session_id"][i] > session_ids.max()
            for key in STEP_ONLY_KEYS:
                assert not has(info, key, i), key
            np.testing.assert_array_equal(session_field(env, obs)[i], 0.0)
        for i in np.flatnonzero(~done):
            assert info["session_id"][i] == session_ids[i]
            for key in STEP_ONLY_KEYS:
                assert has(info, key, i), key
        session_ids = np.where(done, info["session_id"], session_ids)
        done = terminated | truncated
    assert n_resets > 50
    assert len(env.unwrapped.interaction_log()) == len(env.unwrapped.core.simulator.log)


def test_next_step_reset_steps_ignore_the_action():
    # Two runs that differ only in the actions given on reset steps are identical.
    runs = []
    for reset_action in (0, 7):
        env = make_vec(num_envs=3, max_steps=4)
        env.reset(seed=4)
        rng = np.random.default_rng(1)
        done = np.zeros(3, dtype=bool)
        rewards = []
        for _ in range(60):
            actions = np.where(done, reset_action, rng.integers(0, 10, size=3))
            _, reward, terminated, truncated, _ = env.step(actions)
            rewards.append(reward)
            done = terminated | truncated
        runs.append((np.array(rewards), env.unwrapped.interaction_log()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1].equals(runs[1][1])


@pytest.mark.parametrize("mode", ["same_step", AutoresetMode.SAME_STEP], ids=["string", "enum"])
@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_same_step_autoreset_reports_the_final_observation_and_info(mode, observation_mode):
    env = make_vec(num_envs=4, max_steps=3, autoreset_mode=mode, observation_mode=observation_mode)
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    _, info = env.reset(seed=2)
    session_ids = info["session_id"].copy()
    returns = np.zeros(4)
    rng = np.random.default_rng(0)
    n_ended = 0
    for _ in range(100):
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, 10, size=4))
        assert env.observation_space.contains(obs)
        returns += reward
        done = terminated | truncated
        if not done.any():
            assert "final_obs" not in info
            continue
        np.testing.assert_array_equal(info["_final_obs"], done)
        np.testing.assert_array_equal(info["_final_info"], done)
        final_info = info["final_info"]
        for i in np.flatnonzero(done):
            n_ended += 1
            final_obs = info["final_obs"][i]
            assert env.single_observation_space.contains(final_obs)
            final_session = final_obs["session"] if observation_mode == "dict" else final_obs[
                env.unwrapped.observation_layout["session"].flat_slice]
            assert final_session[0] == final_info["session_steps"][i] >= 1
            assert final_info["session_id"][i] == session_ids[i]
            assert final_info["session_return"][i] == pytest.approx(returns[i])
            assert (final_info["outcome"][i] == "session_end") == terminated[i]
            # The returned observation and top-level info are the new session's (as in SyncVectorEnv).
            np.testing.assert_array_equal(session_field(env, obs)[i], 0.0)
            assert info["session_id"][i] > session_ids.max()
            assert info["user"][i] == env.unwrapped.core.simulator.sessions.user[i]
            for key in STEP_ONLY_KEYS:
                assert not has(info, key, i), key
        for i in np.flatnonzero(~done):
            assert not has(final_info, "session_id", i)
            assert has(info, "outcome", i)
        session_ids = np.where(done, info["session_id"], session_ids)
        returns[done] = 0.0
    assert n_ended > 40


@pytest.mark.parametrize("num_envs", [8, 30])
def test_concurrent_sessions_always_belong_to_distinct_users(num_envs):
    # num_envs == n_users: every reset must pick the one user who is free.
    env = make_vec(num_envs=num_envs, max_steps=4)
    simulator_of = lambda: env.unwrapped.core.simulator  # noqa: E731
    _, info = env.reset(seed=3)
    assert len(set(info["user"].tolist())) == num_envs
    rng = np.random.default_rng(0)
    done = np.zeros(num_envs, dtype=bool)
    users_seen = set()
    for _ in range(120):
        _, _, terminated, truncated, info = env.step(rng.integers(0, 10, size=num_envs))
        simulator = simulator_of()
        running = simulator.slot_active
        running_users = simulator.sessions.user[running]
        assert len(set(running_users.tolist())) == len(running_users)
        assert simulator.in_session.sum() == running.sum()
        assert set(np.flatnonzero(simulator.in_session).tolist()) == set(running_users.tolist())
        done = terminated | truncated
        # The info's users of sessions still running (or just started) are distinct too.
        assert len(set(info["user"][~done].tolist())) == int((~done).sum())
        users_seen.update(info["user"].tolist())
    assert users_seen == set(range(SMALL_WORLD["n_users"]))


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_reset_mask_resets_only_the_masked_envs(observation_mode):
    env = make_vec(num_envs=5, observation_mode=observation_mode, base_propensity_range=(1.0, 1.0),
                   location_effects={})  # sessions never end by themselves
    env.reset(seed=6)
    for _ in range(3):
        obs, _, _, _, info = env.step(np.zeros(5, dtype=np.int64))
    before_ids = info["session_id"].copy()
    before_obs = {k: v.copy() for k, v in obs.items()} if isinstance(obs, dict) else obs.copy()
    mask = np.array([True, False, True, False, False])
    obs, info = env.reset(options={"reset_mask": mask})
    np.testing.assert_array_equal(info["_session_id"], mask)
    np.testing.assert_array_equal(info["_user"], mask)
    assert np.all(info["session_id"][mask] > before_ids.max())
    np.testing.assert_array_equal(env.unwrapped.core.simulator.sessions.session_id[~mask], before_ids[~mask])
    if isinstance(obs, dict):
        for key in obs:
            np.testing.assert_array_equal(obs[key][~mask], before_obs[key][~mask], err_msg=key)
    else:
        np.testing.assert_array_equal(obs[~mask], before_obs[~mask])
    session = session_field(env, obs)
    np.testing.assert_array_equal(session[mask], 0.0)
    np.testing.assert_array_equal(session[~mask][:, 0], 3.0)
    users = env.unwrapped.core.simulator.sessions.user
    assert len(set(users.tolist())) == 5
    # The unmasked sessions carry on where they were.
    _, _, _, _, info = env.step(np.zeros(5, dtype=np.int64))
    np.testing.assert_array_equal(info["session_steps"], np.where(mask, 1, 4))


def test_batched_respond_counts_every_impression_when_slots_show_the_same_video():
    env = make_vec(num_envs=3)
    env.reset(seed=0)
    simulator = env.unwrapped.core.simulator
    views = simulator.videos.views
    before = views.copy()
    rng = np.random.default_rng(0)
    simulator.respond(np.arange(3), np.array([5, 5, 7]), np.zeros(3, dtype=np.int64), rng)
    expected = before.copy()
    expected[5] += 2
    expected[7] += 1
    np.testing.assert_array_equal(views, expected)
