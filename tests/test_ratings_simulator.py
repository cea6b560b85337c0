"""The latent-factor rating world (SPEC §2-§4) without an env: config checks, best items, nearest items, the request
stream, noise, regret, arrivals, drift and frames, each compared with a brute-force or statistical reference."""

import re

import numpy as np
import pytest
from helpers import brute_force_regrets

from recgym.simulators.ratings import (
    EMPTY,
    EmbeddingProjection,
    NearestItemIndex,
    RatingsConfig,
    RatingsSimulator,
    best_items,
    dense_best_items,
)
from recgym.simulators.ratings.nearest import brute_force_nearest

CHUNKS = [1024, 4096, 8 * 37 * 3, 10**6, 64 * 2**20]
"""``chunk_bytes`` values: 1024 forces one user row per block for 200 items, 888 bytes = 3 rows of 37 items."""


def message_pattern(*fragments):
    return "(?s)" + "".join(f"(?=.*{re.escape(fragment)})" for fragment in fragments)


def first_argmax(matrix):
    """Lowest index of each row's maximum, by a plain Python scan (independent of NumPy's argmax)."""
    out = []
    for row in matrix.tolist():
        best = 0
        for j, value in enumerate(row):
            if value > row[best]:
                best = j
        out.append(best)
    return np.asarray(out)


# ------------------------------------------------------------------------------------------- best items
@pytest.mark.parametrize("chunk_bytes", CHUNKS)
@pytest.mark.parametrize("shape", [(50, 200, 10), (7, 37, 3), (1, 1, 1), (30, 1, 4)])
def test_chunked_best_items_equal_the_dense_search(chunk_bytes, shape):
    n_users, n_items, n_features = shape
    rng = np.random.default_rng(sum(shape) + chunk_bytes)
    users, items = rng.uniform(size=(n_users, n_features)), rng.normal(size=(n_items, n_features))
    best, best_mean = best_items(users, items, chunk_bytes)
    dense, dense_mean = dense_best_items(users, items)
    np.testing.assert_array_equal(best, dense)
    np.testing.assert_allclose(best_mean, dense_mean, rtol=1e-13, atol=1e-13)
    assert best.dtype == np.int64 and best_mean.dtype == np.float64
    means = users @ items.T
    np.testing.assert_array_equal(best, first_argmax(means))
    np.testing.assert_allclose(best_mean, means.max(axis=1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("chunk_bytes", CHUNKS)
def test_ties_go_to_the_lowest_item_number_in_every_chunking(chunk_bytes):
    rng = np.random.default_rng(3)
    # Integer-valued attributes: every dot product is exact, so duplicated rows tie exactly in any summation order.
    users = rng.integers(0, 4, size=(40, 3)).astype(np.float64)
    base = rng.integers(0, 4, size=(15, 3)).astype(np.float64)
    items = np.vstack([base, base[::-1], base])  # every item appears three times
    best, best_mean = best_items(users, items, chunk_bytes)
    dense, dense_mean = dense_best_items(users, items)
    means = users @ items.T
    np.testing.assert_array_equal(best, dense)
    np.testing.assert_array_equal(best, first_argmax(means))
    np.testing.assert_array_equal(best_mean, dense_mean)
    assert (best < 15).all()  # every maximum is first attained in the first copy


def test_duplicated_float_items_tie_to_the_lowest_number():
    rng = np.random.default_rng(4)
    users = rng.uniform(size=(25, 10))
    items = rng.uniform(size=(60, 10))
    best_first, _ = dense_best_items(users, items)
    # Put a copy of each user's best item *before* it: the copy (lower number) must now win.
    doubled = np.vstack([items, items])
    for chunk_bytes in CHUNKS:
        best, _ = best_items(users, doubled, chunk_bytes)
        np.testing.assert_array_equal(best, best_first)
        np.testing.assert_array_equal(best, dense_best_items(users, doubled)[0])


# ------------------------------------------------------------------------------------------- nearest items
def reference_nearest(embeddings, actions, metric, excluded=None):
    """Vectorised reference independent of both package implementations (ties: lowest number)."""
    e = embeddings.astype(np.float64)
    a = np.asarray(actions, dtype=np.float64)
    if metric == "euclidean":
        cost = np.linalg.norm(a[:, None, :] - e[None, :, :], axis=2)
    else:
        norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(e, axis=1)[None, :]
        cost = -np.divide(a @ e.T, norms, out=np.zeros_like(norms), where=norms > 0)
    if excluded is not None:
        keep = excluded.all(axis=1)
        cost = np.where(excluded & ~keep[:, None], np.inf, cost)
    return first_argmax(-cost)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("masked", [False, True])
def test_nearest_item_index_equals_brute_force(metric, masked):
    rng = np.random.default_rng(5 + masked)
    embeddings = rng.uniform(-1, 1, size=(40, 6)).astype(np.float32)
    actions = rng.uniform(-1.5, 1.5, size=(80, 6))
    excluded = None
    if masked:
        excluded = rng.uniform(size=(80, 40)) < 0.7
        excluded[:5] = True  # every item excluded: the nearest of all
        excluded[5:10] = False
        excluded[10, :] = True
        excluded[10, 39] = False  # one allowed item
    index = NearestItemIndex(embeddings, metric)
    got = index.nearest(actions, excluded)
    np.testing.assert_array_equal(got, brute_force_nearest(embeddings, actions, metric, excluded))
    np.testing.assert_array_equal(got, reference_nearest(embeddings, actions, metric, excluded))
    if masked:
        assert got[10] == 39
        allowed_rows = ~excluded.all(axis=1)
        assert not excluded[np.flatnonzero(allowed_rows), got[allowed_rows]].any()
        np.testing.assert_array_equal(got[:5], index.nearest(actions[:5]))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_ties_go_to_the_lowest_item_and_an_embedding_maps_to_itself(metric):
    # Multiples of 1/4: every distance and dot product is exact, so duplicates tie exactly.
    rng = np.random.default_rng(6)
    base = rng.integers(-4, 5, size=(10, 4)) / 4.0
    base[np.abs(base).sum(axis=1) == 0] = 0.25
    embeddings = np.vstack([base, base]).astype(np.float32)
    index = NearestItemIndex(embeddings, metric)
    got = index.nearest(embeddings[10:])  # the copies: the originals (lower numbers) must win
    np.testing.assert_array_equal(got, brute_force_nearest(embeddings, embeddings[10:], metric))
    for j, item in enumerate(got):
        assert item <= j and np.array_equal(embeddings[item], base[j])
    excluded = np.zeros((10, 20), dtype=bool)
    excluded[np.arange(10), got] = True  # exclude the winners: the duplicates win instead
    again = index.nearest(embeddings[10:], excluded)
    np.testing.assert_array_equal(again, brute_force_nearest(embeddings, embeddings[10:], metric, excluded))
    for j, item in enumerate(again):
        assert np.array_equal(embeddings[item], base[j])


def test_cosine_zero_action_maps_to_the_lowest_allowed_item():
    embeddings = np.random.default_rng(7).uniform(-1, 1, size=(8, 3))
    index = NearestItemIndex(embeddings, "cosine")
    excluded = np.zeros((2, 8), dtype=bool)
    excluded[1, :3] = True
    np.testing.assert_array_equal(index.nearest(np.zeros((2, 3)), excluded), [0, 3])
    np.testing.assert_array_equal(brute_force_nearest(embeddings, np.zeros((2, 3)), "cosine", excluded), [0, 3])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_index_update_equals_a_fresh_index(metric):
    rng = np.random.default_rng(8)
    embeddings = rng.uniform(-1, 1, size=(30, 5))
    index = NearestItemIndex(embeddings, metric)
    items = np.array([2, 17, 29])
    new = rng.uniform(-1, 1, size=(3, 5))
    index.update(items, new)
    embeddings[items] = new
    actions = rng.uniform(-1, 1, size=(50, 5))
    np.testing.assert_array_equal(index.nearest(actions), NearestItemIndex(embeddings, metric).nearest(actions))
    np.testing.assert_array_equal(index.nearest(actions), brute_force_nearest(embeddings, actions, metric))


def test_nearest_index_rejects_an_unknown_metric():
    with pytest.raises(ValueError, match=message_pattern("metric", "'manhattan'")):
        NearestItemIndex(np.zeros((3, 2)), "manhattan")


# ------------------------------------------------------------------------------------------- embeddings
def test_embedding_projection_is_a_documented_clipped_linear_map():
    rng = np.random.default_rng(9)
    items = rng.uniform(size=(50, 6))
    projection = EmbeddingProjection(items, 4, 0.0, np.random.default_rng(1))
    embedded = projection(items, rng)
    assert embedded.shape == (50, 4) and embedded.dtype == np.float32
    # Without noise the initial catalogue spans exactly [-1, 1] in the dimension's largest direction.
    np.testing.assert_allclose(np.abs(embedded).max(axis=0), 1.0, rtol=1e-6)
    expected = (items - items.mean(axis=0)) @ projection.weights / projection.scale
    np.testing.assert_allclose(embedded, expected, rtol=1e-6, atol=1e-6)
    noisy = EmbeddingProjection(items, 4, 0.3, np.random.default_rng(1))(items, np.random.default_rng(2))
    assert noisy.min() >= -1.0 and noisy.max() <= 1.0
    assert 0.1 < np.std(noisy - embedded) < 0.5


# ------------------------------------------------------------------------------------------- config
def bad(kwargs, *fragments):
    return pytest.param(kwargs, fragments, id=",".join(f"{k}={v!r}"[:40] for k, v in kwargs.items()))


INVALID_CONFIGS = [
    bad({"n_users": 0}, "n_users", "0"),
    bad({"n_items": -1}, "n_items", "-1"),
    bad({"n_features": 0}, "n_features", "0"),
    bad({"n_users": 2.5}, "n_users", "2.5"),
    bad({"noise_std": -0.1}, "noise_std", "-0.1"),
    bad({"noise_std": float("nan")}, "noise_std", "nan"),
    bad({"attribute_distribution": "gamma"}, "attribute_distribution", "'gamma'"),
    bad({"attribute_params": (1.0, 0.0)}, "attribute_params", "(1.0, 0.0)"),
    bad({"attribute_params": (0.0,)}, "attribute_params", "(0.0,)"),
    bad({"attribute_params": "ab"}, "attribute_params", "'ab'"),
    bad({"attribute_distribution": "normal", "attribute_params": (0.0, -1.0)}, "attribute_params", "-1.0"),
    bad({"attribute_distribution": "beta", "attribute_params": (0.0, 1.0)}, "attribute_params", "0.0"),
    bad({"attribute_params": (0.0, float("inf"))}, "attribute_params[1]", "inf"),
    bad({"user_attributes": np.ones((3, 2)), "item_attributes": np.ones((4, 3))}, "user_attributes", "item_attributes",
        "2", "3"),
    bad({"user_attributes": np.array([[1.0, np.nan]])}, "user_attributes", "finite"),
    bad({"item_attributes": np.array([[1.0, np.inf]])}, "item_attributes", "finite"),
    bad({"user_attributes": np.ones(3)}, "user_attributes", "(3,)"),
    bad({"user_attributes": [["a", "b"]]}, "user_attributes", "list"),
    bad({"user_attributes": np.ones((3, 2)), "n_users": 4}, "n_users", "4", "3"),
    bad({"item_attributes": np.ones((3, 2)), "n_features": 5}, "n_features", "5", "2"),
    bad({"new_users_per_period": -1.0}, "new_users_per_period", "-1.0"),
    bad({"new_items_per_period": float("inf")}, "new_items_per_period", "inf"),
    bad({"arrival_distribution": "cauchy"}, "arrival_distribution", "'cauchy'"),
    bad({"arrival_params": (2.0, 1.0)}, "arrival_params", "(2.0, 1.0)"),
    bad({"user_drift_std": -0.5}, "user_drift_std", "-0.5"),
    bad({"n_items": 5, "n_history": 6}, "n_history", "6"),
    bad({"n_history": -1}, "n_history", "-1"),
    bad({"frame_size": 0}, "frame_size", "0"),
    bad({"embedding_dim": 0}, "embedding_dim", "0"),
    bad({"embedding_noise": -1.0}, "embedding_noise", "-1.0"),
    bad({"chunk_bytes": 1023}, "chunk_bytes", "1023"),
]


@pytest.mark.parametrize(("kwargs", "fragments"), INVALID_CONFIGS)
def test_invalid_config_raises_value_error_naming_parameter_and_value(kwargs, fragments):
    with pytest.raises(ValueError, match=message_pattern(*fragments)):
        RatingsConfig(**kwargs)


def test_config_defaults_reproduce_seed_000_and_sizes_follow_given_attributes():
    config = RatingsConfig()
    assert (config.n_users, config.n_items, config.n_features, config.noise_std) == (1000, 1000, 10, 0.1)
    assert (config.attribute_distribution, config.attribute_params) == ("uniform", (0.0, 1.0))
    assert not config.changes_between_periods
    given = RatingsConfig(user_attributes=np.ones((3, 2)), item_attributes=[[1.0, 2.0]] * 5)
    assert (given.n_users, given.n_items, given.n_features) == (3, 5, 2)
    assert not given.user_attributes.flags.writeable


# ------------------------------------------------------------------------------------------- simulator
def make_sim(seed=0, **kwargs):
    kwargs = {"n_users": 12, "n_items": 20, "n_features": 4, "frame_size": 4, "embedding_dim": 5, **kwargs}
    rng = np.random.default_rng(seed)
    return RatingsSimulator(RatingsConfig(**kwargs), rng, track_consumed=True), rng


def serve(sim, requests):
    return sim.respond(requests, (requests.users * 7) % sim.config.n_items)


def serve_period(sim, rng):
    requests = sim.next_requests(sim.config.n_users, rng)
    return requests, serve(sim, requests)


def start_period(sim, rng):
    """Hand out the first request of the next period (which draws its arrivals and drift); return it."""
    assert sim.requests_left_in_period == 0
    first = sim.next_requests(1, rng)
    assert sim.requests_left_in_period == sim.config.n_users - 1
    return first


def finish_period(sim, rng, first):
    serve(sim, first)
    serve(sim, sim.next_requests(sim.requests_left_in_period, rng))


def test_a_period_serves_every_user_once_in_random_order():
    sim, rng = make_sim()
    orders = []
    for period in range(5):
        requests, _ = serve_period(sim, rng)
        assert sorted(requests.users.tolist()) == list(range(12))
        assert (requests.period == period).all() and sim.period == period
        assert sim.requests_left_in_period == 0
        orders.append(requests.users.tolist())
    assert len({tuple(order) for order in orders}) > 1


def test_history_rates_distinct_items_with_period_minus_one():
    sim, _ = make_sim(n_history=6)
    log = sim.log.columns()
    assert len(sim.log) == 12 * 6
    assert (log["period"] == -1).all()
    for user in range(12):
        items = log["item"][log["user"] == user]
        assert len(items) == 6 and len(set(items.tolist())) == 6
        assert sim.n_ratings[user] == 6
        np.testing.assert_array_equal(sim.frame_items[user], items[::-1][:4])
        np.testing.assert_array_equal(sim.frame_ratings[user], log["rating"][log["user"] == user][::-1][:4])
        assert sim.consumed[user].sum() == 6 and sim.consumed[user, items].all()


@pytest.mark.parametrize("noise_std", [0.1, 0.5])
def test_history_and_request_noise_is_independent_with_the_configured_std(noise_std):
    sim, rng = make_sim(n_users=400, n_items=30, n_history=10, noise_std=noise_std)
    history = sim.log.columns()
    residual = history["rating"] - history["mean_rating"]
    assert abs(residual.std() / noise_std - 1) < 0.05
    assert abs(residual.mean()) < 5 * noise_std / np.sqrt(len(residual))
    per_batch = residual.reshape(10, 400)  # served one history column (all users) at a time
    assert np.all(per_batch.std(axis=1) > 0.8 * noise_std)
    served = [serve_period(sim, rng)[1] for _ in range(10)]
    residual = np.concatenate([r.ratings - r.mean_ratings for r in served])
    assert abs(residual.std() / noise_std - 1) < 0.05
    assert abs(np.corrcoef(residual[:-1], residual[1:])[0, 1]) < 5 / np.sqrt(len(residual))


def test_regret_and_means_equal_brute_force_and_best_item_gets_exactly_zero():
    sim, rng = make_sim(n_users=10, n_items=15, n_features=3)
    for period in range(4):
        requests = sim.next_requests(10, rng)
        items = (requests.users * 3 + period) % 15
        items[:3] = sim.best_item[requests.users[:3]]
        expected = brute_force_regrets(sim.user_attributes, sim.item_attributes, requests.users, items)
        np.testing.assert_allclose(sim.regrets(requests.users, items), expected, atol=1e-12)
        result = sim.respond(requests, items)
        np.testing.assert_allclose(result.regrets, expected, atol=1e-12)
        np.testing.assert_allclose(result.best_mean_ratings - result.mean_ratings, expected, atol=1e-12)
        assert (result.regrets >= 0).all()
        assert (result.regrets[:3] == 0.0).all()
        np.testing.assert_allclose(result.ratings - result.mean_ratings, requests.noise, atol=1e-12)
    users = np.arange(10)
    assert (sim.regrets(users, sim.best_item) == 0.0).all()


def test_a_batch_spanning_two_periods_serves_them_in_order():
    sim, rng = make_sim(n_users=5, n_items=9, frame_size=3)
    requests = sim.next_requests(8, rng)  # the whole first period and 3 of the second
    np.testing.assert_array_equal(requests.period, [0] * 5 + [1] * 3)
    items = np.arange(8) % 9
    result = sim.respond(requests, items)
    assert len(result.ratings) == 8
    for user in requests.users[5:]:
        served = np.flatnonzero(requests.users == user)
        assert len(served) == 2
        np.testing.assert_array_equal(sim.frame_items[user, :2], items[served[::-1]])
        np.testing.assert_array_equal(sim.frame_ratings[user, :2], result.ratings[served[::-1]])
    np.testing.assert_array_equal(sim.log.column("period"), requests.period)


ARRIVAL_WORLDS = {
    "users": {"new_users_per_period": 1.5},
    "items": {"new_items_per_period": 2.5},
    "both+drift": {"new_users_per_period": 1.0, "new_items_per_period": 2.0, "user_drift_std": 0.05},
    "drift": {"user_drift_std": 0.1},
}


@pytest.mark.parametrize("world", ARRIVAL_WORLDS.values(), ids=ARRIVAL_WORLDS.keys())
def test_best_items_stay_exact_through_arrivals_and_drift(world):
    sim, rng = make_sim(seed=1, n_users=15, n_items=25, n_history=3, chunk_bytes=1024, **world)
    for _ in range(40):
        first = start_period(sim, rng)
        best, best_mean = dense_best_items(sim.user_attributes, sim.item_attributes)
        np.testing.assert_array_equal(sim.best_item, best)
        np.testing.assert_allclose(sim.best_mean_rating, best_mean, rtol=1e-13, atol=1e-13)
        finish_period(sim, rng, first)


def test_best_items_stay_exact_when_arriving_items_tie_exactly():
    # Given integer attributes and no arrival distribution: arrivals are copies of initial rows, so new
    # items tie old ones exactly and the lowest number must win.
    rng = np.random.default_rng(2)
    users = rng.integers(0, 3, size=(10, 3)).astype(float)
    items = rng.integers(0, 3, size=(12, 3)).astype(float)
    sim, rng = make_sim(user_attributes=users, item_attributes=items, n_users=None, n_items=None, n_features=None,
                        new_items_per_period=3.0, new_users_per_period=1.0, embedding_dim=3)
    ties = 0
    for _ in range(60):
        first = start_period(sim, rng)
        means = sim.user_attributes @ sim.item_attributes.T
        ties += int(((means == means.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
        np.testing.assert_array_equal(sim.best_item, first_argmax(means))
        np.testing.assert_array_equal(sim.best_mean_rating, means.max(axis=1))
        finish_period(sim, rng, first)
    assert ties > 0


def test_arrivals_come_at_the_configured_poisson_rates_and_clear_frames():
    sim, rng = make_sim(seed=3, n_users=20, n_items=30, n_history=2, new_users_per_period=1.5, new_items_per_period=2.5)
    new_users, new_items = [], []
    serve_period(sim, rng)
    for _ in range(400):
        user_uid, item_uid = sim.user_uid.copy(), sim.item_uid.copy()
        n_ratings = sim.n_ratings.copy()
        first = start_period(sim, rng)  # arrivals happen now
        changed_users = np.flatnonzero(sim.user_uid != user_uid)
        changed_items = np.flatnonzero(sim.item_uid != item_uid)
        new_users.append(len(changed_users))
        new_items.append(len(changed_items))
        assert (sim.user_uid[changed_users] > user_uid.max()).all()
        assert (sim.item_uid[changed_items] > item_uid.max()).all()
        assert (sim.frame_items[changed_users] == EMPTY).all() and (sim.frame_ratings[changed_users] == 0).all()
        assert (sim.n_ratings[changed_users] == 0).all() and not sim.consumed[changed_users].any()
        kept = np.setdiff1d(np.arange(20), changed_users)
        np.testing.assert_array_equal(sim.n_ratings[kept], n_ratings[kept])
        assert not np.isin(sim.frame_items, changed_items).any()
        assert not sim.consumed[:, changed_items].any()
        finish_period(sim, rng, first)
    for counts, rate in ((new_users, 1.5), (new_items, 2.5)):
        assert abs(np.mean(counts) - rate) < 5 * np.sqrt(rate / len(counts))
        assert abs(np.var(counts) - rate) < 0.35 * rate  # Poisson: variance = mean
    assert len(np.unique(sim.user_uid)) == 20 and len(np.unique(sim.item_uid)) == 30


def test_drift_moves_every_user_by_the_configured_std():
    sim, rng = make_sim(seed=4, n_users=1000, n_features=10, user_drift_std=0.2)
    serve_period(sim, rng)
    before = sim.user_attributes.copy()
    start_period(sim, rng)
    step = sim.user_attributes - before
    assert abs(step.std() / 0.2 - 1) < 0.05 and abs(step.mean()) < 0.02


def test_arrivals_from_given_attributes_copy_initial_rows():
    rng = np.random.default_rng(5)
    users, items = rng.uniform(size=(8, 3)), rng.uniform(size=(9, 3))
    sim, rng = make_sim(user_attributes=users, item_attributes=items, n_users=None, n_items=None, n_features=None,
                        embedding_dim=3, new_users_per_period=3.0, new_items_per_period=3.0)
    for _ in range(10):
        serve_period(sim, rng)
    for row in sim.user_attributes:
        assert any(np.array_equal(row, u) for u in users)
    for row in sim.item_attributes:
        assert any(np.array_equal(row, q) for q in items)
    assert sim.user_uid.max() >= 8 and sim.item_uid.max() >= 9
    np.testing.assert_array_equal(np.asarray(sim.config.user_attributes), users)  # the config is not mutated


def test_same_seed_gives_the_same_world_and_stream():
    logs = []
    for _ in range(2):
        sim, rng = make_sim(seed=11, n_history=2, new_users_per_period=1.0, new_items_per_period=1.0, user_drift_std=0.1)
        for _ in range(5):
            serve_period(sim, rng)
        logs.append(sim.log.columns())
    for name in logs[0]:
        np.testing.assert_array_equal(logs[0][name], logs[1][name])


def test_zero_noise_gives_the_mean_rating():
    sim, rng = make_sim(noise_std=0.0, n_history=2)
    _, result = serve_period(sim, rng)
    np.testing.assert_array_equal(result.ratings, result.mean_ratings)
    log = sim.log.columns()
    np.testing.assert_array_equal(log["rating"], log["mean_rating"])


@pytest.mark.parametrize(
    ("distribution", "params", "mean", "std"),
    [("uniform", (2.0, 4.0), 3.0, 2.0 / np.sqrt(12)), ("normal", (2.0, 0.5), 2.0, 0.5),
     ("beta", (2.0, 5.0), 2.0 / 7.0, np.sqrt(10.0 / (49.0 * 8.0)))],
)
def test_attributes_and_arrivals_follow_their_distributions(distribution, params, mean, std):
    sim, rng = make_sim(n_users=2000, n_items=1000, n_features=5, attribute_distribution=distribution,
                        attribute_params=params, arrival_distribution="normal", arrival_params=(10.0, 0.1),
                        new_users_per_period=50.0, new_items_per_period=50.0)
    for attributes in (sim.user_attributes, sim.item_attributes):
        assert abs(attributes.mean() - mean) < 5 * std / np.sqrt(attributes.size) and abs(attributes.std() / std - 1) < 0.03
    serve_period(sim, rng)
    start_period(sim, rng)
    new_users, new_items = sim.user_uid >= 2000, sim.item_uid >= 1000
    assert 20 < new_users.sum() < 90 and 20 < new_items.sum() < 90
    for attributes in (sim.user_attributes[new_users], sim.item_attributes[new_items]):
        assert abs(attributes.mean() - 10.0) < 0.02 and abs(attributes.std() / 0.1 - 1) < 0.1
    assert (np.abs(sim.user_attributes[~new_users] - 10.0) > 1.0).all()
