"""Candidate generation: incremental item-item cosine CF equals a brute-force recomputation from the whole log,
the slate is the top unseen items with the seed's tie rule, and the business re-scoring is exact."""

import gymnasium as gym
import numpy as np
import pytest
from helpers import SMALL_WORLD

from recgym.candidates import ItemItemCosineCF, brute_force_scores, top_k
from recgym.candidates.generator import ENTRY, SCORE, VIDEO

RTOL, ATOL = 1e-4, 1e-5
TIE_SLACK = 1e-5
N_VIDEOS, N_USERS = SMALL_WORLD["n_videos"], SMALL_WORLD["n_users"]


def naive_cf_scores(items, users, scores, n_items, n_users, user):
    """SPEC §1 in plain Python: score(j) = sum over the user's seen videos v of cos(v, j) * X[v, user]."""
    matrix = np.zeros((n_items, n_users))
    for i, u, s in zip(items, users, scores, strict=True):
        matrix[i, u] += s
    seen = {int(i) for i, u in zip(items, users, strict=True) if u == user}
    out = np.zeros(n_items)
    for j in range(n_items):
        for v in seen:
            norm = np.linalg.norm(matrix[v]) * np.linalg.norm(matrix[j])
            similarity = matrix[v] @ matrix[j] / norm if norm > 0 else 0.0
            out[j] += similarity * matrix[v, user]
    return out


def log_arrays(log):
    return log["vid_id"].to_numpy(), log["user_id"].to_numpy(), log["interaction_score"].to_numpy()


def brute_for(log, users):
    items, log_users, scores = log_arrays(log)
    return brute_force_scores(items, log_users, scores, N_VIDEOS, N_USERS, np.asarray(users))


def seen_mask(log, user):
    seen = np.zeros(N_VIDEOS, dtype=bool)
    seen[log.loc[log["user_id"] == user, "vid_id"].to_numpy()] = True
    return seen


def assert_top_unseen(slate_videos, reference_scores, seen):
    """``slate_videos`` are unseen and, up to ``TIE_SLACK``, the best unseen videos under ``reference_scores``."""
    slate_videos = np.asarray(slate_videos)
    assert len(set(slate_videos.tolist())) == len(slate_videos)
    assert not seen[slate_videos].any(), "a candidate was already seen by the user"
    others = np.setdiff1d(np.flatnonzero(~seen), slate_videos)
    if len(others):
        assert reference_scores[slate_videos].min() >= reference_scores[others].max() - TIE_SLACK


def test_brute_force_reference_matches_the_spec_definition():
    rng = np.random.default_rng(0)
    n_items, n_users, n = 15, 6, 120
    items = rng.integers(0, n_items, n)
    users = rng.integers(0, n_users, n)
    scores = rng.choice([2.0, 1.0, -2.0, -0.5], n)
    got = brute_force_scores(items, users, scores, n_items, n_users, np.arange(n_users))
    for user in range(n_users):
        np.testing.assert_allclose(got[user], naive_cf_scores(items, users, scores, n_items, n_users, user), atol=1e-12)


def test_incremental_cf_equals_brute_force_after_every_batch():
    rng = np.random.default_rng(1)
    n_items, n_users = 120, 25
    cf = ItemItemCosineCF(n_items, n_users)
    items, users, scores = (np.empty(0, dtype=np.int64),) * 2 + (np.empty(0),)
    for batch in range(40):
        if batch % 2:  # one step of concurrent sessions: distinct users, hence distinct pairs
            new_users = rng.choice(n_users, size=10, replace=False)
            new_items = rng.integers(0, n_items, 10)
            distinct = True
        else:  # history-like: repeated (item, user) pairs within the batch
            new_users = rng.integers(0, n_users, 60)
            new_items = rng.integers(0, 12, 60)
            distinct = False
        new_scores = rng.choice([2.0, 1.0, -2.0, -0.5], len(new_items))
        cf.add(new_items, new_users, new_scores, distinct_pairs=distinct)
        items, users, scores = np.r_[items, new_items], np.r_[users, new_users], np.r_[scores, new_scores]
        reference = brute_force_scores(items, users, scores, n_items, n_users, np.arange(n_users))
        np.testing.assert_allclose(cf.scores(np.arange(n_users)), reference, rtol=RTOL, atol=ATOL)
        expected_seen = np.zeros((n_users, n_items), dtype=bool)
        expected_seen[users, items] = True
        np.testing.assert_array_equal(cf.seen, expected_seen)
        some = rng.choice(n_users, size=7, replace=False)
        np.testing.assert_array_equal(cf.seen_offsets(some), np.where(expected_seen[some], -np.inf, 0.0).astype(np.float32))
        # Added to the scores, the offsets rank exactly as excluding the seen items does.
        user_scores = cf.scores(some)
        np.testing.assert_array_equal(top_k(user_scores + cf.seen_offsets(some), 30),
                                      top_k(user_scores, 30, exclude=expected_seen[some]))  # fmt: skip
    assert cf.n_interactions == len(items)
    matrix = np.zeros((n_items, n_users))
    np.add.at(matrix, (items, users), scores)
    np.testing.assert_array_equal(cf.user_scores(np.arange(n_users)), matrix.T)


def test_pending_calls_of_distinct_pairs_equal_one_interaction_at_a_time():
    """Several steps' interactions held back (one call each, a pair repeating across calls, as a
    single env's sessions add them) give exactly the statistics of adding them one by one."""
    rng = np.random.default_rng(7)
    n_items, n_users = 40, 9
    batched, one_by_one = ItemItemCosineCF(n_items, n_users), ItemItemCosineCF(n_items, n_users)
    for n_calls in (1, 1, 3, 6, 1, 4):
        for _ in range(n_calls):
            users = rng.choice(n_users, size=4, replace=False)
            items = rng.integers(0, 6, size=4)  # few items: pairs repeat across calls
            scores = rng.choice([2.0, 1.0, -2.0, -0.5], 4)
            batched.add(items, users, scores, distinct_pairs=True)
            for i in range(4):
                one_by_one.add(items[i : i + 1], users[i : i + 1], scores[i : i + 1])
        everyone = np.arange(n_users)
        np.testing.assert_array_equal(batched.scores(everyone), one_by_one.scores(everyone))
        np.testing.assert_array_equal(batched.seen, one_by_one.seen)
        np.testing.assert_array_equal(batched.user_scores(everyone), one_by_one.user_scores(everyone))


def test_cf_table_maps_outcomes_to_the_seed_scores(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    env.reset(seed=0)
    log = env.unwrapped.interaction_log()
    table = {"liked": 2.0, "watched": 1.0, "skipped": -2.0, "session_end": -0.5}
    np.testing.assert_array_equal(log["interaction_score"].to_numpy(), log["action"].map(table).to_numpy())
    custom = {"liked": 3.0, "watched": 0.5, "skipped": -1.0, "session_end": 0.0}
    env = gym.make(env_id, cf_scores=custom, **SMALL_WORLD)
    env.reset(seed=0)
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()
    log = env.unwrapped.interaction_log()
    np.testing.assert_array_equal(log["interaction_score"].to_numpy(), log["action"].map(custom).to_numpy())
    user = int(env.unwrapped.core.simulator.sessions.user[0])
    np.testing.assert_allclose(env.unwrapped.core.candidates.cf.scores(np.array([user]))[0],
                               brute_for(log, [user])[0], rtol=RTOL, atol=ATOL)


def test_slates_equal_brute_force_at_every_step_with_refresh_interval_one(env_id):
    env = gym.make(env_id, cf_refresh_interval=1, **SMALL_WORLD)
    core = env.unwrapped.core
    _, info = env.reset(seed=21)
    rng = np.random.default_rng(0)
    for _ in range(150):
        assert info["candidates_fresh"] is True
        user = int(core.simulator.sessions.user[0])
        log = env.unwrapped.interaction_log()
        brute = brute_for(log, [user])[0]
        incremental = core.candidates.cf.scores(np.array([user]))[0]
        np.testing.assert_allclose(incremental, brute, rtol=RTOL, atol=ATOL)
        slates = core.candidates.slates
        np.testing.assert_allclose(slates.similarity[0], brute[slates.video[0]], rtol=RTOL, atol=ATOL)
        seen = seen_mask(log, user)
        assert_top_unseen(slates.video[0], brute, seen)
        # The exact tie rule on the env's own float32 scores: higher first, lower video id among equals.
        ranked = np.where(seen, -np.inf, incremental.astype(np.float32))
        expected = np.argsort(-ranked, kind="stable")[:10]
        assert set(slates.video[0].tolist()) == set(expected.tolist())
        _, _, terminated, truncated, info = env.step(int(rng.integers(10)))
        if terminated or truncated:
            _, info = env.reset()


def test_ties_go_to_the_lower_video_id_in_a_sparse_world():
    # Few users with 4 interactions each over 400 videos: most unseen videos score exactly 0, so every
    # slate is decided by the tie rule (higher score first, lower video id first among equals).
    env = gym.make("RecGym-ShortVideo-v0", n_users=6, n_videos=400, history_mean=4.0, history_std=0.0,
                   history_min=1, cf_refresh_interval=1)
    core = env.unwrapped.core
    env.reset(seed=3)
    rng = np.random.default_rng(5)
    n_boundary_ties = 0
    for _ in range(60):
        user = int(core.simulator.sessions.user[0])
        log = env.unwrapped.interaction_log()
        items, log_users, scores = log_arrays(log)
        brute = brute_force_scores(items, log_users, scores, 400, 6, np.array([user]))[0]
        seen = np.zeros(400, dtype=bool)
        seen[items[log_users == user]] = True
        ranked = np.where(seen, -np.inf, np.round(brute, 4))  # rounding removes float noise, keeps ties
        expected = np.argsort(-ranked, kind="stable")[:10]
        n_boundary_ties += ranked[expected[-1]] == np.sort(ranked)[::-1][10]
        assert set(core.candidates.slates.video[0].tolist()) == set(expected.tolist())
        _, _, terminated, truncated, _ = env.step(int(rng.integers(10)))
        if terminated or truncated:
            env.reset()
    assert n_boundary_ties > 30  # the tie rule decided most slates


@pytest.mark.parametrize("cf_refresh_interval", [None, 3])
def test_scheduled_slates_are_fresh_on_schedule_and_drawn_from_the_last_retrieval(cf_refresh_interval):
    kwargs = {} if cf_refresh_interval is None else {"cf_refresh_interval": cf_refresh_interval}
    env = gym.make("RecGym-ShortVideo-v0", max_steps=12, **kwargs, **SMALL_WORLD)
    core = env.unwrapped.core
    _, info = env.reset(seed=5)
    rng = np.random.default_rng(2)
    n_fresh = n_stale = 0
    retrieval = None
    steps = 0
    for _ in range(200):
        user = int(core.simulator.sessions.user[0])
        log = env.unwrapped.interaction_log()
        seen = seen_mask(log, user)
        videos = core.candidates.slates.video[0]
        expect_fresh = steps == 0 if cf_refresh_interval is None else steps % cf_refresh_interval == 0
        assert info["candidates_fresh"] is expect_fresh
        if info["candidates_fresh"]:
            n_fresh += 1
            brute = brute_for(log, [user])[0]
            np.testing.assert_allclose(core.candidates.slates.similarity[0], brute[videos], rtol=RTOL, atol=ATOL)
            assert_top_unseen(videos, brute, seen)
            retrieval = {"scores": brute, "seen": seen.copy(), "shown": set()}
        else:
            n_stale += 1
            # Unseen now, and the best not-yet-shown items of the last retrieval (by its scores).
            assert not seen[videos].any()
            excluded = retrieval["seen"].copy()
            excluded[list(retrieval["shown"])] = True
            assert_top_unseen(videos, retrieval["scores"], excluded)
            np.testing.assert_allclose(core.candidates.slates.similarity[0], retrieval["scores"][videos],
                                       rtol=RTOL, atol=ATOL)
        action = int(rng.integers(10))
        retrieval["shown"].add(int(videos[action]))
        _, _, terminated, truncated, info = env.step(action)
        steps += 1
        if terminated or truncated:
            _, info = env.reset()
            steps = 0
    assert n_fresh > 20 and n_stale > 50


def test_vector_env_slates_equal_brute_force_for_every_running_session():
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       cf_refresh_interval=1, **SMALL_WORLD)
    core = env.unwrapped.core
    _, info = env.reset(seed=9)
    done = np.zeros(4, dtype=bool)
    rng = np.random.default_rng(3)
    n_checked = 0
    for _ in range(60):
        # A session that just ended shows its final observation (NEXT_STEP autoreset); every other
        # slate is of a running session and must be fresh and equal to the brute force.
        running = ~done
        np.testing.assert_array_equal(info["candidates_fresh"][running], True)
        users = core.simulator.sessions.user.copy()
        log = env.unwrapped.interaction_log()
        brute = brute_for(log, users)
        for slot in np.flatnonzero(running):
            videos = core.candidates.slates.video[slot]
            np.testing.assert_allclose(core.candidates.cf.scores(users[slot : slot + 1])[0], brute[slot],
                                       rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(core.candidates.slates.similarity[slot], brute[slot, videos], rtol=RTOL, atol=ATOL)
            assert_top_unseen(videos, brute[slot], seen_mask(log, users[slot]))
            n_checked += 1
        _, _, terminated, truncated, info = env.step(rng.integers(0, 10, size=4))
        done = terminated | truncated
    assert n_checked > 150


@pytest.mark.parametrize(
    ("weights", "views_scale"), [((0.5, 0.1, 0.3), 0.1), ((1.0, 0.0, 2.0), 0.5), ((-0.2, 0.05, 0.0), 1.0)]
)
@pytest.mark.parametrize("observation_mode", ["box", "dict"])
def test_business_score_is_exact_sorted_and_observed(weights, views_scale, observation_mode):
    kwargs = {} if weights == (0.5, 0.1, 0.3) else {"business_weights": weights, "views_scale": views_scale}
    env = gym.make("RecGym-ShortVideoFatigue-v0", observation_mode=observation_mode, **kwargs, **SMALL_WORLD)
    core = env.unwrapped.core
    layout = env.unwrapped.observation_layout
    obs, _ = env.reset(seed=13)
    rng = np.random.default_rng(4)
    w1, w2, w3 = weights
    for _ in range(120):
        slates, simulator = core.candidates.slates, core.simulator
        user = simulator.sessions.user[0]
        videos = slates.video[0]
        np.testing.assert_array_equal(slates.views[0], simulator.videos.views[videos])
        np.testing.assert_array_equal(slates.category[0], simulator.videos.category[videos])
        np.testing.assert_array_equal(slates.creator[0], simulator.videos.creator[videos])
        np.testing.assert_array_equal(slates.is_interest[0], simulator.users.interest_mask[user, slates.category[0]])
        expected = w1 * slates.similarity[0] + w2 * (views_scale * slates.views[0]) + w3 * slates.is_interest[0]
        np.testing.assert_allclose(slates.score[0], expected, rtol=1e-12, atol=1e-12)
        assert np.all(np.diff(slates.score[0]) <= 0), "slate not sorted by score, best first"
        fields = {
            "candidate_category": slates.category[0], "candidate_creator": slates.creator[0],
            "candidate_is_interest": slates.is_interest[0], "candidate_views": slates.views[0],
            "candidate_similarity": slates.similarity[0], "candidate_score": slates.score[0],
        }
        for name, values in fields.items():
            observed = obs[name] if observation_mode == "dict" else obs[layout[name].flat_slice]
            np.testing.assert_array_equal(observed, np.asarray(values).astype(np.float32), err_msg=name)
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(10)))
        if terminated or truncated:
            obs, _ = env.reset()


def test_greedy_action_zero_shows_the_best_business_score():
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    env.reset(seed=0)
    slates = env.unwrapped.core.candidates.slates
    best = int(slates.video[0, np.argmax(slates.score[0])])
    _, _, _, _, info = env.step(0)
    assert info["video"] == best


@pytest.mark.parametrize(
    ("world", "cf_refresh_interval"),
    [
        ({}, None),  # the pool of 60 entries lasts a session: slates kept up to date entry by entry
        ({}, 3),
        ({"n_videos": 16}, None),  # the catalogue caps the pool: shown entries come back, in CF order
        ({"n_videos": 12}, 4),
    ],
)
def test_slates_are_the_first_entries_not_shown_since_the_retrieval(world, cf_refresh_interval):
    kwargs = {**SMALL_WORLD, "max_steps": 12, **world}
    if cf_refresh_interval is not None:
        kwargs["cf_refresh_interval"] = cf_refresh_interval
    num_envs = 20  # from 16 slots on, slates are kept up to date entry by entry (fewer: from shown flags)
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=num_envs, vectorization_mode="vector_entry_point",
                       autoreset_mode="same_step", **kwargs)  # fmt: skip
    env.reset(seed=4)
    slates = env.unwrapped.core.candidates.slates
    n_candidates, pool_size = 10, env.unwrapped.core.candidates._pool_size
    rng = np.random.default_rng(5)
    shown: list[list[int]] = [[] for _ in range(num_envs)]  # pool entries shown since each slot's retrieval
    videos_of: list[dict[int, int]] = [{} for _ in range(num_envs)]  # entry -> video of the current retrieval
    n_returned = 0
    for _ in range(150):
        for slot in range(num_envs):
            entries = slates.table[slot, ENTRY].astype(int)
            if slates.fresh[slot]:
                shown[slot], videos_of[slot] = [], {}
            not_shown = [e for e in range(pool_size) if e not in shown[slot]]
            expected = (not_shown + sorted(set(shown[slot])))[:n_candidates]
            assert sorted(entries.tolist()) == sorted(expected)
            n_returned += len(set(expected) & set(shown[slot]))
            for entry, video in zip(entries.tolist(), slates.table[slot, VIDEO].astype(int).tolist(), strict=True):
                assert videos_of[slot].setdefault(entry, video) == video  # an entry keeps its video until the next retrieval
            scores = slates.table[slot, SCORE]
            assert np.all(scores[:-1] >= scores[1:])  # best business score first
        actions = rng.integers(0, n_candidates, size=num_envs)
        shown_now = slates.table[np.arange(num_envs), ENTRY, actions].astype(int)
        _, _, terminated, truncated, info = env.step(actions)
        for slot in range(num_envs):
            shown[slot].append(int(shown_now[slot]))
            if terminated[slot] or truncated[slot]:  # the new session's slate is a new retrieval
                assert info["candidates_fresh"][slot]
    assert (n_returned > 0) == (pool_size < n_candidates + (cf_refresh_interval or 12))
