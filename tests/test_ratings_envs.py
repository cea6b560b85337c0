"""``RecGym-Ratings-v0`` and ``RecGym-RatingsEmbedding-v0`` as single envs: checkers, observations, regret, the
nearest-item mapping, determinism, episodes, the oracle back door, the interaction log and argument checks."""

import re
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from helpers import RATINGS_IDS, SMALL_RATINGS_WORLD, assert_same, brute_force_regrets, expected_frame, ratings_actions
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from recgym.envs.ratings import RatingsEmbeddingEnv, RatingsEnv
from recgym.simulators.ratings import EMPTY
from recgym.simulators.ratings.nearest import brute_force_nearest

ITEM_ID, EMBEDDING_ID = RATINGS_IDS
INFO_KEYS = {"user", "item", "user_uid", "item_uid", "period", "rating", "mean_rating", "best_mean_rating", "regret"}


@pytest.fixture(params=RATINGS_IDS)
def ratings_id(request):
    return request.param


def make(env_id, **kwargs):
    return gym.make(env_id, **{**SMALL_RATINGS_WORLD, **kwargs})


def policy_action(env):
    """The deterministic test policy's action for the pending request."""
    base = env.unwrapped
    config = base.core.config
    return ratings_actions(base.spec.id, np.array([base.pending_user]), config.n_items, config.embedding_dim)[0]


def message_pattern(*fragments):
    return "(?s)" + "".join(f"(?=.*{re.escape(fragment)})" for fragment in fragments)


def frame_of(env, obs):
    """(items with -1 for empty, ratings) of a single observation, for either id and observation mode."""
    base = env.unwrapped
    layout, config = base.observation_layout, base.core.config
    flat = layout.flatten({k: np.asarray(v)[None] for k, v in obs.items()})[0] if isinstance(obs, dict) else obs
    ratings = flat[layout["frame_ratings"].flat_slice].astype(np.float64)
    if base.action_kind == "item":
        codes = flat[layout["frame_items"].flat_slice].astype(np.int64)
        return np.where(codes == config.n_items, EMPTY, codes), ratings
    mask = flat[layout["frame_mask"].flat_slice]
    rows = flat[layout["frame_embeddings"].flat_slice].reshape(config.frame_size, config.embedding_dim)
    embeddings = base.simulator.embeddings
    items = np.full(config.frame_size, EMPTY, dtype=np.int64)
    for j in np.flatnonzero(mask):
        matches = np.flatnonzero((embeddings == rows[j]).all(axis=1))
        assert len(matches) >= 1, "a frame row is not the embedding of any current item"
        items[j] = matches[0]
    assert not rows[mask == 0].any() and not ratings[mask == 0].any()
    return items, ratings


def assert_observation_matches_log(env, obs):
    """The observation shows the pending user's last ratings from the interaction log, newest first."""
    base = env.unwrapped
    sim, config = base.simulator, base.core.config
    user = base.pending_user
    log = base.interaction_log()
    items, ratings = expected_frame(log, sim.user_uid[user], sim.item_uid, config.frame_size)
    got_items, got_ratings = frame_of(env, obs)
    np.testing.assert_array_equal(items, sim.frame_items[user])
    if base.action_kind == "item":
        np.testing.assert_array_equal(got_items, items)
    else:  # duplicate embeddings cannot be told apart: compare the embeddings themselves
        padded = np.vstack([sim.embeddings, np.zeros((1, config.embedding_dim), np.float32)])
        np.testing.assert_array_equal(padded[got_items], padded[items])
    np.testing.assert_array_equal(got_ratings, ratings.astype(np.float32))


# ---------------------------------------------------------------------------------------------- checkers
@pytest.mark.parametrize("observation_mode", ["box", "dict"])
@pytest.mark.parametrize("checker", [gymnasium_check_env, sb3_check_env], ids=["gymnasium", "sb3"])
@pytest.mark.parametrize("world", [{}, {**SMALL_RATINGS_WORLD, "n_history": 2}], ids=["default", "small"])
def test_env_checkers_pass_with_warnings_as_errors(ratings_id, observation_mode, checker, world):
    env = gym.make(ratings_id, observation_mode=observation_mode, **world)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checker(env.unwrapped)
    expected = spaces.Box if observation_mode == "box" else spaces.Dict
    assert isinstance(env.observation_space, expected)
    assert isinstance(env.unwrapped, RatingsEnv if ratings_id == ITEM_ID else RatingsEmbeddingEnv)


def test_spaces_follow_the_layout(ratings_id):
    env = make(ratings_id)
    base = env.unwrapped
    layout = base.observation_layout
    k, dim = SMALL_RATINGS_WORLD["frame_size"], SMALL_RATINGS_WORLD["embedding_dim"]
    if ratings_id == ITEM_ID:
        assert env.action_space == spaces.Discrete(20)
        assert [f.name for f in layout] == ["user", "frame_items", "frame_ratings"]
        assert layout.size == 1 + 2 * k
    else:
        assert env.action_space == spaces.Box(-1.0, 1.0, (dim,), np.float32)
        assert [f.name for f in layout] == ["frame_embeddings", "frame_ratings", "frame_mask"]
        assert layout.size == k * dim + 2 * k
    assert env.observation_space.shape == (layout.size,)


# ---------------------------------------------------------------------------------------------- observations
@pytest.mark.parametrize(
    "world",
    [{}, {"n_history": 6}, {"n_history": 2, "new_users_per_period": 1.5, "new_items_per_period": 3.0, "user_drift_std": 0.05}],
    ids=["plain", "history", "arrivals"],
)
def test_observation_frame_is_the_users_last_ratings_from_the_log(ratings_id, world):
    env = make(ratings_id, max_steps=10**6, **world)
    obs, info = env.reset(seed=3)
    assert info["user"] == env.unwrapped.pending_user
    seen_empty = seen_full = 0
    for _ in range(12 * 8):
        assert_observation_matches_log(env, obs)
        items, _ = frame_of(env, obs)
        seen_empty += (items == EMPTY).all()
        seen_full += (items != EMPTY).all()
        if ratings_id == ITEM_ID:
            assert obs[env.unwrapped.observation_layout["user"].offset] == env.unwrapped.pending_user
        obs, _, _, _, info = env.step(policy_action(env))
    assert seen_full > 0 and (seen_empty > 0 or world.get("n_history", 0) >= SMALL_RATINGS_WORLD["frame_size"])


def test_dict_observations_are_the_unflattened_box_observations(ratings_id):
    kwargs = {"n_history": 3, "new_users_per_period": 1.0, "new_items_per_period": 2.0, "max_steps": 10**6}
    box, dict_env = make(ratings_id, **kwargs), make(ratings_id, observation_mode="dict", **kwargs)
    layout = box.unwrapped.observation_layout
    obs_box, _ = box.reset(seed=8)
    obs_dict, _ = dict_env.reset(seed=8)
    for _ in range(50):
        unflattened = layout.unflatten(obs_box[None])
        assert set(obs_dict) == set(unflattened) and dict_env.observation_space.contains(obs_dict)
        for key, value in unflattened.items():
            np.testing.assert_array_equal(np.asarray(obs_dict[key]), value[0])
            assert np.asarray(obs_dict[key]).dtype == value.dtype
        action = policy_action(box)
        obs_box, reward_box, *_ = box.step(action)
        obs_dict, reward_dict, *_ = dict_env.step(action)
        assert reward_box == reward_dict


def test_embedding_frame_rows_are_the_embeddings_of_the_frame_items():
    env = make(EMBEDDING_ID, n_history=3, new_items_per_period=3.0, max_steps=10**6, observation_mode="dict")
    obs, _ = env.reset(seed=4)
    k, dim = SMALL_RATINGS_WORLD["frame_size"], SMALL_RATINGS_WORLD["embedding_dim"]
    for _ in range(60):
        sim = env.unwrapped.simulator
        items = sim.frame_items[env.unwrapped.pending_user]
        rows = obs["frame_embeddings"].reshape(k, dim)
        for j, item in enumerate(items):
            expected = sim.embeddings[item] if item != EMPTY else np.zeros(dim, np.float32)
            np.testing.assert_array_equal(rows[j], expected)
        np.testing.assert_array_equal(obs["frame_mask"], items != EMPTY)
        obs, *_ = env.step(policy_action(env))


def test_embedding_frames_are_rebuilt_after_a_seeded_reset():
    env = make(EMBEDDING_ID, n_history=3)
    env.reset(seed=0)
    obs, _ = env.reset(seed=1)
    fresh, _ = make(EMBEDDING_ID, n_history=3).reset(seed=1)
    sim = env.unwrapped.simulator
    items = sim.frame_items[env.unwrapped.pending_user]
    k, dim = SMALL_RATINGS_WORLD["frame_size"], SMALL_RATINGS_WORLD["embedding_dim"]
    np.testing.assert_array_equal(obs[: k * dim].reshape(k, dim)[items != EMPTY], sim.embeddings[items[items != EMPTY]])
    np.testing.assert_array_equal(obs, fresh)


def test_ground_truth_is_not_in_the_observation(ratings_id):
    env = make(ratings_id, n_history=4, max_steps=10**6)
    obs, _ = env.reset(seed=5)
    sim = env.unwrapped.simulator
    hidden = np.concatenate([sim.user_attributes.ravel(), sim.item_attributes.ravel(), sim.best_mean_rating]).astype(np.float32)
    for _ in range(30):
        assert obs.shape == (env.unwrapped.observation_layout.size,)
        assert not np.isin(obs, hidden).any()
        obs, *_ = env.step(policy_action(env))


# ---------------------------------------------------------------------------------------------- regret and items
@pytest.mark.parametrize(
    "world",
    [{}, {"new_users_per_period": 2.0, "new_items_per_period": 3.0}, {"user_drift_std": 0.1, "new_items_per_period": 1.0}],
    ids=["plain", "arrivals", "drift"],
)
def test_regret_equals_brute_force(ratings_id, world):
    env = make(ratings_id, max_steps=10**6, n_history=1, **world)
    env.reset(seed=6)
    sim = env.unwrapped.simulator
    n = SMALL_RATINGS_WORLD["n_users"]
    zero_regrets = 0
    for step in range(n * 6):
        users_p, items_q = sim.user_attributes.copy(), sim.item_attributes.copy()
        action = policy_action(env) if step % 3 else env.unwrapped.oracle_action()
        _, reward, terminated, truncated, info = env.step(action)
        assert set(info) == INFO_KEYS and not terminated and not truncated
        expected = brute_force_regrets(users_p, items_q, [info["user"]], [info["item"]])[0]
        assert info["regret"] == pytest.approx(expected, abs=1e-12)
        assert info["regret"] >= 0.0
        assert info["mean_rating"] == pytest.approx(float(users_p[info["user"]] @ items_q[info["item"]]), abs=1e-12)
        assert info["best_mean_rating"] == pytest.approx(float((users_p[info["user"]] @ items_q.T).max()), abs=1e-12)
        assert reward == info["rating"]
        if info["item"] == int(np.argmax(users_p[info["user"]] @ items_q.T)):
            assert info["regret"] == 0.0
            zero_regrets += 1
    assert zero_regrets >= n * 2


def test_oracle_action_has_exactly_zero_regret_on_the_item_id():
    env = make(ITEM_ID, max_steps=10**6, new_users_per_period=1.0, new_items_per_period=2.0, user_drift_std=0.05)
    env.reset(seed=7)
    for _ in range(12 * 5):
        best = env.unwrapped.simulator.best_item[env.unwrapped.pending_user]
        action = env.unwrapped.oracle_action()
        assert isinstance(action, int) and action == best
        _, _, _, _, info = env.step(action)
        assert info["regret"] == 0.0 and info["item"] == best


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_oracle_action_has_near_zero_regret_on_the_embedding_id(metric):
    env = make(EMBEDDING_ID, metric=metric, max_steps=10**6, new_items_per_period=2.0, embedding_noise=0.3)
    env.reset(seed=8)
    regrets = []
    for _ in range(12 * 5):
        action = env.unwrapped.oracle_action()
        assert env.action_space.contains(action)
        regrets.append(env.step(action)[4]["regret"])
    assert max(regrets) < 1e-9


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("exclude_consumed", [False, True])
def test_embedding_action_maps_to_the_brute_force_nearest_item(metric, exclude_consumed):
    env = make(EMBEDDING_ID, metric=metric, exclude_consumed=exclude_consumed, n_history=2, max_steps=10**6,
               new_items_per_period=1.0)
    env.reset(seed=9)
    rng = np.random.default_rng(0)
    for step in range(12 * 6):
        sim = env.unwrapped.simulator
        embeddings = sim.embeddings.copy()
        user = env.unwrapped.pending_user
        excluded = sim.consumed[user][None].copy() if exclude_consumed else None
        action = rng.uniform(-1.2, 1.2, size=5) if step % 2 else policy_action(env)
        info = env.step(action)[4]
        assert info["item"] == brute_force_nearest(embeddings, action[None], metric, excluded)[0]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exclude_consumed_never_repeats_an_item_until_all_are_rated(metric):
    n_users, n_items = 4, 6
    env = gym.make(EMBEDDING_ID, n_users=n_users, n_items=n_items, n_history=2, embedding_dim=3, metric=metric,
                   exclude_consumed=True, max_steps=10**6)
    env.reset(seed=10)
    rated = {user: set() for user in range(n_users)}
    for row in env.unwrapped.interaction_log().itertuples():
        rated[row.user].add(row.item)
    exhausted = 0
    for _ in range(n_users * 9):
        user = env.unwrapped.pending_user
        info = env.step(policy_action(env))[4]  # the same vector for a user every time
        if len(rated[user]) < n_items:
            assert info["item"] not in rated[user]
        else:
            exhausted += 1
        rated[user].add(info["item"])
        assert env.unwrapped.simulator.consumed[user].sum() == len(rated[user])
    assert exhausted > 0
    without = gym.make(EMBEDDING_ID, n_users=n_users, n_items=n_items, n_history=2, embedding_dim=3, metric=metric,
                       max_steps=10**6)
    without.reset(seed=10)
    items = [without.step(policy_action(without))[4]["item"] for _ in range(n_users * 3)]
    assert len(set(items)) <= n_users  # the same vector per user always maps to the same item


# ---------------------------------------------------------------------------------------------- determinism
def run(env, seed, steps, resets=False):
    obs, info = env.reset(seed=seed)
    trajectory = [(obs, info)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(policy_action(env))
        trajectory.append((obs, reward, terminated, truncated, info))
        if truncated and resets:
            trajectory.append(env.reset())
    return trajectory, env.unwrapped.interaction_log()


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_same_seed_and_actions_give_identical_trajectories_and_logs(ratings_id, observation_mode):
    kwargs = {"n_history": 2, "new_users_per_period": 1.0, "new_items_per_period": 1.0, "user_drift_std": 0.05,
              "observation_mode": observation_mode}
    first, log_first = run(make(ratings_id, **kwargs), 11, 40, resets=True)
    second, log_second = run(make(ratings_id, **kwargs), 11, 40, resets=True)
    assert_same(first, second)
    pd.testing.assert_frame_equal(log_first, log_second)
    _, other = run(make(ratings_id, **kwargs), 12, 40, resets=True)
    assert not log_first["rating"].equals(other["rating"])


def test_episodes_truncate_at_max_steps_and_never_terminate(ratings_id):
    env = make(ratings_id)
    assert env.unwrapped.core.max_steps == SMALL_RATINGS_WORLD["n_users"]
    env.reset(seed=0)
    for step in range(1, 13):
        _, _, terminated, truncated, _ = env.step(policy_action(env))
        assert not terminated and truncated == (step == 12)
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(policy_action(env))
    short = make(ratings_id, max_steps=5)
    short.reset(seed=0)
    flags = [short.step(policy_action(short))[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]


def test_unseeded_reset_continues_the_stream_and_seeded_reset_rebuilds_the_world(ratings_id):
    n = SMALL_RATINGS_WORLD["n_users"]
    env = make(ratings_id, max_steps=5, n_history=2)
    obs, info = env.reset(seed=13)
    served = []
    for _ in range(6):  # 6 episodes of 5 steps = 30 requests = 2.5 periods
        for _ in range(5):
            obs, _, _, truncated, step_info = env.step(policy_action(env))
            served.append((step_info["period"], step_info["user"]))
        assert truncated
        pending = env.unwrapped.pending_user
        reset_obs, reset_info = env.reset()
        np.testing.assert_array_equal(reset_obs, obs)  # the pending request is kept: no request lost
        assert reset_info["user"] == pending
    for period in (0, 1):
        assert sorted(user for p, user in served if p == period) == list(range(n))
    # The same 30 requests in one long episode.
    long = make(ratings_id, max_steps=10**6, n_history=2)
    long.reset(seed=13)
    assert [(i["period"], i["user"]) for i in (long.step(policy_action(long))[4] for _ in range(30))] == served
    pd.testing.assert_frame_equal(long.unwrapped.interaction_log(), env.unwrapped.interaction_log())
    # A seeded reset draws a new world from scratch.
    obs, info = env.reset(seed=14)
    fresh = make(ratings_id, max_steps=5, n_history=2)
    fresh_obs, fresh_info = fresh.reset(seed=14)
    assert info == fresh_info and len(env.unwrapped.interaction_log()) == 2 * n
    pd.testing.assert_frame_equal(env.unwrapped.interaction_log(), fresh.unwrapped.interaction_log())
    np.testing.assert_array_equal(env.unwrapped.simulator.user_attributes, fresh.unwrapped.simulator.user_attributes)
    if ratings_id == ITEM_ID:  # (the embedding id: see test_embedding_frames_are_rebuilt_after_a_seeded_reset)
        np.testing.assert_array_equal(obs, fresh_obs)


# ---------------------------------------------------------------------------------------------- interaction log
def test_interaction_log_has_history_plus_steps_rows_and_consistent_columns(ratings_id):
    env = make(ratings_id, n_history=3, max_steps=7)
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.interaction_log()
    env.reset(seed=15)
    n = SMALL_RATINGS_WORLD["n_users"]
    infos = []
    for steps in range(1, 20):
        infos.append(env.step(policy_action(env))[4])
        if len(infos) % 7 == 0:
            env.reset()
        log = env.unwrapped.interaction_log()
        assert len(log) == 3 * n + steps
    assert list(log.columns) == ["period", "user", "item", "user_uid", "item_uid", "rating", "mean_rating",
                                 "best_mean_rating", "regret"]
    assert (log["period"].iloc[: 3 * n] == -1).all()
    steps = log.iloc[3 * n :]
    for column in ("period", "user", "item", "user_uid", "item_uid", "rating", "mean_rating", "best_mean_rating"):
        np.testing.assert_array_equal(steps[column].to_numpy(), [info[column] for info in infos])
    np.testing.assert_allclose(steps["regret"], [info["regret"] for info in infos], atol=1e-12)
    assert (log["regret"] >= 0).all()


def test_interaction_log_regret_is_exactly_the_info_regret():
    env = make(ITEM_ID, n_users=40, n_items=50, n_features=10, max_steps=10**6)
    env.reset(seed=0)
    infos = [env.step(env.unwrapped.oracle_action())[4] for _ in range(200)]
    log = env.unwrapped.interaction_log()
    assert all(info["regret"] == 0.0 for info in infos)
    np.testing.assert_array_equal(log["regret"].to_numpy(), [info["regret"] for info in infos])


def test_info_uids_are_the_uids_of_the_served_user_and_item(ratings_id):
    env = make(ratings_id, new_users_per_period=2.0, new_items_per_period=3.0, max_steps=10**6)
    env.reset(seed=17)
    for _ in range(30 * SMALL_RATINGS_WORLD["n_users"]):
        info = env.step(policy_action(env))[4]
        log = env.unwrapped.interaction_log()
        assert (info["user_uid"], info["item_uid"]) == (log["user_uid"].iloc[-1], log["item_uid"].iloc[-1])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_interaction_log_round_trips_and_is_never_overwritten_by_accident(ratings_id, suffix, tmp_path):
    env = make(ratings_id, n_history=2, new_users_per_period=1.0, max_steps=10**6)
    env.reset(seed=16)
    for _ in range(30):
        env.step(policy_action(env))
    log = env.unwrapped.interaction_log()
    path = tmp_path / f"log{suffix}"
    assert env.unwrapped.save_interaction_log(path) == path
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(path), log)
    else:
        read = pd.read_csv(path)
        pd.testing.assert_frame_equal(read, log, check_dtype=False)
        assert (read.dtypes[["period", "user", "item"]] == np.int64).all()
    before = path.read_bytes()
    env.step(policy_action(env))
    with pytest.raises(FileExistsError, match="overwrite"):
        env.unwrapped.save_interaction_log(path)
    assert path.read_bytes() == before
    env.unwrapped.save_interaction_log(path, overwrite=True)
    reread = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert len(reread) == len(log) + 1
    with pytest.raises(ValueError, match="format"):
        env.unwrapped.save_interaction_log(tmp_path / "log.txt")


# ---------------------------------------------------------------------------------------------- arguments
def value_case(env_id, kwargs, *fragments):
    return pytest.param(env_id, kwargs, fragments, id=f"{env_id[7:-3]}-" + ",".join(f"{k}={v!r}"[:30] for k, v in kwargs.items()))


INVALID_KWARGS = [
    *(value_case(env_id, {"n_users": 0}, "n_users", "0") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"n_items": -1}, "n_items", "-1") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"attribute_distribution": "gamma"}, "attribute_distribution", "'gamma'") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"attribute_params": (2.0, 1.0)}, "attribute_params", "(2.0, 1.0)") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"foo": 1}, "foo") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"max_steps": 0}, "max_steps", "0") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"observation_mode": "tuple"}, "observation_mode", "'tuple'") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"user_attributes": np.ones((3, 2)), "item_attributes": np.ones((4, 3)), "n_users": None,
                          "n_items": None, "n_features": None}, "user_attributes", "item_attributes") for env_id in RATINGS_IDS),
    *(value_case(env_id, {"item_attributes": np.array([[0.5, np.nan]]), "n_items": None, "n_features": None},
                 "item_attributes", "finite") for env_id in RATINGS_IDS),
    value_case(ITEM_ID, {"metric": "cosine"}, "metric"),
    value_case(ITEM_ID, {"exclude_consumed": True}, "exclude_consumed"),
    value_case(EMBEDDING_ID, {"metric": "manhattan"}, "metric", "'manhattan'"),
    value_case(EMBEDDING_ID, {"exclude_consumed": 1}, "exclude_consumed", "1"),
]


@pytest.mark.parametrize(("env_id", "kwargs", "fragments"), INVALID_KWARGS)
def test_invalid_arguments_raise_value_error_naming_parameter_and_value(env_id, kwargs, fragments):
    with pytest.raises(ValueError, match=message_pattern(*fragments)):
        make(env_id, **kwargs)


@pytest.mark.parametrize("action", [20, -1, 2.5, np.array([1, 2]), "3", True])
def test_invalid_item_actions_raise_value_error(action):
    env = make(ITEM_ID)
    env.reset(seed=0)
    log_length = len(env.unwrapped.interaction_log())
    with pytest.raises(ValueError, match=message_pattern("action", "[0, 20)")):
        env.unwrapped.step(action)
    assert len(env.unwrapped.interaction_log()) == log_length
    assert env.unwrapped.step(np.int64(19))[4]["item"] == 19
    assert env.unwrapped.step(3.0)[4]["item"] == 3  # a whole float (SB3, JSON) is an item number


@pytest.mark.parametrize(
    ("action", "fragment"),
    [(np.zeros(4), "(4,)"), (np.zeros((1, 5)), "(1, 5)"), (np.array([0, 0, np.nan, 0, 0]), "finite"),
     (np.array([0, np.inf, 0, 0, 0]), "finite"), (0.5, "()")],
)
def test_invalid_embedding_actions_raise_value_error(action, fragment):
    env = make(EMBEDDING_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message_pattern("action", fragment)):
        env.unwrapped.step(action)
    assert len(env.unwrapped.interaction_log()) == 0
    assert env.unwrapped.step(np.full(5, 3.0))[4]["item"] >= 0  # outside the box is still well defined


@pytest.mark.parametrize("cls", [RatingsEnv, RatingsEmbeddingEnv])
def test_unknown_render_mode_raises_value_error(cls):
    with pytest.raises(ValueError, match=message_pattern("render_mode", "'human'")):
        cls(render_mode="human", **SMALL_RATINGS_WORLD)


def test_step_before_reset_raises(ratings_id):
    env = make(ratings_id).unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0 if ratings_id == ITEM_ID else np.zeros(5))


def test_ansi_render_describes_the_last_rating(ratings_id):
    env = make(ratings_id, render_mode="ansi")
    env.reset(seed=0)
    user = env.unwrapped.pending_user
    env.step(policy_action(env))
    text = env.render()
    assert f"user {user} got item" in text and "regret" in text
