"""RecGym-ShortVideoFatigue-v0: boredom and mood dynamics, and greedy-by-business-score losing to category rotation."""

import gymnasium as gym
import numpy as np
import pytest
from helpers import SMALL_WORLD, expected_clipped_standard_uniform

from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy
from recgym.simulators.short_video import LIKED, SKIPPED, WATCHED, ShortVideoConfig, ShortVideoSimulator

FATIGUE = "RecGym-ShortVideoFatigue-v0"


def episode_returns(env_id, policy_class, n_episodes=6000, num_envs=64, seed=7):
    """Returns of the first ``n_episodes`` sessions started (each played to its end) in a NEXT_STEP vector env.

    Taking the first sessions *started*, rather than the first *finished*, keeps long sessions from
    being under-represented.
    """
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    policy = policy_class(env)
    obs, info = env.reset(seed=seed)
    session = info["session_id"].copy()
    running = np.zeros(num_envs)
    resetting = np.zeros(num_envs, dtype=bool)
    returns = np.full(n_episodes, np.nan)
    while np.isnan(returns).any():
        obs, reward, terminated, truncated, info = env.step(policy.act(obs))
        assert np.all(reward[resetting] == 0.0)  # the reset step after a done
        session = np.where(info["_session_id"], info["session_id"], session)
        running += reward
        done = terminated | truncated
        first = done & (session < n_episodes)
        returns[session[first]] = running[first]
        running[done] = 0.0
        resetting = done
    env.close()
    return returns


def mean_and_standard_error(values):
    return values.mean(), values.std(ddof=1) / np.sqrt(len(values))


def test_greedy_is_measurably_worse_than_category_rotation_under_fatigue():
    greedy, greedy_se = mean_and_standard_error(episode_returns(FATIGUE, GreedyBusinessPolicy))
    rotation, rotation_se = mean_and_standard_error(episode_returns(FATIGUE, CategoryRotationPolicy))
    margin = 2.5 * np.hypot(greedy_se, rotation_se)
    assert rotation - greedy > margin, f"greedy {greedy:.3f} ± {greedy_se:.3f}, rotation {rotation:.3f} ± {rotation_se:.3f}"


def test_without_fatigue_greedy_is_not_worse_than_rotation():
    greedy, greedy_se = mean_and_standard_error(episode_returns("RecGym-ShortVideo-v0", GreedyBusinessPolicy))
    rotation, rotation_se = mean_and_standard_error(episode_returns("RecGym-ShortVideo-v0", CategoryRotationPolicy))
    margin = 2.5 * np.hypot(greedy_se, rotation_se)
    assert rotation - greedy <= margin, f"greedy {greedy:.3f} ± {greedy_se:.3f}, rotation {rotation:.3f} ± {rotation_se:.3f}"


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_policies_act_on_single_and_batched_observations(observation_mode):
    single = gym.make(FATIGUE, observation_mode=observation_mode, **SMALL_WORLD)
    vector = gym.make_vec(FATIGUE, num_envs=3, vectorization_mode="vector_entry_point",
                          observation_mode=observation_mode, **SMALL_WORLD)
    layout = single.unwrapped.observation_layout
    obs, _ = single.reset(seed=0)
    batch, _ = vector.reset(seed=0)
    for policy_class in (GreedyBusinessPolicy, CategoryRotationPolicy):
        action = policy_class(single).act(obs)
        assert isinstance(action, int) and single.action_space.contains(action)
        actions = policy_class(vector).act(batch)
        assert actions.shape == (3,) and vector.action_space.contains(actions)
    # Greedy picks the highest business score; rotation avoids the last category when it can.
    fields = layout.unflatten(batch) if observation_mode == "box" else batch
    np.testing.assert_array_equal(GreedyBusinessPolicy(vector).act(batch), np.argmax(fields["candidate_score"], axis=1))
    for _ in range(30):
        batch, _, _, _, _ = vector.step(GreedyBusinessPolicy(vector).act(batch))
        fields = layout.unflatten(batch) if observation_mode == "box" else batch
        chosen = CategoryRotationPolicy(vector).act(batch)
        for i, slot in enumerate(chosen):
            categories, last = fields["candidate_category"][i], fields["last_category"][i]
            differs = categories != last
            if differs.any():
                assert categories[slot] != last
                assert fields["candidate_score"][i][slot] == fields["candidate_score"][i][differs].max()
            else:
                assert slot == np.argmax(fields["candidate_score"][i])


def test_boredom_and_mood_follow_the_documented_dynamics():
    env = gym.make(FATIGUE, skip_mood_shift=-0.9, **SMALL_WORLD)  # a large skip shift exercises the clip at -1
    config = env.unwrapped.core.config
    decay, increase = config.boredom_decay, config.boredom_increase
    assert (decay, increase, config.like_mood_shift) == (0.3, 0.5, 0.05)
    env.reset(seed=0)
    sessions = env.unwrapped.core.simulator.sessions
    slates = env.unwrapped.core.candidates.slates
    rng = np.random.default_rng(0)
    clipped = repeats = 0
    for _ in range(1500):
        boredom, mood = sessions.boredom[0].copy(), float(sessions.mood[0])
        last = sessions.last_category[0]
        # Prefer repeating the last category, so boredom builds up.
        same = np.flatnonzero(slates.category[0] == last)
        action = int(same[0]) if len(same) and rng.random() < 0.8 else int(rng.integers(10))
        category = int(slates.category[0, action])
        repeats += category == last
        _, _, terminated, truncated, info = env.step(action)
        expected_boredom = boredom * decay
        expected_boredom[category] += increase
        np.testing.assert_allclose(sessions.boredom[0], expected_boredom, rtol=1e-12, atol=1e-12)
        if category == last:
            assert sessions.boredom[0, category] > boredom[category] or boredom[category] >= increase / (1 - decay)
        shift = {"liked": 0.05, "skipped": -0.9}.get(info["outcome"], 0.0)
        clipped += mood + shift < -1.0
        assert sessions.mood[0] == pytest.approx(np.clip(mood + shift, -1.0, 1.0), abs=1e-12)
        if terminated or truncated:
            env.reset()
            np.testing.assert_array_equal(sessions.boredom[0], 0.0)
            assert sessions.mood[0] == 0.0
    assert clipped > 5 and repeats > 300


def test_boredom_rises_on_repeats_towards_its_fixed_point():
    b, history = 0.0, []
    for _ in range(6):
        b = 0.3 * b + 0.5
        history.append(b)
    assert np.all(np.diff(history) > 0) and history[-1] == pytest.approx(0.5 / 0.7, abs=1e-3)
    env = gym.make(FATIGUE, base_propensity_range=(1.0, 1.0), location_effects={}, interest_bonus=0.0,
                   like_mood_shift=0.0, skip_mood_shift=0.0, **SMALL_WORLD)
    env.reset(seed=1)
    simulator = env.unwrapped.core.simulator
    # Show one category again and again through the simulator (the slates do not matter here).
    videos = np.flatnonzero(simulator.videos.category == 2)[:6]
    rng = np.random.default_rng(0)
    slot = np.zeros(1, dtype=np.int64)
    for k, video in enumerate(videos):
        before = simulator.expected_continuation(slot, np.array([video]))[0]
        assert before == pytest.approx(1.0 - (history[k - 1] if k else 0.0), abs=1e-12)
        result = simulator.respond(slot, np.array([video]), np.zeros(1, dtype=np.int64), rng)
        assert simulator.sessions.boredom[0, 2] == pytest.approx(history[k], abs=1e-12)
        if result.terminated[0] or result.truncated[0]:
            break


def test_fatigue_enters_the_outcome_draw():
    # Users shown one category over and over: the watched rate follows the fatigued closed form
    # step by step (expected_continuation includes mood - boredom), and it falls with repeats.
    config = ShortVideoConfig(n_users=2000, n_videos=400, boredom_increase=0.5, boredom_decay=0.3,
                              like_mood_shift=0.05, skip_mood_shift=-0.3)
    rng = np.random.default_rng(11)
    simulator = ShortVideoSimulator(config, n_slots=2000, rng=rng)
    slots = np.arange(2000)
    simulator.start_sessions(slots, rng)
    favourite = rng.integers(0, config.n_categories, size=config.n_users)
    by_category = [np.flatnonzero(simulator.videos.category == c) for c in range(config.n_categories)]
    expected, watched, step = [], [], []
    for _ in range(40):
        active = slots[simulator.slot_active]
        users = simulator.sessions.user[active]
        videos = np.array([rng.choice(by_category[favourite[u]]) for u in users])
        # Reference shift from the public state: interest + location + mood - boredom of the category.
        categories = simulator.videos.category[videos]
        shift = (0.3 * simulator.users.interest_mask[users, categories]
                 + config.location_effect_matrix()[simulator.users.location[users], categories]
                 + simulator.sessions.mood[active] - simulator.sessions.boredom[active, categories])
        closed_form = simulator.expected_continuation(active, videos)
        np.testing.assert_allclose(closed_form, expected_clipped_standard_uniform(shift), atol=1e-12)
        step.append(simulator.sessions.step[active].copy())
        result = simulator.respond(active, videos, np.zeros(len(active), dtype=np.int64), rng)
        expected.append(closed_form)
        watched.append(result.outcomes == WATCHED)
        ended = slots[~simulator.slot_active]
        if len(ended):
            simulator.start_sessions(ended, rng)
    expected, watched, step = np.concatenate(expected), np.concatenate(watched), np.concatenate(step)
    for k in (0, 1, 2, 3):
        rows = step == k if k < 3 else step >= 3
        n = int(rows.sum())
        se = np.sqrt(np.sum(expected[rows] * (1 - expected[rows]))) / n
        assert abs(watched[rows].mean() - expected[rows].mean()) <= 5 * se, k
    first, later = watched[step == 0].mean(), watched[step >= 3].mean()
    assert first - later > 0.1
    assert {LIKED, SKIPPED} <= set(np.unique(result.outcomes).tolist())
