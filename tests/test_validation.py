"""Every invalid keyword argument and action raises ``ValueError`` naming the parameter, the value and what is allowed."""

import re

import gymnasium as gym
import numpy as np
import pytest
from helpers import SMALL_WORLD

from recgym.candidates import CandidateConfig
from recgym.envs import ShortVideoEnv, ShortVideoVectorEnv
from recgym.simulators.short_video import ShortVideoConfig


def message_pattern(*fragments):
    """A regex matching a message that contains every fragment literally, in any order."""
    return "(?s)" + "".join(f"(?=.*{re.escape(fragment)})" for fragment in fragments)


def value_case(name, value, allowed):
    """The message names the parameter, shows ``repr(value)`` and says what is allowed."""
    return pytest.param({name: value}, (name, repr(value), allowed), id=f"{name}={value!r}")


INVALID_KWARGS = [
    value_case("n_users", 0, ">= 1"),
    value_case("n_users", True, "integer"),
    value_case("n_videos", -1, ">= 1"),
    value_case("n_creators", 2.5, "integer"),
    value_case("categories", ["a", "a"], "distinct"),
    value_case("categories", "comedy", "sequence"),
    value_case("categories", [], "at least 1"),
    value_case("genders", ["m", "m"], "distinct"),
    value_case("age_range", (30, 18), "low <= high"),
    value_case("age_range", (18,), "(low, high) pair"),
    value_case("base_propensity_range", (0.5, 1.5), "[0, 1]"),
    value_case("base_propensity_range", (-0.1, 0.5), "[0, 1]"),
    value_case("interest_bonus", "x", "finite real number"),
    value_case("interest_bonus", float("nan"), "finite real number"),
    value_case("interest_bonus", 1.5, "<= 1.0"),
    value_case("video_duration", 0.0, "> 0.0"),
    value_case("skip_seconds_range", (5.0, 1.0), "low <= high"),
    value_case("history_mean", -5.0, ">= 0.0"),
    value_case("history_min", -1, ">= 0"),
    value_case("n_candidates", 0, ">= 1"),
    value_case("n_candidates", 201, "<= n_videos (200)"),
    value_case("max_steps", 0, ">= 1"),
    value_case("cf_refresh_interval", 0, ">= 1"),
    value_case("cf_refresh_interval", 2.0, "integer"),
    value_case("boredom_decay", 1.5, "<= 1.0"),
    value_case("boredom_increase", -0.1, ">= 0.0"),
    value_case("like_mood_shift", 2.0, "<= 1.0"),
    value_case("n_interests", 9, "<= len(categories) = 8"),
    value_case("n_interests", 0, ">= 1"),
    value_case("distinct_interests", "yes", "True or False"),
    value_case("business_weights", (1, 2), "(w1, w2, w3) triple"),
    value_case("views_scale", "big", "finite real number"),
    value_case("observation_mode", "image", "['box', 'dict']"),
    # Mappings: the message names the offending key (the bad part of the value) and the allowed keys.
    pytest.param({"location_effects": {("north", "tech"): 0.1}},
                 ("location_effects", "('north', 'tech')", "'north'", "['west', 'mid', 'east']"), id="location=north"),
    pytest.param({"location_effects": {("west", "cooking"): 0.1}},
                 ("location_effects", "('west', 'cooking')", "'cooking'", "'comedy'", "'fashion'"), id="category=cooking"),
    pytest.param({"location_effects": {("west", "tech"): 2.0}},
                 ("location_effects", "('west', 'tech')", "2.0", "<= 1.0"), id="location_effect=2.0"),
    pytest.param({"location_effects": [1]}, ("location_effects", "[1]", "mapping"), id="location_effects=[1]"),
    pytest.param({"rewards": {"watched": 1}},
                 ("rewards", "['watched']", "['watched', 'skipped', 'liked', 'session_end']"), id="rewards-missing"),
    pytest.param({"rewards": {"watched": 1, "skipped": -2, "liked": 2, "session_end": -0.5, "shared": 3}},
                 ("rewards", "'shared'", "exactly the keys"), id="rewards-extra"),
    pytest.param({"rewards": {"watched": 1, "skipped": -2, "liked": 2, "session_end": float("inf")}},
                 ("rewards['session_end']", "inf", "finite number"), id="rewards-inf"),
    pytest.param({"cf_scores": {"watched": 1, "skipped": -2, "liked": 2}},
                 ("cf_scores", "['liked', 'skipped', 'watched']", "'session_end'"), id="cf_scores-missing"),
    pytest.param({"business_weights": (1, 2, "a")}, ("business_weights[2]", "'a'", "finite real number"),
                 id="business_weights-str"),
    pytest.param({"foo": 1}, ("unknown keyword argument", "'foo'", "allowed", "'n_users'"), id="unknown-kwarg"),
]


@pytest.mark.parametrize(("kwargs", "fragments"), INVALID_KWARGS)
def test_invalid_keyword_argument_raises_value_error_naming_it(env_id, kwargs, fragments):
    with pytest.raises(ValueError, match=message_pattern(*fragments)):
        gym.make(env_id, **{**SMALL_WORLD, **kwargs})


@pytest.mark.parametrize(("kwargs", "fragments"), INVALID_KWARGS)
def test_vector_env_validates_the_same_keyword_arguments(kwargs, fragments):
    with pytest.raises(ValueError, match=message_pattern(*fragments)):
        gym.make_vec("RecGym-ShortVideo-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     **{**SMALL_WORLD, **kwargs})


def test_render_mode_outside_the_metadata_is_rejected():
    # Constructed directly: gym.make itself warns about an unknown render mode first.
    with pytest.raises(ValueError, match=message_pattern("render_mode", "'human'", "['ansi']")):
        ShortVideoEnv(render_mode="human", **SMALL_WORLD)
    with pytest.raises(ValueError, match=message_pattern("render_mode", "'ansi'", "None")):
        ShortVideoVectorEnv(num_envs=2, render_mode="ansi", **SMALL_WORLD)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        pytest.param({"num_envs": 31}, ("num_envs", "31", "n_users (30)"), id="num_envs>n_users"),
        pytest.param({"num_envs": 0}, ("num_envs", "0", ">= 1"), id="num_envs=0"),
        pytest.param({"num_envs": 2, "autoreset_mode": "bogus"}, ("autoreset_mode", "'bogus'", "same_step"), id="bogus"),
    ],
)
def test_vector_env_specific_arguments(kwargs, fragments):
    with pytest.raises(ValueError, match=message_pattern(*fragments)):
        gym.make_vec("RecGym-ShortVideo-v0", vectorization_mode="vector_entry_point", **SMALL_WORLD, **kwargs)


def test_config_classes_validate_on_their_own():
    with pytest.raises(ValueError, match=message_pattern("n_videos", "-3")):
        ShortVideoConfig(n_videos=-3)
    with pytest.raises(ValueError, match=message_pattern("n_candidates", "-2")):
        CandidateConfig(n_candidates=-2)
    # Valid defaults reproduce the seed.
    config = ShortVideoConfig()
    assert (config.n_users, config.n_videos, config.n_creators, config.max_steps) == (200, 3000, 20, 50)
    assert CandidateConfig().business_weights == (0.5, 0.1, 0.3)


@pytest.mark.parametrize("action", [-1, 10, 2.5, "a", True, None], ids=repr)
def test_out_of_range_action_raises_value_error_naming_the_allowed_range(env_id, action):
    env = gym.make(env_id, **SMALL_WORLD)
    env.reset(seed=0)
    log_length = len(env.unwrapped.interaction_log())
    with pytest.raises(ValueError, match=message_pattern("action", "[0, 10)")):
        env.step(action)
    assert len(env.unwrapped.interaction_log()) == log_length  # nothing happened
    env.step(np.int64(3))  # a valid action still works afterwards


def test_single_env_rejects_a_batch_of_actions():
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message_pattern("action", "single integer", "array([1, 2])")):
        env.step(np.array([1, 2]))


@pytest.mark.parametrize(
    ("actions", "pattern"),
    [
        (np.array([0, 10, 1]), r"action must be an integer in \[0, 10\)"),
        (np.array([0, -1, 1]), r"action must be an integer in \[0, 10\)"),
        (np.array([0.5, 1, 1]), r"action must be an integer in \[0, 10\)"),
        (np.array([0, 1]), r"actions must have shape \(3,\), got shape \(2,\)"),
    ],
    ids=["too-high", "negative", "fractional", "wrong-shape"],
)
def test_vector_env_rejects_bad_actions(actions, pattern):
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=3, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=pattern) as error:
        env.step(actions)
    if "integer" in pattern:
        assert repr(actions) in str(error.value)


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="reset"):
        ShortVideoEnv(**SMALL_WORLD).step(0)
    with pytest.raises(gym.error.ResetNeeded):  # gym.make's order-enforcing wrapper answers first
        gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD).step(0)
    vector = gym.make_vec("RecGym-ShortVideo-v0", num_envs=2, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    with pytest.raises(RuntimeError, match="reset"):
        vector.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(RuntimeError, match="reset"):
        ShortVideoEnv(**SMALL_WORLD).interaction_log()


def test_step_after_the_episode_ended_raises_runtime_error(env_id):
    env = gym.make(env_id, max_steps=2, **SMALL_WORLD)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(0)
        done = terminated or truncated
    log_length = len(env.unwrapped.interaction_log())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    assert len(env.unwrapped.interaction_log()) == log_length
    env.reset()
    env.step(0)


def test_vector_reset_arguments_are_validated():
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=3, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.array([True, False, True])})  # no world yet
    env.reset(seed=0)
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.array([1, 0, 1])})
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.array([True, False])})
    with pytest.raises(ValueError, match=message_pattern("seed", "[1, 2, 3]")):
        env.reset(seed=[1, 2, 3])


def test_categories_and_locations_can_change_without_restating_location_effects():
    env = gym.make("RecGym-ShortVideo-v0", categories=("tech", "cats", "news"), locations=("west", "north"), **SMALL_WORLD)
    env.reset(seed=0)
    config = env.unwrapped.core.config
    # The seed's table, restricted to the names that still exist.
    assert config.location_effects == {("west", "tech"): 0.1}


def test_ranges_may_be_numpy_arrays_and_single_codes_keep_distinct_box_bounds():
    import warnings

    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make("RecGym-ShortVideo-v0", age_range=np.array([20, 20]), n_creators=1, genders=("x",), **SMALL_WORLD)
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    assert env.unwrapped.core.config.age_range == (20, 20)
