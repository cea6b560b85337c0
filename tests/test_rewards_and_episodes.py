"""Rewards, termination and truncation, the session clock, info totals and view counts (SPEC §1)."""

import gymnasium as gym
import numpy as np
import pytest
from helpers import DEFAULT_REWARDS, OUTCOMES, SMALL_WORLD, binomial_tolerance

OUTCOME_CODE = {name: code for code, name in enumerate(OUTCOMES)}


def play(env, n_steps, seed=0, action_seed=1):
    """Take ``n_steps`` random actions (resetting after each episode); return one record per step."""
    rng = np.random.default_rng(action_seed)
    _, info = env.reset(seed=seed)
    records = []
    for _ in range(n_steps):
        action = int(rng.integers(env.action_space.n))
        obs, reward, terminated, truncated, info = env.step(action)
        records.append({"action": action, "obs": obs, "reward": reward, "terminated": terminated,
                        "truncated": truncated, "info": info})
        if terminated or truncated:
            env.reset()
    return records


def test_reward_follows_the_outcome_table(small_env):
    records = play(small_env, 600)
    seen = {r["info"]["outcome"] for r in records}
    assert seen == set(OUTCOMES)
    for r in records:
        assert r["reward"] == DEFAULT_REWARDS[r["info"]["outcome"]]
        assert isinstance(r["reward"], float)


def test_rewards_knob_replaces_the_table(env_id):
    rewards = {"watched": 0.25, "skipped": -3.0, "liked": 5.0, "session_end": -7.0}
    env = gym.make(env_id, rewards=rewards, **SMALL_WORLD)
    records = play(env, 400)
    assert {r["info"]["outcome"] for r in records} == set(OUTCOMES)
    for r in records:
        assert r["reward"] == rewards[r["info"]["outcome"]]
    log = env.unwrapped.interaction_log()
    np.testing.assert_array_equal(log["reward"].to_numpy(), log["action"].map(rewards).to_numpy())


def test_terminated_exactly_on_session_end_and_truncated_at_max_steps(env_id):
    env = gym.make(env_id, max_steps=3, **SMALL_WORLD)
    records = play(env, 900)
    n_truncated = n_terminated = 0
    for r in records:
        info = r["info"]
        assert r["terminated"] == (info["outcome"] == "session_end")
        assert not (r["terminated"] and r["truncated"])
        assert r["truncated"] == (info["session_steps"] == 3 and info["outcome"] != "session_end")
        assert 1 <= info["session_steps"] <= 3
        n_truncated += r["truncated"]
        n_terminated += r["terminated"]
    assert n_truncated > 20 and n_terminated > 20


@pytest.mark.parametrize("max_steps", [1, 7, 50])
def test_sessions_that_never_end_are_truncated_not_terminated(env_id, max_steps):
    # base_propensity_range=(1, 1) with no location penalty forces p = 1: every video is watched and no
    # session ends by itself. On the Fatigue id boredom would lower p on repeats, so it is switched off.
    never_leave = {"base_propensity_range": (1.0, 1.0), "location_effects": {}, "boredom_increase": 0.0,
                   "skip_mood_shift": 0.0, "like_mood_shift": 0.0}
    env = gym.make(env_id, max_steps=max_steps, **never_leave, **SMALL_WORLD)
    env.reset(seed=3)
    for _episode in range(3):
        for t in range(1, max_steps + 1):
            _, reward, terminated, truncated, info = env.step(0)
            assert info["outcome"] == "watched" and reward == 1.0
            assert not terminated
            assert truncated == (t == max_steps)
            assert info["session_steps"] == t
        assert info["session_return"] == max_steps
        with pytest.raises(RuntimeError, match="reset"):
            env.unwrapped.step(0)
        env.reset()


def test_session_clock_adds_duration_or_uniform_skip_seconds(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    records = play(env, 3000, seed=5)
    skip_seconds = []
    for r in records:
        info = r["info"]
        if info["outcome"] in ("watched", "liked"):
            assert info["watch_seconds"] == 6.0
        else:
            assert 1.0 <= info["watch_seconds"] <= 5.0
            skip_seconds.append(info["watch_seconds"])
    skip_seconds = np.array(skip_seconds)
    n = len(skip_seconds)
    assert n > 500
    # Uniform(1, 5): mean 3, variance 16/12; each quarter of the range holds a quarter of the draws.
    assert abs(skip_seconds.mean() - 3.0) <= 5 * np.sqrt(16 / 12 / n)
    quarters = np.histogram(skip_seconds, bins=[1, 2, 3, 4, 5])[0] / n
    assert np.all(np.abs(quarters - 0.25) <= binomial_tolerance(0.25, n))


def test_session_clock_knobs(env_id):
    env = gym.make(env_id, video_duration=4.5, skip_seconds_range=(2.0, 2.5), **SMALL_WORLD)
    for r in play(env, 500):
        info = r["info"]
        if info["outcome"] in ("watched", "liked"):
            assert info["watch_seconds"] == 4.5
        else:
            assert 2.0 <= info["watch_seconds"] <= 2.5


def test_info_totals_are_running_sums_and_match_the_observation(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    layout = env.unwrapped.observation_layout
    categories = env.unwrapped.core.config.categories
    records = play(env, 800, seed=11)
    steps = watched = likes = skips = 0
    seconds = total = 0.0
    streak, last_category = 0, None
    counts = np.zeros(len(categories))
    for r in records:
        info, obs = r["info"], r["obs"]
        steps += 1
        watched += info["outcome"] in ("watched", "liked")
        likes += info["outcome"] == "liked"
        skips += info["outcome"] == "skipped"
        seconds += info["watch_seconds"]
        total += r["reward"]
        streak = streak + 1 if info["category"] == last_category else 1
        last_category = info["category"]
        counts[categories.index(info["category"])] += 1
        assert info["session_steps"] == steps
        assert info["session_videos_watched"] == watched
        assert info["session_likes"] == likes
        assert info["session_skips"] == skips
        assert info["session_watch_seconds"] == pytest.approx(seconds, abs=1e-9)
        assert info["session_return"] == pytest.approx(total, abs=1e-9)
        expected_session = np.array([steps, watched, likes, skips, seconds, streak], dtype=np.float32)
        np.testing.assert_allclose(obs[layout["session"].flat_slice], expected_session, rtol=1e-6)
        np.testing.assert_array_equal(obs[layout["category_counts"].flat_slice], counts)
        assert obs[layout["last_category"].offset] == categories.index(info["category"])
        assert obs[layout["last_outcome"].offset] == OUTCOME_CODE[info["outcome"]]
        if r["terminated"] or r["truncated"]:
            steps = watched = likes = skips = 0
            seconds = total = 0.0
            streak, last_category = 0, None
            counts[:] = 0


def test_reset_starts_a_clean_session_of_a_population_user(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    layout = env.unwrapped.observation_layout
    obs, info = env.reset(seed=0)
    n_categories = len(env.unwrapped.core.config.categories)
    users, session_ids = [], []
    for _ in range(600):
        assert set(info) >= {"user", "session_id", "candidates_fresh"}
        assert info["candidates_fresh"] is True
        users.append(info["user"])
        session_ids.append(info["session_id"])
        np.testing.assert_array_equal(obs[layout["session"].flat_slice], 0.0)
        np.testing.assert_array_equal(obs[layout["category_counts"].flat_slice], 0.0)
        assert obs[layout["last_category"].offset] == n_categories  # "no video yet"
        assert obs[layout["last_outcome"].offset] == OUTCOME_CODE["session_end"]
        user = info["user"]
        people = env.unwrapped.core.simulator.users
        assert obs[layout["age"].offset] == people.age[user]
        np.testing.assert_array_equal(obs[layout["interests"].flat_slice], people.interests[user])
        env.step(0)
        obs, info = env.reset()
    assert session_ids == list(range(600))
    # 600 uniform draws from 30 users miss one with probability < 30 * (29/30)^600 ~ 4e-8.
    assert set(users) == set(range(30))


def test_view_count_of_the_shown_video_increments_by_one(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    env.reset(seed=2)
    views = env.unwrapped.core.simulator.videos.views
    slates = env.unwrapped.core.candidates.slates
    rng = np.random.default_rng(0)
    for _ in range(300):
        action = int(rng.integers(10))
        video = int(slates.video[0, action])
        before = views.copy()
        _, _, terminated, truncated, info = env.step(action)
        assert info["video"] == video
        after = views.copy()
        assert after[video] == before[video] + 1
        after[video] -= 1
        np.testing.assert_array_equal(after, before)
        if terminated or truncated:
            env.reset()


def test_info_describes_the_shown_video_and_matches_the_log(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    env.reset(seed=4)
    simulator = env.unwrapped.core.simulator
    slates = env.unwrapped.core.candidates.slates
    categories = env.unwrapped.core.config.categories
    rng = np.random.default_rng(1)
    for _ in range(150):
        action = int(rng.integers(10))
        shown = {"video": int(slates.video[0, action]), "category": categories[slates.category[0, action]],
                 "creator": int(slates.creator[0, action])}
        _, reward, terminated, truncated, info = env.step(action)
        assert {k: info[k] for k in shown} == shown
        assert shown["category"] == categories[simulator.videos.category[shown["video"]]]
        assert shown["creator"] == simulator.videos.creator[shown["video"]]
        last = env.unwrapped.interaction_log().iloc[-1]
        assert last["vid_id"] == info["video"] and last["user_id"] == info["user"]
        assert last["session_id"] == info["session_id"] and not last["from_history"]
        assert last["action"] == info["outcome"] and last["position"] == action
        assert last["vid_category"] == info["category"] and last["creator_id"] == info["creator"]
        assert last["time_step"] == info["session_steps"] - 1
        assert last["reward"] == reward and last["watch_seconds"] == info["watch_seconds"]
        assert last["session_length"] == pytest.approx(info["session_watch_seconds"], abs=1e-9)
        assert last["num_vids_session"] == info["session_videos_watched"]
        assert last["vid_num_views"] == simulator.videos.views[info["video"]]
        if terminated or truncated:
            env.reset()


def test_history_and_cf_state_persist_across_episodes_until_a_new_seed(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    env.reset(seed=8)
    history = len(env.unwrapped.interaction_log())
    steps = 0
    for _ in range(5):
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(0)
            steps += 1
            done = terminated or truncated
        env.reset()
    assert len(env.unwrapped.interaction_log()) == history + steps
    assert env.unwrapped.core.candidates.cf.n_interactions == history + steps
    env.reset(seed=8)  # a seed draws the world again: the log is back to its history
    assert len(env.unwrapped.interaction_log()) == history
