"""Gymnasium's and Stable-Baselines3's env checkers pass on both ids and both observation modes, silently."""

import os
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from helpers import ENV_IDS
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import recgym
from recgym.envs import ShortVideoEnv, ShortVideoVectorEnv


def test_import_registers_both_ids():
    assert set(recgym.SHORT_VIDEO_IDS) == set(ENV_IDS)
    assert set(recgym.ENV_IDS) == set(ENV_IDS) | set(recgym.RATINGS_IDS)
    for env_id in ENV_IDS:
        assert env_id in gym.registry
        assert gym.registry[env_id].vector_entry_point is not None


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
@pytest.mark.parametrize("checker", [gymnasium_check_env, sb3_check_env], ids=["gymnasium", "sb3"])
def test_env_checkers_pass_without_warnings(env_id, observation_mode, checker):
    env = gym.make(env_id, observation_mode=observation_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checker(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    expected = spaces.Box if observation_mode == "box" else spaces.Dict
    assert isinstance(env.observation_space, expected)
    assert env.action_space == spaces.Discrete(10)


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_observations_stay_in_space_over_many_steps(env_id, observation_mode):
    env = gym.make(env_id, observation_mode=observation_mode, n_users=30, n_videos=200, max_steps=20)
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(300):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            assert env.observation_space.contains(obs)


def test_make_and_make_vec_return_recgym_classes(env_id):
    assert isinstance(gym.make(env_id, **{"n_users": 30, "n_videos": 200}).unwrapped, ShortVideoEnv)
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", n_users=30, n_videos=200)
    assert isinstance(vec.unwrapped, ShortVideoVectorEnv)


def test_fatigue_id_only_changes_fatigue_knobs():
    plain = gym.make("RecGym-ShortVideo-v0").unwrapped.core.config
    fatigue = gym.make("RecGym-ShortVideoFatigue-v0").unwrapped.core.config
    assert not plain.has_fatigue
    assert fatigue.has_fatigue
    assert (fatigue.boredom_increase, fatigue.like_mood_shift, fatigue.skip_mood_shift) == (0.5, 0.05, -0.3)
    changed = {name for name in type(plain).field_names() if getattr(plain, name) != getattr(fatigue, name)}
    assert changed == {"boredom_increase", "boredom_decay", "like_mood_shift", "skip_mood_shift"}


def test_make_with_module_prefix_works_without_importing_recgym_first():
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'recgym' not in sys.modules\n"
        "for env_id in ('RecGym-ShortVideo-v0', 'RecGym-ShortVideoFatigue-v0'):\n"
        "    env = gym.make('recgym:' + env_id, n_users=30, n_videos=200)\n"
        "    obs, info = env.reset(seed=0)\n"
        "    assert env.observation_space.contains(obs)\n"
        "    obs, reward, terminated, truncated, info = env.step(0)\n"
        "    assert info['outcome'] in ('watched', 'skipped', 'liked', 'session_end')\n"
        "    print('OK', env_id, type(env.unwrapped).__name__)\n"
    )
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["OK RecGym-ShortVideo-v0 ShortVideoEnv",
                                             "OK RecGym-ShortVideoFatigue-v0 ShortVideoEnv"]


def test_ansi_render_describes_every_candidate():
    env = gym.make("RecGym-ShortVideo-v0", render_mode="ansi", n_users=30, n_videos=200, n_candidates=4)
    env.reset(seed=0)
    text = env.render()
    lines = text.splitlines()
    assert len(lines) == 1 + 4
    slates = env.unwrapped.core.candidates.slates
    categories = env.unwrapped.core.config.categories
    for slot, line in enumerate(lines[1:]):
        assert line.strip().startswith(f"[{slot}] {categories[slates.category[0, slot]]}")
        assert f"views={slates.views[0, slot]}" in line.replace(" ", "")
    assert np.all(np.diff(slates.score[0]) <= 0)
