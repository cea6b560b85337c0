"""The declared observation layout: offsets, spaces and the flat <-> dict round trip."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from helpers import SMALL_WORLD


def test_layout_offsets_tile_the_flat_vector_and_match_both_spaces(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    layout = env.unwrapped.observation_layout
    offset = 0
    for field in layout:
        assert field.offset == offset
        offset += field.size
    assert offset == layout.size == env.observation_space.shape[0]
    dict_space = gym.make(env_id, observation_mode="dict", **SMALL_WORLD).observation_space
    assert list(dict_space.spaces) == [field.name for field in layout]
    for field in layout:
        low, high = field.bounds()
        np.testing.assert_array_equal(env.observation_space.low[field.flat_slice], low)
        np.testing.assert_array_equal(env.observation_space.high[field.flat_slice], high)
        expected = {"categorical": (spaces.Discrete, spaces.MultiDiscrete), "binary": (spaces.MultiBinary,),
                    "numeric": (spaces.Box,)}[field.kind]
        assert isinstance(dict_space[field.name], expected)


def test_flatten_and_unflatten_round_trip_real_observations(env_id):
    box_env = gym.make(env_id, **SMALL_WORLD)
    dict_env = gym.make(env_id, observation_mode="dict", **SMALL_WORLD)
    layout = box_env.unwrapped.observation_layout
    rows, batches = [], []
    box_obs, _ = box_env.reset(seed=4)
    dict_obs, _ = dict_env.reset(seed=4)
    for action in np.random.default_rng(0).integers(0, 10, size=40):
        rows.append(box_obs)
        batches.append(dict_obs)
        box_obs, _, terminated, truncated, _ = box_env.step(int(action))
        dict_obs, *_ = dict_env.step(int(action))
        if terminated or truncated:
            box_obs, _ = box_env.reset()
            dict_obs, _ = dict_env.reset()
    rows = np.stack(rows)
    batch = {name: np.stack([np.asarray(b[name]) for b in batches]) for name in batches[0]}
    unflattened = layout.unflatten(rows)
    for name, values in batch.items():
        np.testing.assert_array_equal(unflattened[name], values, err_msg=name)
        assert unflattened[name].dtype == values.dtype, name
    np.testing.assert_array_equal(layout.flatten(batch), rows)
