"""Thompson-sampling MF: Bayesian updates against Bishop's closed form and a per-interaction loop, learning, knobs."""

import copy

import numpy as np
import pandas as pd
import pytest

from agents import thompson_mf
from agents.batch_recommender import PeriodAdapter, make_period_env
from agents.gaussian_beliefs import (
    NaturalBeliefs,
    covariance,
    draw,
    factored_mean,
    inverse_cholesky_factor,
    lower_indices,
    moments,
    pack_lower,
    second_moments_lower,
    sum_by_row,
    transposed,
    unpack_symmetric,
)
from agents.thompson_mf import ThompsonConfig, ThompsonMF


def _interactions(users, items, ratings):
    return pd.DataFrame({"user": users, "item": items, "rating": ratings})


def _bishop(prior_mean, prior_cov, phi, targets, beta):
    """Bishop 3.50–3.51 with explicit inverses: m_N = S_N (S_0⁻¹ m_0 + β Φᵀ t), S_N⁻¹ = S_0⁻¹ + β ΦᵀΦ."""
    prior_precision = np.linalg.inv(prior_cov)
    cov = np.linalg.inv(prior_precision + beta * phi.T @ phi)
    return cov @ (prior_precision @ prior_mean + beta * phi.T @ targets), cov


def test_natural_update_equals_bishop_closed_form_in_any_order():
    rng = np.random.default_rng(0)
    d, beta = 3, 4.0
    prior_mean, prior_var = rng.normal(size=d), np.array([0.5, 2.0, 1.5])
    phi, targets = rng.normal(size=(7, d)), rng.normal(size=7)
    expected_mean, expected_cov = _bishop(prior_mean, np.diag(prior_var), phi, targets, beta)

    batch = NaturalBeliefs.from_prior(1, prior_mean, prior_var)
    batch.add(np.array([0]), (phi.T @ phi)[None], (phi.T @ targets)[None], beta)
    mean, cov = batch.moments()
    np.testing.assert_allclose(mean[0], expected_mean, rtol=1e-10)
    np.testing.assert_allclose(cov[0], expected_cov, rtol=1e-10)

    # One observation at a time, in reverse order, gives the same posterior (features fixed).
    sequential = NaturalBeliefs.from_prior(1, prior_mean, prior_var)
    for j in reversed(range(len(targets))):
        sequential.add(np.array([0]), np.outer(phi[j], phi[j])[None], (phi[j] * targets[j])[None], beta)
    np.testing.assert_allclose(sequential.moments()[0][0], expected_mean, rtol=1e-10)


def test_packed_lower_triangles_round_trip_and_natural_beliefs_keep_them():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 4, 7))
    precision = a @ a.transpose(0, 2, 1) + 0.3 * np.eye(4)
    packed = pack_lower(precision)
    assert packed.shape == (5, 10)
    np.testing.assert_array_equal(packed[:, :3], precision[:, [0, 1, 1], [0, 0, 1]])  # Λ00, Λ10, Λ11: row by row
    np.testing.assert_array_equal(unpack_symmetric(packed, 4), precision)
    assert not lower_indices(4).flags.writeable
    # A strided 2-D array (a column slice, as the sparse sums' packed grams are) transposes exactly, over several blocks.
    wide = rng.normal(size=(700, 13))
    np.testing.assert_array_equal(transposed(wide[:, 2:12]), wide[:, 2:12].T)
    assert transposed(wide[:, 2:12]).flags.c_contiguous

    shift = rng.normal(size=(5, 4))
    beliefs = NaturalBeliefs(precision, shift)
    np.testing.assert_array_equal(beliefs.precision, precision)
    gram = a[:, :, :2] @ a[:, :, :2].transpose(0, 2, 1)
    rhs = rng.normal(size=(5, 4))
    # Conditioning without changing, and conditioning in place (full or packed grams): the same beliefs, bit for bit.
    factored = beliefs.factored_mean(np.array([1, 3]), pack_lower(gram[[1, 3]]), rhs[[1, 3]], 2.0)
    expected_mean, expected_factor = factored_mean(precision[[1, 3]], shift[[1, 3]], gram[[1, 3]], rhs[[1, 3]], 2.0)
    np.testing.assert_array_equal(factored.mean, expected_mean)
    np.testing.assert_array_equal(factored.inverse_factor, expected_factor)
    np.testing.assert_array_equal(np.moveaxis(factored.inverse_factor_last, -1, 0), expected_factor)
    # E[z zᵀ] of those beliefs, packed, against the explicit inverse.
    conditioned = precision[[1, 3]] + 2.0 * gram[[1, 3]]
    expected_second = np.linalg.inv(conditioned) + expected_mean[:, :, None] * expected_mean[:, None, :]
    np.testing.assert_allclose(second_moments_lower(factored.mean, factored.inverse_factor_last),
                               pack_lower(expected_second).T, rtol=1e-10)
    beliefs.add(np.array([1]), gram[[1]], rhs[[1]], 2.0)
    beliefs.add(np.array([3]), pack_lower(gram[[3]]), rhs[[3]], 2.0)
    np.testing.assert_array_equal(beliefs.factored_mean(np.array([1, 3])).mean, expected_mean)
    np.testing.assert_array_equal(beliefs.precision[[0, 2, 4]], precision[[0, 2, 4]])  # the others untouched
    with pytest.raises(ValueError, match="shift must have shape"):
        NaturalBeliefs(precision, shift[:, :3])


def test_natural_update_recovers_a_planted_vector():
    rng = np.random.default_rng(1)
    truth, noise_std = rng.uniform(0, 1, size=10), 0.1
    phi = rng.uniform(0, 1, size=(2000, 10))
    targets = phi @ truth + noise_std * rng.standard_normal(2000)
    beliefs = NaturalBeliefs.from_prior(1, np.zeros(10), np.full(10, 10.0))
    beliefs.add(np.array([0]), (phi.T @ phi)[None], (phi.T @ targets)[None], 1 / noise_std**2)
    mean, cov = beliefs.moments()
    z = (mean[0] - truth) / np.sqrt(np.diag(cov[0]))
    assert np.all(np.abs(z) < 4.5)  # within the posterior's own uncertainty
    assert np.max(np.abs(mean[0] - truth)) < 0.05


def test_inverse_cholesky_factor_gives_the_inverse_the_mean_and_exact_draws():
    rng = np.random.default_rng(30)
    a = rng.normal(size=(4, 3, 6))
    precision = a @ a.transpose(0, 2, 1) + 0.5 * np.eye(3)
    shift = rng.normal(size=(4, 3))
    factor = inverse_cholesky_factor(precision)
    assert np.array_equal(factor, np.tril(factor))
    np.testing.assert_allclose(factor @ precision @ factor.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (4, 3, 3)),
                               atol=1e-12)
    cov = covariance(factor)
    assert np.array_equal(cov, cov.transpose(0, 2, 1))  # exactly symmetric
    np.testing.assert_allclose(cov, np.linalg.inv(precision), rtol=1e-10)
    mean, again = factored_mean(precision, shift)
    np.testing.assert_allclose(mean, np.linalg.solve(precision, shift[:, :, None])[:, :, 0], rtol=1e-10)
    np.testing.assert_array_equal(again, factor)
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        inverse_cholesky_factor(-precision)

    # 40,000 draws of belief 0: sample mean and covariance within a few standard errors of the truth.
    n = 40_000
    draws = draw(np.broadcast_to(mean[0], (n, 3)), np.broadcast_to(factor[0], (n, 3, 3)), np.random.default_rng(31))
    sd = np.sqrt(np.diag(cov[0]))
    assert np.all(np.abs(draws.mean(axis=0) - mean[0]) < 4 * sd / np.sqrt(n))
    np.testing.assert_allclose(np.cov(draws.T), cov[0], atol=0.03 * sd.max() ** 2)


def test_sum_by_row_matches_a_loop():
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 6, size=40)
    values = rng.normal(size=(40, 2, 2))
    unique, sums = sum_by_row(rows, values)
    assert unique.tolist() == sorted(set(rows.tolist()))
    for row, total in zip(unique, sums, strict=True):
        np.testing.assert_allclose(total, values[rows == row].sum(axis=0))


def _expectations(mean, cov, rank, biases):
    """E[f fᵀ], E[f], E[f · offset] of one belief, written out: f = [latent, 1] and offset = bias with biases."""
    second = cov + np.outer(mean, mean)
    first, cross = mean.copy(), np.zeros_like(mean)
    if biases:
        second[rank, :rank] = second[:rank, rank] = mean[:rank]
        second[rank, rank] = 1.0
        first[rank] = 1.0
        cross = cov[:, rank] + mean * mean[rank]
        cross[rank] = mean[rank]
    return second, first, cross


def _loop_update(own, other, rows, cols, ratings, mu, config):
    """Condition beliefs ``own`` on each interaction in turn (Bishop 3.50–3.51), the other side's beliefs fixed."""
    mean, cov = own[0].copy(), own[1].copy()
    for row, col, rating in zip(rows, cols, ratings, strict=True):
        second, first, cross = _expectations(other[0][col], other[1][col], config.rank, config.biases)
        old_precision = np.linalg.inv(cov[row])
        cov[row] = np.linalg.inv(old_precision + config.beta * second)
        mean[row] = cov[row] @ (old_precision @ mean[row] + config.beta * ((rating - mu) * first - cross))
    return mean, cov


@pytest.mark.parametrize("biases", [False, True])
def test_vectorised_moment_update_equals_the_per_interaction_loop(biases):
    """Two batches with window 0: the first is folded into the stored parameters when the second arrives."""
    rng = np.random.default_rng(3)
    agent = ThompsonMF(6, 5, seed=4, rank=3, biases=biases, window=0, n_sweeps=1, relaxation=1.0, beta=3.0, alpha=0.7,
                       alpha_bias=0.4, init_scale=0.5)
    config = agent.config
    user_prior, item_prior = agent.user_beliefs(), agent.item_beliefs()
    first = (rng.integers(0, 6, 8), rng.integers(0, 5, 8), rng.normal(3, 1, 8))
    # Repeated users, items and pairs.
    second = (np.array([0, 1, 1, 3, 5, 5, 5, 2]), np.array([4, 4, 0, 2, 1, 1, 3, 4]), rng.normal(3, 1, 8))

    agent.learn(_interactions(*first))
    mu = first[2].mean() if biases else 0.0
    users_1 = _loop_update(user_prior, item_prior, first[0], first[1], first[2], mu, config)
    items_1 = _loop_update(item_prior, users_1, first[1], first[0], first[2], mu, config)
    for got, want in zip((*agent.user_beliefs(), *agent.item_beliefs()), (*users_1, *items_1), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)

    agent.learn(_interactions(*second))
    mu = np.r_[first[2], second[2]].mean() if biases else 0.0
    # The first batch leaves the window with the beliefs of the sweep it leaves in: its users' statistics
    # against the items before the sweep, its items' against the users after the users' half-sweep.
    stored_users = _loop_update(user_prior, items_1, first[0], first[1], first[2], mu, config)
    users_2 = _loop_update(stored_users, items_1, second[0], second[1], second[2], mu, config)
    stored_items = _loop_update(item_prior, users_2, first[1], first[0], first[2], mu, config)
    items_2 = _loop_update(stored_items, users_2, second[1], second[0], second[2], mu, config)
    for got, want in zip((*agent.user_beliefs(), *agent.item_beliefs()), (*users_2, *items_2), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("window", "biases"), [(1, True), (2, False), (2, True)])
def test_windowed_moment_update_equals_the_per_interaction_loop(window, biases):
    """Four batches: each learn recomputes the window's statistics from the current beliefs and folds the batch that leaves.

    Reference, by per-interaction loops: the window's users given the items, then its items given
    the updated users, both from the stored beliefs; a leaving batch is added to the stored users
    with the items before the sweep and to the stored items with the users after it.
    """
    rng = np.random.default_rng(20)
    agent = ThompsonMF(6, 5, seed=21, rank=3, biases=biases, window=window, n_sweeps=1, relaxation=1.0, beta=2.0,
                       alpha=0.6, alpha_bias=0.3, init_scale=0.5)
    config = agent.config
    stored_users, stored_items = agent.user_beliefs(), agent.item_beliefs()
    users, items = stored_users, stored_items
    batches = [(rng.integers(0, 6, 7), rng.integers(0, 5, 7), rng.normal(3, 1, 7)) for _ in range(4)]
    batches[2] = (np.r_[batches[1][0][:3], 5], np.r_[batches[1][1][:3], 4], rng.normal(3, 1, 4))  # pairs seen before
    for t, batch in enumerate(batches):
        agent.learn(_interactions(*batch))
        seen = np.concatenate([ratings for _, _, ratings in batches[: t + 1]])
        mu = seen.mean() if biases else 0.0
        current = [np.concatenate(column) for column in zip(*batches[max(0, t - window) : t + 1], strict=True)]
        leaving = batches[t - window - 1] if t > window else None
        if leaving is not None:
            stored_users = _loop_update(stored_users, items, leaving[0], leaving[1], leaving[2], mu, config)
        users = _loop_update(stored_users, items, current[0], current[1], current[2], mu, config)
        if leaving is not None:
            stored_items = _loop_update(stored_items, users, leaving[1], leaving[0], leaving[2], mu, config)
        items = _loop_update(stored_items, users, current[1], current[0], current[2], mu, config)
        for got, want in zip((*agent.user_beliefs(), *agent.item_beliefs()), (*users, *items), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("biases", [False, True])
def test_vectorised_seed_update_equals_the_per_interaction_loop(biases):
    rng = np.random.default_rng(5)
    config = ThompsonConfig.seed_preset(rank=2, n_samples=25, biases=biases, beta=0.5, alpha=2.0)
    agent = ThompsonMF(4, 3, config, seed=6)
    users, items = np.array([0, 2, 2, 3, 1]), np.array([1, 1, 0, 2, 1])
    ratings = rng.normal(2, 1, len(users))
    mu = ratings.mean() if biases else 0.0
    k, d, s, beta = 2, agent.dim, 25, 0.5
    draws_rng = copy.deepcopy(agent.rng)
    user_mean, user_cov = agent.user_beliefs()
    item_mean, item_cov = agent.item_beliefs()

    def features(mean, cov):
        """The seed's loop: n_samples draws of the other side's vector for one interaction."""
        draws = mean + (np.linalg.cholesky(cov) @ draws_rng.standard_normal((d, s))).T
        offset = np.zeros(s)
        if biases:
            offset = draws[:, k].copy()
            draws[:, k] = 1.0
        return draws, offset

    user_precision = np.linalg.inv(user_cov)
    user_shift = np.einsum("nij,nj->ni", user_precision, user_mean)
    for j, (user, item) in enumerate(zip(users, items, strict=True)):
        phi, offset = features(item_mean[item], item_cov[item])
        user_precision[user] += beta * phi.T @ phi
        user_shift[user] += beta * phi.T @ (ratings[j] - mu - offset)
    user_mean, user_cov = moments(user_precision, user_shift)
    item_precision = np.linalg.inv(item_cov)
    item_shift = np.einsum("nij,nj->ni", item_precision, item_mean)
    for j, (user, item) in enumerate(zip(users, items, strict=True)):
        phi, offset = features(user_mean[user], user_cov[user])
        item_precision[item] += beta * phi.T @ phi
        item_shift[item] += beta * phi.T @ (ratings[j] - mu - offset)
    item_mean, item_cov = moments(item_precision, item_shift)

    agent.learn(_interactions(users, items, ratings))
    np.testing.assert_allclose(agent.user_beliefs()[0], user_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(agent.user_beliefs()[1], user_cov, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(agent.item_beliefs()[0], item_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(agent.item_beliefs()[1], item_cov, rtol=1e-8, atol=1e-10)


def test_seed_update_approaches_the_moment_update_with_many_samples():
    """ΦᵀΦ / n_samples → E[f fᵀ]: the seed's Monte-Carlo update is the moment update with β · n_samples."""
    rng = np.random.default_rng(7)
    users, items, ratings = rng.integers(0, 5, 12), rng.integers(0, 4, 12), rng.normal(2.5, 0.5, 12)
    common = dict(rank=2, alpha=0.3, biases=False, n_sweeps=1, window=0, init_scale=0.3, relaxation=1.0)
    seed_agent = ThompsonMF(5, 4, ThompsonConfig(update="seed", n_samples=20_000, beta=0.01, **common), seed=8)
    moment_agent = ThompsonMF(5, 4, ThompsonConfig(update="moment", beta=0.01 * 20_000, **common), seed=8)
    for agent in (seed_agent, moment_agent):
        agent.learn(_interactions(users, items, ratings))
    np.testing.assert_allclose(seed_agent.user_beliefs()[0], moment_agent.user_beliefs()[0], atol=0.05)
    np.testing.assert_allclose(seed_agent.item_beliefs()[0], moment_agent.item_beliefs()[0], atol=0.05)


def test_learns_a_planted_low_rank_world():
    """Observing every pair of a planted rank-2 world a few times, the posterior means predict the true ratings."""
    rng = np.random.default_rng(9)
    n_users, n_items, rank = 30, 20, 2
    P, Q = rng.uniform(0, 1, (n_users, rank)), rng.uniform(0, 1, (n_items, rank))
    agent = ThompsonMF(n_users, n_items, seed=10, rank=rank, window=3, n_sweeps=3, beta=100.0)
    users, items = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    users, items = users.ravel(), items.ravel()
    for _ in range(6):
        agent.learn(_interactions(users, items, (P @ Q.T)[users, items] + 0.1 * rng.standard_normal(len(users))))
    error = agent.predict(users, items) - (P @ Q.T)[users, items]
    assert np.sqrt(np.mean(error**2)) < 0.05  # the noise of one rating is 0.1


def test_thompson_learns_to_recommend_on_a_small_world():
    env = make_period_env(n_users=200, n_items=100, n_features=4)
    adapter = PeriodAdapter(env)
    adapter.reset(seed=11)
    agent = ThompsonMF(200, 100, seed=11, rank=4)
    regrets = [adapter.step(agent).mean_regret for _ in range(25)]
    assert regrets[0] > 0.5  # the first period is blind
    assert np.mean(regrets[-5:]) < 0.25 * regrets[0]


def test_window_keeps_a_bounded_number_of_batches_and_folds_the_rest():
    rng = np.random.default_rng(12)
    agent = ThompsonMF(10, 8, seed=13, rank=2, window=2)
    prior_precision = agent._user.stored.precision.copy()
    for period in range(6):
        agent.learn(_interactions(rng.integers(0, 10, 10), rng.integers(0, 8, 10), rng.normal(2, 1, 10)))
        assert len(agent._window) == min(period + 1, 3)  # the current batch and at most `window` before it
    # Three batches have been folded into the stored parameters.
    assert not np.allclose(agent._user.stored.precision, prior_precision)


def test_recommendations_are_deterministic_per_seed_and_spread_over_catalogue_draws():
    users = np.arange(50)
    one = ThompsonMF(50, 40, seed=14, catalogue_draws=1, rank=3)
    many = ThompsonMF(50, 40, seed=14, catalogue_draws=50, rank=3)
    again = ThompsonMF(50, 40, seed=14, catalogue_draws=50, rank=3)
    frame = many.recommend(users)
    assert frame.columns.tolist() == ["user", "item", "predicted_rating"]
    assert frame["user"].tolist() == users.tolist()
    pd.testing.assert_frame_equal(frame, again.recommend(users))
    assert many.recommend([]).empty
    # From the prior, one shared catalogue draw sends many users to the same item; independent draws spread them.
    assert one.recommend(users)["item"].nunique() < frame["item"].nunique()


@pytest.mark.parametrize("n_items, n_draws", [(1000, 32), (12, 16), (7, 200), (1, 3)])
def test_catalogue_draws_give_each_draw_its_own_permutation_of_the_pool(n_items, n_draws):
    """Within a draw no two items share a pool vector; draws differ while there are enough distinct orders."""
    agent = ThompsonMF(4, n_items, seed=40, rank=2)
    d = agent.dim
    factors = np.zeros((n_items, d + 1, d), dtype=np.float32)
    factors[:, :d] = np.eye(d, dtype=np.float32)  # a draw is then the item's pool vector itself
    pool = np.ones((n_items, d + 1), dtype=np.float32)
    pool[:, 0] = np.arange(n_items)  # pool row r carries its index
    rows = agent._catalogue_draws(pool, factors, n_draws)[:, :, 0].astype(np.int64)  # (items, draws)
    assert np.array_equal(np.sort(rows, axis=0), np.broadcast_to(np.arange(n_items)[:, None], rows.shape))
    distinct_orders = len({tuple(column) for column in rows.T})
    available = len(np.flatnonzero(np.gcd(np.arange(n_items), n_items) == 1)) * n_items  # affine maps (a, c)
    if n_draws <= available:
        assert distinct_orders == n_draws
    else:  # more draws than orders: some repeat
        assert distinct_orders <= available


@pytest.mark.parametrize("cache_entries", [1, 130, 200, 1 << 17])  # 1, 2, 3 or all 7 draws at a time
def test_scores_taken_a_few_draws_at_a_time_pick_the_full_products_argmax(monkeypatch, cache_entries):
    """However many draws share the reused score buffer (one, some, a remainder, all), each request gets the same item."""
    monkeypatch.setattr(thompson_mf, "SCORE_CACHE_ENTRIES", cache_entries)
    rng = np.random.default_rng(41)
    agent = ThompsonMF(4, 13, seed=41, rank=2)
    requests = rng.standard_normal((7, 5, agent.dim)).astype(np.float32)
    by_draw = rng.standard_normal((7, agent.dim, 13)).astype(np.float32)
    expected = np.argmax(np.matmul(requests, by_draw), axis=2)
    np.testing.assert_array_equal(agent._argmax_scores(requests, by_draw), expected)


def test_catalogue_draws_are_exact_posterior_samples_independent_across_items():
    """Every catalogue draw of an item is a sample of its belief; within a draw two items' noises are independent."""
    rng = np.random.default_rng(32)
    agent = ThompsonMF(8, 6, seed=33, rank=2)
    # Beliefs with strongly correlated coordinates, so that a wrong factor shows.
    a = rng.normal(size=(6, 3, 3))
    precision = a @ a.transpose(0, 2, 1) + 0.2 * np.eye(3)
    agent._item = agent._beliefs(NaturalBeliefs(precision, rng.normal(size=(6, 3))))
    mean, cov = agent.item_beliefs()
    factors = agent._item_draw_factors()
    d, n_draws, reps = agent.dim, 8, 1500
    samples = np.empty((reps, 6, n_draws, d))
    for rep in range(reps):
        pool = np.ones((6, d + 1), dtype=np.float32)
        pool[:, :d] = agent.rng.standard_normal((6, d), dtype=np.float32)
        samples[rep] = agent._catalogue_draws(pool, factors, n_draws)
    flat = samples.transpose(1, 0, 2, 3).reshape(6, reps * n_draws, d)  # per item, every draw
    for item in range(6):
        sd = np.sqrt(np.diag(cov[item]))
        # The draws of one call share a pool of 6 vectors: count `reps` independent samples.
        assert np.all(np.abs(flat[item].mean(axis=0) - mean[item]) < 5 * sd / np.sqrt(reps))
        np.testing.assert_allclose(np.cov(flat[item].T) / np.outer(sd, sd), cov[item] / np.outer(sd, sd), atol=0.08)
    # Items 0 and 1 in the same draw: uncorrelated.
    noise0 = (flat[0] - mean[0])[:, 0] / np.sqrt(cov[0][0, 0])
    noise1 = (flat[1] - mean[1])[:, 0] / np.sqrt(cov[1][0, 0])
    assert abs(np.mean(noise0 * noise1)) < 0.05


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rank": 0}, "rank"),
        ({"alpha": 0.0}, "alpha"),
        ({"beta": -1.0}, "beta"),
        ({"update": "gibbs"}, "update"),
        ({"window": -1}, "window"),
        ({"n_sweeps": 0}, "n_sweeps"),
        ({"catalogue_draws": 0}, "catalogue_draws"),
        ({"init_scale": 0.0}, "init_scale"),
        ({"relaxation": 2.5}, "relaxation"),
        ({"update": "seed", "window": 3}, "window"),
        ({"biases": "yes"}, "biases"),
    ],
)
def test_bad_knobs_are_rejected_by_name(change, words):
    with pytest.raises(ValueError, match=words):
        ThompsonConfig(**change)


def test_bad_inputs_are_rejected():
    agent = ThompsonMF(5, 4, seed=0, rank=2)
    with pytest.raises(ValueError, match="users"):
        agent.recommend([0, 5])
    with pytest.raises(ValueError, match="n_users"):
        ThompsonMF(0, 4)
    with pytest.raises(ValueError, match="missing"):
        agent.learn(pd.DataFrame({"user": [0], "item": [1]}))
    with pytest.raises(ValueError, match="item"):
        agent.learn(_interactions([0], [4], [1.0]))
    with pytest.raises(ValueError, match="finite"):
        agent.learn(_interactions([0], [1], [np.nan]))
