"""RecordRecMetrics (single env) and RecordRecMetricsVector: episode metrics equal hand computations."""

import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from helpers import SMALL_RATINGS_WORLD, SMALL_WORLD

from recgym.wrappers import ImpressionWindow, RecordRecMetrics, RecordRecMetricsVector, catalogue_facts

SCRIPT = [
    # reward, outcome, category, creator, video, watch_seconds
    (1.0, "watched", "a", 0, 5, 10.0),
    (2.0, "liked", "a", 0, 5, 12.0),
    (-2.0, "skipped", "b", 1, 7, 1.0),
    (1.0, "watched", "c", 0, 9, 8.0),
    (-0.5, "session_end", "a", 2, 1, 3.0),
]


class ScriptedEnv(gym.Env):
    """Plays SCRIPT as one episode (terminated on its last step), whatever the actions."""

    observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {"user": 3}

    def step(self, action):
        reward, outcome, category, creator, video, seconds = SCRIPT[self.t]
        self.t += 1
        info = {"outcome": outcome, "category": category, "creator": creator, "video": video, "watch_seconds": seconds}
        return np.zeros(1, np.float32), reward, self.t == len(SCRIPT), False, info


def play_episode(env):
    env.reset(seed=0)
    infos = []
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(0)
        infos.append(info)
        done = terminated or truncated
    return infos


def test_scripted_episode_metrics_equal_the_hand_computation():
    env = RecordRecMetrics(ScriptedEnv(), catalogue_size=10, categories=("a", "b", "c", "d"), n_creators=4, window=3)
    infos = play_episode(env)
    assert all("rec_metrics" not in info for info in infos[:-1])
    metrics = infos[-1]["rec_metrics"]
    expected = {
        "return": 1.5,  # 1 + 2 - 2 + 1 - 0.5
        "length": 5.0,
        "watch_seconds": 34.0,  # 10 + 12 + 1 + 8 + 3
        "watch_rate": 0.4, "like_rate": 0.2, "skip_rate": 0.2, "end_rate": 0.2,  # 2, 1, 1, 1 of 5 steps
        "category_coverage": 0.75,  # a, b, c of 4 categories
        "diversity": 0.7,  # a a b c a: 10 pairs, 3 of them (a, a)
        "catalogue_coverage": 0.3,  # window of 3 impressions: videos 7, 9, 1 of 10
        "creator_gini": 0.25,  # creators 1, 0, 2 in the window: counts 1 1 1 0; |differences| 6 / (2 * 4 * 3)
    }  # fmt: skip
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value), key
    assert list(env.metrics_queue) == [metrics] and env.episode_count == 1


def test_a_long_window_covers_every_impression_and_the_window_outlives_episodes():
    env = RecordRecMetrics(ScriptedEnv(), catalogue_size=10, categories=("a", "b", "c", "d"), n_creators=4, window=100)
    first = play_episode(env)[-1]["rec_metrics"]
    assert first["catalogue_coverage"] == pytest.approx(0.4)  # videos 5, 7, 9, 1
    assert first["creator_gini"] == pytest.approx(0.45)  # creator counts 3 1 1 0: 18 / (2 * 4 * 5)
    second = play_episode(env)[-1]["rec_metrics"]
    assert second["return"] == first["return"] and second["diversity"] == first["diversity"]  # per-episode sums restart
    assert second["creator_gini"] == pytest.approx(0.45)  # counts 6 2 2 0 over both episodes: same shares


def test_without_world_sizes_the_window_metrics_are_left_out():
    metrics = play_episode(RecordRecMetrics(ScriptedEnv()))[-1]["rec_metrics"]
    assert not {"catalogue_coverage", "creator_gini", "category_coverage", "diversity"} & set(metrics)
    assert metrics["watch_rate"] == pytest.approx(0.4)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"window": 0}, "window must be >= 1"),
    ({"buffer_length": 0}, "buffer_length must be a positive integer"),
    ({"categories": ("a", "a")}, "categories must be distinct"),
    ({"info_key": ""}, "info_key must be a non-empty string"),
])  # fmt: skip
def test_bad_wrapper_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecordRecMetrics(ScriptedEnv(), **kwargs)


def test_an_unknown_category_name_is_a_clear_error():
    env = RecordRecMetrics(ScriptedEnv(), categories=("x", "y"))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="info\\['category'\\] holds 'a', not one of categories"):
        env.step(0)


def test_impression_window_counts_the_last_impressions():
    window = ImpressionWindow(5, 4)
    window.add(np.array([0, 1, 1]))
    window.add_one(2)
    assert window.counts.tolist() == [1, 2, 1, 0, 0]
    window.add(np.array([4, 4, 3]))  # 0, 1, 1 leave
    assert window.counts.tolist() == [0, 0, 1, 1, 2] and window.filled == 4
    window.add(np.arange(5))  # more than the window: the last 4 stay
    assert window.counts.tolist() == [0, 1, 1, 1, 1]
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        window.add_one(5)


# ---------------------------------------------------------------------------------------------- real envs
def reference_metrics(steps, window_items, window_creators, n_categories, catalogue, n_creators):
    """The metrics of one episode from its recorded (reward, info) steps, computed without recgym.metrics."""
    rewards = [reward for reward, _ in steps]
    outcomes = [info["outcome"] for _, info in steps]
    categories = [info["category"] for _, info in steps]
    n = len(steps)
    pairs = list(itertools.combinations(categories, 2))
    counts = np.bincount(window_creators, minlength=n_creators).astype(float)
    return {
        "return": sum(rewards),
        "length": float(n),
        "watch_seconds": sum(info["watch_seconds"] for _, info in steps),
        "watch_rate": outcomes.count("watched") / n,
        "like_rate": outcomes.count("liked") / n,
        "skip_rate": outcomes.count("skipped") / n,
        "end_rate": outcomes.count("session_end") / n,
        "category_coverage": len(set(categories)) / n_categories,
        "diversity": sum(a != b for a, b in pairs) / len(pairs) if pairs else math.nan,
        "catalogue_coverage": len(set(window_items)) / catalogue,
        "creator_gini": sum(abs(a - b) for a in counts for b in counts) / (2 * n_creators * counts.sum()),
    }


def assert_metrics_equal(actual, expected):
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if math.isnan(value):
            assert math.isnan(actual[key]), key
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_single_short_video_env_metrics_equal_a_recomputation_from_the_infos():
    window = 25
    env = RecordRecMetrics(gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD), window=window)
    facts = catalogue_facts(env)
    assert (facts.catalogue_size, facts.n_creators) == (SMALL_WORLD["n_videos"], 20) and len(facts.categories) == 8
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    steps, items, creators, checked = [], [], [], 0
    while checked < 12:
        _, reward, terminated, truncated, info = env.step(int(rng.integers(10)))
        steps.append((reward, info))
        items.append(info["video"])
        creators.append(info["creator"])
        if terminated or truncated:
            expected = reference_metrics(steps, items[-window:], creators[-window:], 8, facts.catalogue_size, 20)
            assert_metrics_equal(info["rec_metrics"], expected)
            steps, checked = [], checked + 1
            env.reset()


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_wrapper_metrics_equal_a_recomputation_per_env(mode):
    n, window = 4, 40
    vec = gym.make_vec("RecGym-ShortVideoFatigue-v0", n, vectorization_mode="vector_entry_point", autoreset_mode=mode,
                       **SMALL_WORLD)  # fmt: skip
    env = RecordRecMetricsVector(vec, window=window)
    env.reset(seed=2)
    rng = np.random.default_rng(1)
    steps = [[] for _ in range(n)]
    items, creators = [], []
    resetting = np.zeros(n, dtype=bool)
    ended = 0
    for _ in range(150):
        _, rewards, terminated, truncated, infos = env.step(rng.integers(10, size=n))
        done = terminated | truncated
        for i in range(n):
            if resetting[i]:
                continue  # next_step: the reset step is no transition
            info = infos["final_info"] if done[i] and mode == AutoresetMode.SAME_STEP else infos
            row = {key: info[key][i] for key in ("outcome", "category", "watch_seconds")}
            steps[i].append((rewards[i], row))
            items.append(int(info["video"][i]))
            creators.append(int(info["creator"][i]))
        assert np.array_equal(infos.get("_rec_metrics", np.zeros(n, bool)), done)
        for i in np.flatnonzero(done):
            expected = reference_metrics(steps[i], items[-window:], creators[-window:], 8, SMALL_WORLD["n_videos"], 20)
            assert_metrics_equal({key: value[i] for key, value in infos["rec_metrics"].items()}, expected)
            steps[i] = []
            ended += 1
        for i in np.flatnonzero(~done):
            if "rec_metrics" in infos:
                assert all(math.isnan(value[i]) for value in infos["rec_metrics"].values())
        resetting = done if mode == AutoresetMode.NEXT_STEP else np.zeros(n, dtype=bool)
    assert ended > 40 and env.episode_count == ended and len(env.metrics_queue) == min(ended, 100)


def test_rating_env_reports_regret_and_coverage_but_no_categories():
    env = RecordRecMetrics(gym.make("RecGym-Ratings-v0", **SMALL_RATINGS_WORLD, max_steps=6))
    env.reset(seed=0)
    env.action_space.seed(0)
    regrets, items = [], []
    for _ in range(6):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        regrets.append(info["regret"])
        items.append(info["item"])
    assert truncated and not terminated
    metrics = info["rec_metrics"]
    assert set(metrics) == {"return", "length", "regret", "cumulative_regret", "zero_regret_rate", "catalogue_coverage"}
    assert metrics["regret"] == pytest.approx(np.mean(regrets)) and metrics["cumulative_regret"] == pytest.approx(sum(regrets))
    assert metrics["zero_regret_rate"] == pytest.approx(np.mean(np.array(regrets) == 0.0))
    assert metrics["catalogue_coverage"] == pytest.approx(len(set(items)) / SMALL_RATINGS_WORLD["n_items"])


def test_vector_wrapper_starts_masked_envs_on_a_masked_reset():
    vec = gym.make_vec("RecGym-ShortVideo-v0", 3, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    env = RecordRecMetricsVector(vec)
    env.reset(seed=0)
    env.step(np.zeros(3, dtype=np.int64))
    returns = env.recorder.returns.copy()
    env.reset(options={"reset_mask": np.array([True, False, False])})
    assert env.recorder.returns[0] == 0.0 and env.recorder.returns[1:].tolist() == returns[1:].tolist()
