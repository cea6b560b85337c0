"""The ``log_interactions`` knob: off, an env keeps only its history (memory flat over any number of steps),
and nothing else changes: the same seed gives the very same trajectory, single and vector envs alike."""

import gymnasium as gym
import pytest
from helpers import assert_same

import recgym  # noqa: F401

RATINGS = {"n_users": 15, "n_items": 25, "n_features": 4, "frame_size": 3, "embedding_dim": 5, "n_history": 2,
           "new_users_per_period": 2, "new_items_per_period": 2, "user_drift_std": 0.05}
SHORT_VIDEO = {"n_users": 30, "n_videos": 200, "max_steps": 12}
WORLDS = {
    "RecGym-Ratings-v0": RATINGS,
    "RecGym-RatingsEmbedding-v0": {**RATINGS, "exclude_consumed": True},
    "RecGym-ShortVideo-v0": SHORT_VIDEO,
    "RecGym-ShortVideoFatigue-v0": SHORT_VIDEO,
}


def _history_length(env_id, env):
    log = env.unwrapped.core.simulator.log
    if env_id.startswith("RecGym-Ratings"):
        return int((log.column("period") < 0).sum())
    return int((log.column("session_id") < 0).sum())


def _play(env, steps, vector):
    """Seeded reset, seeded actions; every observation, reward, flag and info, in order."""
    trace = [env.reset(seed=3)]
    env.action_space.seed(4)
    for _ in range(steps):
        result = env.step(env.action_space.sample())
        trace.append(result)
        if not vector and (result[2] or result[3]):
            trace.append(env.reset())
    return trace


@pytest.mark.parametrize("env_id", list(WORLDS))
@pytest.mark.parametrize("vector", [False, True], ids=["single", "vector"])
def test_without_the_log_trajectories_are_unchanged_and_only_the_history_is_kept(env_id, vector):
    def make(**kwargs):
        if vector:
            return gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", **WORLDS[env_id], **kwargs)
        return gym.make(env_id, **WORLDS[env_id], **kwargs)

    logged, unlogged = make(), make(log_interactions=False)
    steps = 120  # several periods of the rating worlds (arrivals, drift), several sessions of the short-video ones
    assert_same(_play(logged, steps, vector), _play(unlogged, steps, vector))
    history = _history_length(env_id, unlogged)
    assert history > 0 and len(unlogged.unwrapped.core.simulator.log) == history
    assert _history_length(env_id, logged) == history and len(logged.unwrapped.core.simulator.log) > history + steps - 20
    assert len(logged.unwrapped.interaction_log()) == len(logged.unwrapped.core.simulator.log)
    with pytest.raises(RuntimeError, match="log_interactions=False"):
        unlogged.unwrapped.interaction_log()


@pytest.mark.parametrize("env_id", list(WORLDS))
@pytest.mark.parametrize("value", [0, 1, "no", None])
def test_log_interactions_must_be_a_bool(env_id, value):
    with pytest.raises(ValueError, match=f"log_interactions must be True or False, got {value!r}"):
        gym.make(env_id, log_interactions=value)
