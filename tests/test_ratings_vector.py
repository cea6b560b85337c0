"""The native vector envs of the rating ids: a step with ``num_envs = n_users`` is one period and equals ``n_users``
single steps; per-rating noise; cold start; regret; Gymnasium's autoreset modes; argument checks."""

import re

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from helpers import RATINGS_IDS, SMALL_RATINGS_WORLD, brute_force_regrets, expected_frame, ratings_actions

from recgym.envs.ratings_vector import RatingsEmbeddingVectorEnv, RatingsVectorEnv
from recgym.simulators.ratings import EMPTY, RatingsSimulator, dense_best_items

ITEM_ID, EMBEDDING_ID = RATINGS_IDS
N = SMALL_RATINGS_WORLD["n_users"]
STEP_KEYS = ("user", "item", "user_uid", "item_uid", "period", "rating", "mean_rating", "best_mean_rating", "regret")


@pytest.fixture(params=RATINGS_IDS)
def ratings_id(request):
    return request.param


def make_vec(env_id, num_envs=N, **kwargs):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **{**SMALL_RATINGS_WORLD, **kwargs})


def vec_actions(env, users=None):
    base = env.unwrapped
    config = base.core.config
    users = base.pending_users if users is None else users
    env_id = ITEM_ID if base.core.action_kind == "item" else EMBEDDING_ID
    return ratings_actions(env_id, users, config.n_items, config.embedding_dim)


def message_pattern(*fragments):
    return "(?s)" + "".join(f"(?=.*{re.escape(fragment)})" for fragment in fragments)


def has(info, key, i):
    return key in info and bool(info[f"_{key}"][i])


# ---------------------------------------------------------------------------------------------- spaces
@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_vector_spaces_are_the_batched_single_spaces(ratings_id, observation_mode):
    env = make_vec(ratings_id, num_envs=5, observation_mode=observation_mode)
    single = gym.make(ratings_id, observation_mode=observation_mode, **SMALL_RATINGS_WORLD)
    assert isinstance(env.unwrapped, RatingsVectorEnv if ratings_id == ITEM_ID else RatingsEmbeddingVectorEnv)
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space == batch_space(single.observation_space, 5)
    assert env.action_space == batch_space(single.action_space, 5)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.action_space.seed(0)
    for _ in range(30):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert reward.shape == terminated.shape == truncated.shape == (5,) and reward.dtype == np.float64
    if ratings_id == ITEM_ID:
        assert env.action_space == spaces.MultiDiscrete(np.full(5, 20))


# ---------------------------------------------------------------------------------------------- vector == single
WORLDS = {
    "plain": {"n_history": 2},
    "arrivals+drift": {"n_history": 2, "new_users_per_period": 1.5, "new_items_per_period": 2.5, "user_drift_std": 0.05},
    "exclude": {"n_history": 3, "new_items_per_period": 1.0, "exclude_consumed": True, "metric": "cosine"},
}


def world_cases():
    return list(_world_cases())


def _world_cases():
    for name, world in WORLDS.items():
        for env_id in RATINGS_IDS:
            if "exclude_consumed" in world and env_id == ITEM_ID:
                continue
            for mode in ("box", "dict"):
                yield pytest.param(env_id, world, mode, id=f"{env_id[7:-3]}-{name}-{mode}")


def single_equivalent_of(obs, j):
    return {k: v[j] for k, v in obs.items()} if isinstance(obs, dict) else obs[j]


def assert_obs_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]))
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("env_id", "world", "observation_mode"), world_cases())
def test_a_vector_step_equals_n_users_single_steps(env_id, world, observation_mode):
    kwargs = {**world, "observation_mode": observation_mode, "max_steps": 10**6}
    vec = make_vec(env_id, **kwargs)
    single = gym.make(env_id, **{**SMALL_RATINGS_WORLD, **kwargs})
    vec_obs, vec_info = vec.reset(seed=21)
    obs, info = single.reset(seed=21)
    np.testing.assert_array_equal(vec_info["user"], vec.unwrapped.pending_users)
    for period in range(6):
        users = vec.unwrapped.pending_users
        actions = vec_actions(vec)
        single_infos, single_rewards = [], []
        for j in range(N):
            assert single.unwrapped.pending_user == users[j]
            assert_obs_equal(single_equivalent_of(vec_obs, j), obs)
            obs, reward, terminated, truncated, info = single.step(actions[j])
            assert not terminated and not truncated
            single_infos.append(info)
            single_rewards.append(reward)
        vec_obs, rewards, terminated, truncated, vec_info = vec.step(actions)
        assert not terminated.any() and not truncated.any()
        np.testing.assert_array_equal(rewards, single_rewards)
        for key in STEP_KEYS:
            assert vec_info[f"_{key}"].all()
            np.testing.assert_array_equal(vec_info[key], [i[key] for i in single_infos], err_msg=key)
        assert (vec_info["period"] == period).all()
        assert vec.unwrapped.simulator.period == single.unwrapped.simulator.period == period + 1
        for name in ("user_attributes", "item_attributes", "embeddings", "best_item", "user_uid", "item_uid", "frame_items"):
            np.testing.assert_array_equal(getattr(vec.unwrapped.simulator, name), getattr(single.unwrapped.simulator, name))
    assert_obs_equal(single_equivalent_of(vec_obs, 0), obs)
    pd.testing.assert_frame_equal(vec.unwrapped.interaction_log(), single.unwrapped.interaction_log())


@pytest.mark.parametrize("num_envs", [1, 5, 7])
def test_fewer_envs_walk_the_same_request_stream(ratings_id, num_envs):
    kwargs = {"n_history": 1, "max_steps": 10**6}
    vec = make_vec(ratings_id, num_envs=num_envs, **kwargs)
    single = gym.make(ratings_id, **{**SMALL_RATINGS_WORLD, **kwargs})
    vec.reset(seed=22)
    single.reset(seed=22)
    steps = 4 * N // num_envs + 1
    for _ in range(steps):
        actions = vec_actions(vec)
        for j, user in enumerate(vec.unwrapped.pending_users):
            assert single.unwrapped.pending_user == user
            single.step(actions[j])
        vec.step(actions)
    log = vec.unwrapped.interaction_log()
    pd.testing.assert_frame_equal(log, single.unwrapped.interaction_log())
    assert len(log) == N + steps * num_envs
    for period in range(4):
        assert sorted(log.loc[log["period"] == period, "user"]) == list(range(N))


def test_one_vector_step_is_exactly_one_period(ratings_id):
    env = make_vec(ratings_id, max_steps=10**6, new_users_per_period=1.0)
    _, info = env.reset(seed=23)
    assert (info["period"] == 0).all() and sorted(info["user"]) == list(range(N))
    sim = env.unwrapped.simulator
    orders = set()
    for period in range(8):
        assert sim.period == period and sim.requests_left_in_period == 0
        users = env.unwrapped.pending_users
        assert sorted(users) == list(range(N))
        orders.add(tuple(users))
        _, _, _, _, info = env.step(vec_actions(env))
        np.testing.assert_array_equal(info["user"], users)
        assert (info["period"] == period).all()
        assert len(set(info["user_uid"])) == N
    assert len(orders) > 1



@pytest.mark.parametrize("num_envs", [1, N])
def test_info_uids_are_the_served_uids(ratings_id, num_envs):
    env = make_vec(ratings_id, num_envs=num_envs, new_users_per_period=2.0, new_items_per_period=3.0, max_steps=10**6)
    env.reset(seed=31)
    log = env.unwrapped.interaction_log
    for _ in range(30 * N // num_envs):
        info = env.step(vec_actions(env))[4]
        rows = log().iloc[-num_envs:]
        np.testing.assert_array_equal(info["user_uid"], rows["user_uid"].to_numpy())
        np.testing.assert_array_equal(info["item_uid"], rows["item_uid"].to_numpy())


def repeats_before_exhaustion(log, n_items):
    repeats = 0
    for _, rows in log.groupby("user_uid"):
        seen = set()
        for item_uid in rows["item_uid"]:
            repeats += item_uid in seen and len(seen) < n_items
            seen.add(item_uid)
    return repeats


def test_exclude_consumed_holds_in_a_vector_step_of_all_users():
    env = make_vec(EMBEDDING_ID, num_envs=4, n_users=4, n_items=30, n_history=2, exclude_consumed=True, max_steps=10**6)
    env.reset(seed=32)
    for _ in range(40):  # 40 ratings per user: every user exhausts the catalogue once
        env.step(np.tile(np.linspace(-0.5, 0.5, 5), (4, 1)))
    assert repeats_before_exhaustion(env.unwrapped.interaction_log(), 30) == 0


def test_exclude_consumed_holds_when_a_user_appears_twice_in_one_step():
    env = make_vec(EMBEDDING_ID, num_envs=3, n_users=4, n_items=50, embedding_dim=3, exclude_consumed=True,
                   max_steps=10**6)
    env.reset(seed=0)
    for _ in range(60):  # 45 ratings per user: none exhausts the catalogue
        env.step(np.tile([0.3, -0.2, 0.5], (3, 1)))
    assert repeats_before_exhaustion(env.unwrapped.interaction_log(), 50) == 0


# ---------------------------------------------------------------------------------------------- noise
def noise_defects(residuals, noise_std):
    """What is wrong with ``(steps, num_envs)`` residuals (rating - mean, stream order) as independent
    Normal(0, noise_std) noise; an empty list when nothing is."""
    flat = residuals.ravel()
    n = flat.size
    defects = []
    if abs(flat.std() / noise_std - 1) > 0.05:
        defects.append(f"std {flat.std():.4f} is not {noise_std}")
    if abs(flat.mean()) > 5 * noise_std / np.sqrt(n):
        defects.append(f"mean {flat.mean():.4f} is not 0")
    lag1 = np.corrcoef(flat[:-1], flat[1:])[0, 1] if flat.std() > 0 else 1.0
    if not abs(lag1) < 5 / np.sqrt(n):
        defects.append(f"consecutive requests correlate ({lag1:.3f})")
    if residuals.shape[1] > 1:
        spread = np.sqrt(residuals.var(axis=1, ddof=1).mean())  # pooled within-step std (unbiased variance)
        if abs(spread / noise_std - 1) > 0.05:
            defects.append(f"within-step std {spread:.4f} is not {noise_std}")
        half = residuals.shape[1] // 2
        a, b = residuals[:, :half].ravel(), residuals[:, half : 2 * half].ravel()
        same_step = np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else 1.0
        if not abs(same_step) < 5 / np.sqrt(len(a)):
            defects.append(f"requests of one step correlate ({same_step:.3f})")
    return defects


def collect_residuals(env, steps):
    env.reset(seed=24)
    rows = []
    for _ in range(steps):
        info = env.step(vec_actions(env))[4]
        rows.append(info["rating"] - info["mean_rating"])
    return np.array(rows)


def test_the_noise_checker_catches_one_shared_noise_value_per_batch():
    rng = np.random.default_rng(0)
    assert noise_defects(0.3 * rng.standard_normal((40, 300)), 0.3) == []
    shared = np.repeat(0.3 * rng.standard_normal((40, 1)), 300, axis=1)
    assert len(noise_defects(shared, 0.3)) >= 2
    assert noise_defects(0.36 * rng.standard_normal((40, 300)), 0.3) != []
    assert noise_defects(0.3 * rng.standard_normal((40, 300)) + 0.05, 0.3) != []
    ar = rng.standard_normal(12000)
    ar[1:] += 0.5 * ar[:-1]
    assert noise_defects((0.3 / ar.std()) * ar.reshape(40, 300), 0.3) != []


@pytest.mark.parametrize("noise_std", [0.1, 0.5])
@pytest.mark.parametrize("num_envs", [300, 7])
def test_rating_noise_is_independent_per_rating_with_the_configured_std(ratings_id, noise_std, num_envs):
    env = make_vec(ratings_id, num_envs=num_envs, n_users=300, n_items=10, n_features=3, noise_std=noise_std,
                   max_steps=10**6)
    residuals = collect_residuals(env, 40 if num_envs == 300 else 1500)
    assert residuals.size >= 10_000
    assert noise_defects(residuals, noise_std) == []


def test_a_shared_noise_value_per_period_would_fail_the_noise_test(monkeypatch):
    """The seed's defect, re-created: one noise value per batch (period) must be detected by the test above."""
    original = RatingsSimulator._start_period

    def shared_noise_period(self, rng):
        original(self, rng)
        self._noise[:] = self._noise[0]

    monkeypatch.setattr(RatingsSimulator, "_start_period", shared_noise_period)
    env = make_vec(ITEM_ID, num_envs=300, n_users=300, n_items=10, n_features=3, noise_std=0.1, max_steps=10**6)
    residuals = collect_residuals(env, 40)
    np.testing.assert_allclose(residuals, np.repeat(residuals[:, :1], 300, axis=1), atol=1e-12)
    assert len(noise_defects(residuals, 0.1)) >= 2


# ---------------------------------------------------------------------------------------------- regret
@pytest.mark.parametrize("world", [WORLDS["plain"], WORLDS["arrivals+drift"]], ids=["plain", "arrivals+drift"])
def test_vector_regret_equals_brute_force_and_oracle_gets_zero(ratings_id, world):
    env = make_vec(ratings_id, max_steps=10**6, **world)
    env.reset(seed=25)
    sim = env.unwrapped.simulator
    for step in range(10):
        users_p, items_q = sim.user_attributes.copy(), sim.item_attributes.copy()
        oracle = step % 2 == 1
        info = env.step(env.unwrapped.oracle_actions() if oracle else vec_actions(env))[4]
        expected = brute_force_regrets(users_p, items_q, info["user"], info["item"])
        np.testing.assert_allclose(info["regret"], expected, atol=1e-12)
        assert (info["regret"] >= 0).all()
        best = (users_p[info["user"]] @ items_q.T).argmax(axis=1)
        assert (info["regret"][info["item"] == best] == 0.0).all()
        if oracle:
            assert (info["regret"] < 1e-9).all()
            if ratings_id == ITEM_ID:
                assert (info["regret"] == 0.0).all() and (info["item"] == best).all()


# ---------------------------------------------------------------------------------------------- cold start
@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_cold_start_users_and_items_arrive_at_the_configured_rates(ratings_id, observation_mode):
    env = make_vec(ratings_id, num_envs=20, n_users=20, n_items=30, n_history=2, new_users_per_period=1.5,
                   new_items_per_period=2.5, max_steps=10**6, observation_mode=observation_mode)
    obs, _ = env.reset(seed=26)
    base = env.unwrapped
    sim, layout = base.simulator, base.observation_layout
    new_users, new_items = [], []
    for _ in range(300):
        user_uid, item_uid = sim.user_uid.copy(), sim.item_uid.copy()
        obs, *_ = env.step(vec_actions(env))
        changed_users = np.flatnonzero(sim.user_uid != user_uid)
        changed_items = np.flatnonzero(sim.item_uid != item_uid)
        new_users.append(len(changed_users))
        new_items.append(len(changed_items))
        flat = layout.flatten(obs) if isinstance(obs, dict) else obs
        slot_of = {user: j for j, user in enumerate(base.pending_users)}
        for user in changed_users:
            row = flat[slot_of[user]]
            assert sim.n_ratings[user] == 0
            assert not row[layout["frame_ratings"].flat_slice].any()
            if ratings_id == ITEM_ID:
                assert (row[layout["frame_items"].flat_slice] == 30).all()
            else:
                assert not row[layout["frame_mask"].flat_slice].any() and not row[layout["frame_embeddings"].flat_slice].any()
        if ratings_id == ITEM_ID:
            assert not np.isin(flat[:, layout["frame_items"].flat_slice], changed_items).any()
        assert not np.isin(sim.frame_items, changed_items).any()
        best, best_mean = dense_best_items(sim.user_attributes, sim.item_attributes)
        np.testing.assert_array_equal(sim.best_item, best)
        np.testing.assert_allclose(sim.best_mean_rating, best_mean, rtol=1e-13, atol=1e-13)
    for counts, rate in ((new_users, 1.5), (new_items, 2.5)):
        assert abs(np.mean(counts) - rate) < 5 * np.sqrt(rate / len(counts)), (np.mean(counts), rate)
    log = base.interaction_log()
    for user in range(20):  # the frames still match the log after 300 periods of arrivals
        items, _ = expected_frame(log, sim.user_uid[user], sim.item_uid, SMALL_RATINGS_WORLD["frame_size"])
        np.testing.assert_array_equal(sim.frame_items[user], items)
    assert (sim.frame_items != EMPTY).any()


# ---------------------------------------------------------------------------------------------- autoreset
def test_next_step_autoreset_gives_reward_zero_and_keeps_the_pending_request(ratings_id):
    env = make_vec(ratings_id, num_envs=4, max_steps=3, n_history=1)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = env.reset(seed=27)
    log = env.unwrapped.interaction_log
    for step in range(1, 4):
        obs, rewards, terminated, truncated, info = env.step(vec_actions(env))
        assert not terminated.any() and truncated.all() == (step == 3) and (rewards != 0).all()
    pending = env.unwrapped.pending_users
    length = len(log())
    reset_obs, rewards, terminated, truncated, info = env.step(vec_actions(env))
    assert (rewards == 0).all() and not terminated.any() and not truncated.any()
    assert len(log()) == length  # the actions were ignored
    np.testing.assert_array_equal(reset_obs, obs)
    np.testing.assert_array_equal(info["user"], pending)
    assert info["_user"].all() and "item" not in info
    _, rewards, _, truncated, info = env.step(vec_actions(env))
    np.testing.assert_array_equal(info["user"], pending)
    assert (rewards != 0).all() and not truncated.any() and len(log()) == length + 4


def test_next_step_autoreset_with_partial_reset_mask(ratings_id):
    env = make_vec(ratings_id, num_envs=4, max_steps=3)
    env.reset(seed=28)
    env.step(vec_actions(env))
    mask = np.array([True, False, True, False])
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(seed=1, options={"reset_mask": mask})
    _, info = env.reset(options={"reset_mask": mask})
    assert list(info["_user"]) == list(mask)
    log = env.unwrapped.interaction_log
    env.step(vec_actions(env))
    _, _, _, truncated, _ = env.step(vec_actions(env))  # slots 1 and 3 reach 3 steps
    assert list(truncated) == [False, True, False, True]
    length = len(log())
    pending = env.unwrapped.pending_users
    actions = vec_actions(env)
    _, rewards, _, truncated, info = env.step(actions)
    assert list(truncated) == [True, False, True, False]
    assert rewards[1] == rewards[3] == 0 and rewards[0] != 0 and rewards[2] != 0
    assert len(log()) == length + 2
    assert list(info["_item"]) == list(mask) and info["_user"].all()
    np.testing.assert_array_equal(info["user"], pending)  # served (0, 2) and reset (1, 3): the pending users
    np.testing.assert_array_equal(log()["user"].to_numpy()[-2:], pending[[0, 2]])
    if ratings_id == ITEM_ID:
        np.testing.assert_array_equal(info["item"][[0, 2]], actions[[0, 2]])
    _, rewards, _, truncated, info = env.step(vec_actions(env))
    assert list(truncated) == [False] * 4 and list(info["_item"]) == [False, True, False, True]
    assert rewards[0] == rewards[2] == 0


@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_same_step_autoreset_returns_final_obs_and_final_info(ratings_id, observation_mode):
    env = make_vec(ratings_id, num_envs=4, max_steps=3, autoreset_mode="same_step", observation_mode=observation_mode)
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    env.reset(seed=29)
    log = env.unwrapped.interaction_log
    for _ in range(2):
        _, _, _, truncated, info = env.step(vec_actions(env))
        assert not truncated.any() and "final_obs" not in info
    users = env.unwrapped.pending_users
    obs, rewards, terminated, truncated, info = env.step(vec_actions(env))
    assert truncated.all() and not terminated.any() and (rewards != 0).all()
    assert info["_final_obs"].all() and info["_final_info"].all()
    final = info["final_info"]
    np.testing.assert_array_equal(final["user"], users)
    np.testing.assert_array_equal(final["rating"], rewards)
    np.testing.assert_allclose(final["regret"], log()["regret"].to_numpy()[-4:], atol=1e-12)
    for j in range(4):  # the reset keeps the pending request: the final observation is the new episode's first
        assert_obs_equal(info["final_obs"][j], single_equivalent_of(obs, j))
    np.testing.assert_array_equal(info["user"], env.unwrapped.pending_users)
    assert "item" not in info or not info["_item"].any()
    length = len(log())
    _, rewards, _, truncated, info = env.step(vec_actions(env))
    assert not truncated.any() and (rewards != 0).all() and len(log()) == length + 4 and "final_obs" not in info


# ---------------------------------------------------------------------------------------------- arguments
def test_num_envs_above_n_users_is_rejected(ratings_id):
    with pytest.raises(ValueError, match=message_pattern("num_envs", "13", "n_users", "12")):
        make_vec(ratings_id, num_envs=13)
    with pytest.raises(ValueError, match=message_pattern("num_envs", "0")):
        make_vec(ratings_id, num_envs=0)
    assert make_vec(ratings_id, num_envs=12).num_envs == 12


def test_vector_env_rejects_bad_kwargs_and_seeds(ratings_id):
    with pytest.raises(ValueError, match=message_pattern("n_items", "-1")):
        make_vec(ratings_id, n_items=-1)
    with pytest.raises(ValueError, match="foo"):
        make_vec(ratings_id, foo=1)
    with pytest.raises(ValueError, match=message_pattern("autoreset_mode", "'later'")):
        make_vec(ratings_id, autoreset_mode="later")
    if ratings_id == ITEM_ID:
        with pytest.raises(ValueError, match="metric"):
            make_vec(ratings_id, metric="euclidean")
    env = make_vec(ratings_id, num_envs=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(vec_actions(env, np.arange(3)))
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=1.5)


def test_vector_env_rejects_bad_actions(ratings_id):
    env = make_vec(ratings_id, num_envs=3)
    env.reset(seed=0)
    if ratings_id == ITEM_ID:
        bad_actions = [np.array([0, 1, 20]), np.array([0, -1, 2]), np.array([0, 1]), np.array([0.5, 1, 2])]
    else:
        good = np.zeros((3, 5))
        bad_actions = [np.zeros((3, 4)), np.zeros((2, 5)), np.where(np.eye(3, 5) > 0, np.nan, good), np.zeros(5)]
    for actions in bad_actions:
        with pytest.raises(ValueError, match="action"):
            env.step(actions)
    assert len(env.unwrapped.interaction_log()) == 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_vector_interaction_log_round_trips(ratings_id, suffix, tmp_path):
    env = make_vec(ratings_id, num_envs=4, n_history=2, max_steps=10**6)
    env.reset(seed=30)
    for _ in range(5):
        env.step(vec_actions(env))
    log = env.unwrapped.interaction_log()
    assert len(log) == 2 * N + 5 * 4
    path = env.unwrapped.save_interaction_log(tmp_path / f"log{suffix}")
    read = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    pd.testing.assert_frame_equal(read, log, check_dtype=suffix == ".parquet")
    with pytest.raises(FileExistsError):
        env.unwrapped.save_interaction_log(path)
