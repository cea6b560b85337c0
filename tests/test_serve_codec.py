"""The JSON codec rebuilds identical spaces and values, exactly, and refuses malformed actions with a clear ValueError."""

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from serve_support import assert_same_value

import recgym
from recgym.serve.codec import decode_action, decode_value, encode_info, encode_value, space_from_json, space_to_json

HAND_MADE = [
    spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float64),
    spaces.Box(np.array([0.0, -1.5], np.float32), np.array([np.inf, 2.25], np.float32), dtype=np.float32),
    spaces.Box(0, 255, shape=(2, 2), dtype=np.uint8),
    spaces.Discrete(7, start=-3),
    spaces.MultiDiscrete([[2, 3], [4, 5]], start=[[1, 0], [0, -2]]),
    spaces.MultiBinary([2, 3]),
    spaces.Tuple([spaces.Discrete(3), spaces.Dict({"b": spaces.Box(-1, 1, (2,)), "a": spaces.MultiBinary(4)})]),
]


def _through_json(value):
    return json.loads(json.dumps(value, allow_nan=False))


def _env_spaces():
    for env_id in recgym.ENV_IDS:
        for mode in ("box", "dict"):
            env = gym.make(env_id, observation_mode=mode)
            yield pytest.param(env.observation_space, id=f"{env_id}-{mode}-obs")
            if mode == "box":
                yield pytest.param(env.action_space, id=f"{env_id}-action")


def _assert_identical(rebuilt, space):
    assert type(rebuilt) is type(space)
    assert rebuilt == space
    if isinstance(space, spaces.Dict):
        assert list(rebuilt.spaces) == list(space.spaces)  # the key order too
        for key in space.spaces:
            _assert_identical(rebuilt[key], space[key])
    elif isinstance(space, spaces.Tuple):
        for a, b in zip(rebuilt.spaces, space.spaces, strict=True):
            _assert_identical(a, b)
    elif isinstance(space, spaces.Box):
        assert rebuilt.dtype == space.dtype and rebuilt.shape == space.shape
        assert np.array_equal(rebuilt.low, space.low) and np.array_equal(rebuilt.high, space.high)  # bit for bit
    elif isinstance(space, spaces.MultiDiscrete):
        assert rebuilt.dtype == space.dtype
        assert np.array_equal(rebuilt.nvec, space.nvec) and np.array_equal(rebuilt.start, space.start)


@pytest.mark.parametrize("space", [*_env_spaces(), *HAND_MADE])
def test_spaces_and_their_samples_round_trip_exactly(space):
    rebuilt = space_from_json(_through_json(space_to_json(space)))
    _assert_identical(rebuilt, space)
    space.seed(4)
    for _ in range(20):
        value = space.sample()
        decoded = decode_value(rebuilt, _through_json(encode_value(space, value)))
        if isinstance(space, spaces.Tuple):
            for a, b in zip(decoded, value, strict=True):
                assert_same_value(a, b)
        else:
            assert_same_value(decoded, value)
        assert rebuilt.contains(decoded)


def test_float32_values_survive_json_bit_for_bit():
    space = spaces.Box(-np.inf, np.inf, shape=(1000,), dtype=np.float32)
    bits = np.random.default_rng(0).integers(0, 2**32, size=1000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = np.where(np.isfinite(values), values, np.float32(1.5))
    decoded = decode_value(space, _through_json(encode_value(space, values)))
    assert np.array_equal(decoded.view(np.uint32), values.view(np.uint32))


def test_non_finite_box_bounds_travel_as_strings():
    spec = space_to_json(spaces.Box(np.array([-np.inf, 0.0]), np.array([np.inf, 1.0]), dtype=np.float64))
    assert spec["low"] == ["-inf", 0.0] and spec["high"] == ["inf", 1.0]
    json.dumps(spec, allow_nan=False)  # strict JSON


@pytest.mark.parametrize(
    ("space", "action", "message"),
    [
        (spaces.Discrete(5), "3", "must hold numbers only"),
        (spaces.Discrete(5), True, "must hold numbers only"),
        (spaces.Discrete(5), None, "must hold numbers only"),
        (spaces.Discrete(5), 3.5, "whole numbers"),
        (spaces.Discrete(5), 5, "must lie in"),
        (spaces.Discrete(5), -1, "must lie in"),
        (spaces.Discrete(5), 10**30, "within int64/float64 range"),
        (spaces.Discrete(5), [1], "must have shape ()"),
        (spaces.Discrete(5), {"a": 1}, "must hold numbers only"),
        (spaces.Discrete(5), float("nan"), "whole numbers"),
        (spaces.Box(-1, 1, (3,)), [0.1, 0.2], "must have shape (3,)"),
        (spaces.Box(-1, 1, (3,)), [0.1, "x", 0.3], "must hold numbers only"),
        (spaces.Box(-1, 1, (3,)), [0.1, [0.2], 0.3], "regular"),
        (spaces.Box(-1, 1, (3,)), [0.1, float("inf"), 0.3], "finite"),
        (spaces.Box(-1, 1, (3,)), [0.1, float("nan"), 0.3], "finite"),
        (spaces.Box(-1, 1, (3,)), [0.1, 1e400, 0.3], "finite"),
        (spaces.MultiDiscrete([3, 3]), [1, 3], "must lie in"),
        (spaces.MultiBinary(2), [1, 2], "must lie in"),
        (spaces.Dict({"a": spaces.Discrete(2)}), {"b": 1}, "keys ['a']"),
        (spaces.Dict({"a": spaces.Discrete(2)}), [1], "keys ['a']"),
        (spaces.Tuple([spaces.Discrete(2)]), [1, 1], "list of 1 elements"),
    ],
)
def test_bad_actions_raise_value_errors_saying_what_is_wrong(space, action, message):
    with pytest.raises(ValueError) as error:
        decode_action(space, action)
    assert message in str(error.value)


def test_actions_decode_as_the_local_env_accepts_them():
    assert decode_action(spaces.Discrete(5), 3) == 3 and type(decode_action(spaces.Discrete(5), 3)) is int
    assert decode_action(spaces.Discrete(5), 3.0) == 3  # as the local rating env accepts 3.0
    box = decode_action(spaces.Box(-1, 1, (2,), dtype=np.float32), [5.0, -0.25])
    assert box.dtype == np.float32 and box.tolist() == [5.0, -0.25]  # bounds are the env's business


def test_infos_become_strict_json():
    info = {"a": np.int64(3), "b": np.float32(0.5), "c": np.array([1.0, np.nan]), "d": float("inf"), "e": "x",
            "f": True, "g": {"h": np.bool_(False)}, "i": (1, 2), "j": None, 4: object}
    encoded = encode_info(info)
    json.dumps(encoded, allow_nan=False)
    assert encoded["a"] == 3 and encoded["b"] == 0.5 and encoded["c"] == [1.0, None] and encoded["d"] is None
    assert encoded["g"] == {"h": False} and encoded["i"] == [1, 2] and encoded["4"] == repr(object)


def test_malformed_space_specs_raise_value_errors():
    for spec in ({"type": "Graph"}, {"type": "Box"}, {"type": "Box", "dtype": "object", "shape": [1], "low": [0],
                                                        "high": [1]}, [1], {"type": "Discrete", "n": "x", "start": 0}):
        with pytest.raises(ValueError):
            space_from_json(spec)
    with pytest.raises(ValueError, match="cannot serialise a Text space"):
        space_to_json(spaces.Text(5))
