"""RecGymVecEnv honours SB3's VecEnv contract: step by step equal to DummyVecEnv of single envs on the same seeds.

A native vector env of N envs is one shared world (N concurrent users of one platform), so N
single envs, each its own world, cannot match it by construction. The comparisons are therefore:
the native vector env of **one** env against ``DummyVecEnv`` of the single env (the same world
and draws, as test_determinism shows without SB3); the adapter over a ``SyncVectorEnv`` of N
single envs against ``DummyVecEnv`` of the same N envs; and the adapter over a native vector env
of N envs against that vector env stepped directly.
"""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode
from helpers import SMALL_RATINGS_WORLD, SMALL_WORLD
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from recgym.monitoring import RecGymVecEnv, make_sb3_vec_env, make_vector_env
from recgym.wrappers import RecordRecMetrics, RecordRecMetricsVector

WORLDS = {
    "RecGym-ShortVideo-v0": SMALL_WORLD,
    "RecGym-ShortVideoFatigue-v0": SMALL_WORLD,
    "RecGym-Ratings-v0": {**SMALL_RATINGS_WORLD, "max_steps": 7},
    "RecGym-RatingsEmbedding-v0": {**SMALL_RATINGS_WORLD, "max_steps": 7},
}


def assert_same(a, b, path="value"):
    """Equal values of equal types (NaN equals NaN), through dicts, lists and arrays."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, sorted(a), sorted(b))
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype, (path, a, b)
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), (path, b)
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


def run_in_lockstep(reference, adapter, n_steps, seed):
    reference.seed(seed)
    adapter.seed(seed)
    assert_same(reference.reset(), adapter.reset())
    assert_same(reference.reset_infos, adapter.reset_infos)
    reference.action_space.seed(seed)
    ended = truncated = 0
    for _ in range(n_steps):
        actions = np.array([reference.action_space.sample() for _ in range(reference.num_envs)])
        expected, actual = reference.step(actions), adapter.step(actions)
        for name, a, b in zip(("obs", "rewards", "dones", "infos"), expected, actual, strict=True):
            assert_same(a, b, name)
        assert_same(reference.reset_infos, adapter.reset_infos, "reset_infos")
        ended += int(expected[2].sum())
        truncated += sum(info["TimeLimit.truncated"] for info in expected[3])
    return ended, truncated


@pytest.mark.parametrize("env_id", list(WORLDS))
@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_native_vector_env_of_one_matches_dummy_vec_env_of_the_single_env(env_id, mode):
    kwargs = WORLDS[env_id]
    reference = DummyVecEnv([lambda: RecordRecMetrics(gym.make(env_id, **kwargs))])
    vector = gym.make_vec(env_id, 1, vectorization_mode="vector_entry_point", autoreset_mode=mode, **kwargs)
    ended, truncated = run_in_lockstep(reference, RecGymVecEnv(RecordRecMetricsVector(vector)), 250, seed=7)
    assert ended > 20
    if env_id in ("RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0"):
        assert truncated == ended  # the rating episodes end by max_steps: TimeLimit.truncated


@pytest.mark.parametrize(("env_id", "observation_mode"), [("RecGym-ShortVideo-v0", "dict"),
                                                         ("RecGym-RatingsEmbedding-v0", "box")])  # fmt: skip
@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED])
def test_sync_vector_env_of_three_matches_dummy_vec_env_of_the_same_envs(env_id, observation_mode, mode):
    kwargs = {**WORLDS[env_id], "observation_mode": observation_mode}
    makers = [lambda: RecordRecMetrics(gym.make(env_id, **kwargs)) for _ in range(3)]
    reference = DummyVecEnv(makers)
    adapter = RecGymVecEnv(gym.vector.SyncVectorEnv(makers, autoreset_mode=mode))
    ended, _ = run_in_lockstep(reference, adapter, 150, seed=3)
    assert ended > 30
    # SB3's seeding, kept by the adapter: env i's world was drawn from seed + i
    assert [env.unwrapped.np_random_seed for env in adapter.env.envs] == [3, 4, 5]


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_native_vector_env_of_many_through_the_adapter_equals_the_env_stepped_directly(observation_mode):
    n = 6
    make = lambda: gym.make_vec("RecGym-ShortVideo-v0", n, vectorization_mode="vector_entry_point",  # noqa: E731
                                autoreset_mode=AutoresetMode.SAME_STEP, observation_mode=observation_mode, **SMALL_WORLD)
    direct, adapter = make(), RecGymVecEnv(make())
    adapter.seed(5)
    obs, _ = direct.reset(seed=5)
    assert_same(obs, adapter.reset())
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(120):
        actions = rng.integers(10, size=n)
        obs, rewards, terminated, truncated, infos = direct.step(actions)
        a_obs, a_rewards, a_dones, a_infos = adapter.step(actions)
        assert_same(obs, a_obs)
        np.testing.assert_array_equal(a_rewards, rewards.astype(np.float32))
        np.testing.assert_array_equal(a_dones, terminated | truncated)
        for i in range(n):
            source = infos["final_info"] if a_dones[i] else infos
            for key in ("outcome", "video", "session_id", "session_return"):
                assert a_infos[i][key] == source[key][i]
            assert a_infos[i]["TimeLimit.truncated"] == bool(truncated[i] and not terminated[i])
            if a_dones[i]:
                assert_same(a_infos[i]["terminal_observation"], infos["final_obs"][i])
                assert adapter.reset_infos[i]["session_id"] == infos["session_id"][i]  # the new session's
                ended += 1
            else:
                assert "terminal_observation" not in a_infos[i]
    assert ended > 50


def test_contract_methods_on_a_native_vector_env():
    env = RecGymVecEnv(RecordRecMetricsVector(gym.make_vec("RecGym-ShortVideo-v0", 4, vectorization_mode="vector_entry_point",
                                                           **SMALL_WORLD)))  # fmt: skip
    assert env.num_envs == 4 and env.observation_space == env.env.single_observation_space
    assert env.render_mode is None and env.get_attr("render_mode") == [None] * 4
    layouts = env.get_attr("observation_layout", indices=[1, 3])
    assert len(layouts) == 2 and layouts[0] is layouts[1] is env.env.unwrapped.observation_layout
    assert env.env_is_wrapped(RecordRecMetricsVector) == [True] * 4
    assert env.env_is_wrapped(Monitor, indices=0) == [False]
    assert env.seed(11) == [11, 12, 13, 14]
    first = env.reset()
    assert isinstance(first, np.ndarray) and first.shape == (4, *env.observation_space.shape)
    logs = env.env_method("interaction_log", indices=[0, 2])
    assert len(logs) == 2 and logs[0] is logs[1]  # one shared world: called once
    env.set_attr("custom_flag", 3)
    assert env.get_attr("custom_flag") == [3] * 4
    with pytest.raises(ValueError, match="set_attr needs every index"):
        env.set_attr("custom_flag", 4, indices=[0])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\)"):
        env.get_attr("render_mode", indices=[4])
    with pytest.raises(RuntimeError, match="call step_async"):
        env.step_wait()
    env.step_async(np.zeros(4, dtype=np.int64))
    assert len(env.step_wait()[3]) == 4
    env._seeds = [1, 5, 6, 7]
    with pytest.raises(ValueError, match="take one seed"):
        env.reset()
    env.set_options([{"a": 1}, {}, {}, {}])
    env._seeds = [None] * 4
    with pytest.raises(ValueError, match="same reset options"):
        env.reset()
    with pytest.raises(ValueError, match=r"gymnasium\.vector\.VectorEnv"):
        RecGymVecEnv(gym.make("RecGym-ShortVideo-v0"))


def test_seed_none_leaves_the_next_reset_unseeded_and_does_not_touch_numpy_global_state():
    env = RecGymVecEnv(make_vector_env("RecGym-ShortVideo-v0", 2, **SMALL_WORLD))
    state = np.random.get_state()[1].copy()  # noqa: NPY002  (checking that nothing draws from it)
    assert env.seed(None) == [None, None]
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    env.seed(3)
    first = env.reset()
    env.seed(3)
    assert np.array_equal(env.reset(), first)


def test_sync_vector_env_attributes_are_per_env():
    makers = [lambda: RecordRecMetrics(gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)) for _ in range(2)]
    env = RecGymVecEnv(gym.vector.SyncVectorEnv(makers, autoreset_mode=AutoresetMode.SAME_STEP))
    env.seed(0)
    env.reset()
    env.set_attr("custom_flag", 9, indices=[1])
    assert env.env_is_wrapped(RecordRecMetrics) == [True, True]
    assert env.get_attr("custom_flag", indices=[1]) == [9]
    first, second = env.env_method("interaction_log", indices=[0, 1])
    assert not first.equals(second)  # two worlds (seeds 0 and 1)


def test_ppo_trains_through_the_adapter_and_sb3_sees_every_episode():
    torch.set_num_threads(1)
    env = make_sb3_vec_env("RecGym-ShortVideo-v0", 8, seed=0, **SMALL_WORLD)
    assert isinstance(env, VecMonitor)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=2, seed=0)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(512)
    assert model.num_timesteps == 512
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))
    episodes = list(model.ep_info_buffer)
    assert len(episodes) > 20
    # VecMonitor's episode returns are those the metrics wrapper recorded
    queue = list(env.venv.env.metrics_queue)[-len(episodes):]
    assert [round(e["r"], 4) for e in episodes] == [round(m["return"], 4) for m in queue]
    assert [e["l"] for e in episodes] == [int(m["length"]) for m in queue]
