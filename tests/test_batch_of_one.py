"""BatchOfOne returns what a one-env SyncVectorEnv with same-step autoreset returns, step by step."""

from collections.abc import Mapping

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from helpers import SMALL_RATINGS_WORLD, SMALL_WORLD

from agents.batch_of_one import BatchOfOne


def _assert_same(mine, theirs, path="value"):
    if isinstance(theirs, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(theirs), path
        for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            _assert_same(a, b, f"{path}[{k}]")
        return
    if isinstance(theirs, dict):
        assert isinstance(mine, Mapping) and mine.keys() == theirs.keys(), f"{path}: keys {mine.keys()} != {theirs.keys()}"
        for key in theirs:
            _assert_same(mine[key], theirs[key], f"{path}[{key!r}]")
        return
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert (mine.dtype, mine.shape) == (theirs.dtype, theirs.shape), path
    if theirs.dtype == object:
        for a, b in zip(mine.ravel(), theirs.ravel(), strict=True):
            assert (a is None) == (b is None), path
            if b is not None:
                _assert_same(a, b, f"{path} item")
    else:
        np.testing.assert_array_equal(mine, theirs, err_msg=path)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("RecGym-ShortVideo-v0", SMALL_WORLD),
        ("RecGym-ShortVideo-v0", SMALL_WORLD | {"observation_mode": "dict"}),
        ("RecGym-RatingsEmbedding-v0", SMALL_RATINGS_WORLD | {"max_steps": 7}),
    ],
)
def test_batch_of_one_matches_sync_vector_env(env_id, kwargs):
    mine = BatchOfOne(gym.make(env_id, **kwargs))
    theirs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id, **kwargs)], autoreset_mode=AutoresetMode.SAME_STEP)
    assert mine.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert mine.observation_space == theirs.observation_space and mine.action_space == theirs.action_space
    _assert_same(mine.reset(seed=3), theirs.reset(seed=3))
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(300):
        if env_id.endswith("Embedding-v0"):
            actions = rng.uniform(-1, 1, theirs.action_space.shape).astype(np.float32)
        else:
            actions = rng.integers(0, 10, size=1)
        mine_step, theirs_step = mine.step(actions), theirs.step(actions)
        _assert_same(mine_step, theirs_step, "step")
        ended += int(theirs_step[2][0] or theirs_step[3][0])
    assert ended >= 5  # the comparison crossed several autoresets
    mine.close()
    theirs.close()


def test_batch_of_one_rejects_non_envs_and_seed_lists_of_several():
    with pytest.raises(ValueError, match=r"gymnasium\.Env"):
        BatchOfOne("RecGym-ShortVideo-v0")
    env = BatchOfOne(gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD))
    with pytest.raises(ValueError, match="list of one seed"):
        env.reset(seed=[1, 2])
    observations, _ = env.reset(seed=[5])
    reference, _ = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD).reset(seed=5)
    np.testing.assert_array_equal(observations[0], reference)


class _ReusedArrayInfo(gym.Env):
    """Puts one array in every info and changes it in place at the next step (what batching must not see)."""

    observation_space = gym.spaces.Box(0, 10, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.buffer = 0, np.zeros(2)
        return np.zeros(1, np.float32), {"t": 0}

    def step(self, action):
        self.t += 1
        self.buffer[:] = self.t
        return np.full(1, self.t, np.float32), 1.0, False, self.t >= 3, {"state": self.buffer, "t": self.t}


def test_infos_are_batched_lazily_but_hold_the_values_of_their_step():
    env = BatchOfOne(_ReusedArrayInfo())
    env.reset(seed=0)
    first = env.step(np.array([0]))[4]
    env.step(np.array([0]))
    np.testing.assert_array_equal(first["state"], [[1.0, 1.0]])  # batched at its step: an array the env reuses
    assert first["t"].tolist() == [1] and first["_t"].tolist() == [True]
    scalar_only = BatchOfOne(gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD))
    scalar_only.reset(seed=0)
    infos = scalar_only.step(np.array([0]))[4]
    infos["extra"] = 5
    del infos["_video"]
    assert infos["extra"] == 5 and "_video" not in infos and "video" in infos and len(infos) == len(dict(infos))
