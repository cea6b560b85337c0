"""The rating window of Thompson MF: per-pair counts and sums, updated batch by batch, against a brute-force sum."""

import numpy as np

from agents.bandit_rating_window import RatingWindow, pair_ratings


def _brute_force(batches, n_items):
    users = np.concatenate([b[0] for b in batches])
    items = np.concatenate([b[1] for b in batches])
    ratings = np.concatenate([b[2] for b in batches])
    keys = users * n_items + items
    unique = np.unique(keys)
    counts = np.array([(keys == key).sum() for key in unique], dtype=float)
    sums = np.array([ratings[keys == key].sum() for key in unique])
    return unique, counts, sums


def test_pair_ratings_sums_repeated_pairs():
    pairs = pair_ratings(np.array([2, 0, 2, 2]), np.array([1, 3, 1, 0]), np.array([1.0, 2.0, 3.0, 4.0]), n_items=4)
    assert pairs.users.tolist() == [0, 2, 2] and pairs.items.tolist() == [3, 0, 1]
    assert pairs.counts.tolist() == [1.0, 1.0, 2.0] and pairs.sums.tolist() == [2.0, 4.0, 4.0]
    assert pairs.keys.tolist() == (pairs.users * 4 + pairs.items).tolist()


def test_window_equals_the_brute_force_sums_of_its_batches():
    rng = np.random.default_rng(0)
    n_users, n_items, width = 7, 5, 3
    window, kept = RatingWindow(n_items), []
    for _ in range(40):
        size = int(rng.integers(1, 12))
        # Few entities: pairs repeat within a batch and across batches, and leave and come back.
        batch = (rng.integers(0, n_users, size), rng.integers(0, n_items, size), rng.normal(3, 1, size))
        window.append(pair_ratings(*batch, n_items))
        kept.append(batch)
        if len(kept) > width:
            left = window.popleft()
            gone = kept.pop(0)
            np.testing.assert_array_equal(left.keys, np.unique(gone[0] * n_items + gone[1]))
        keys, counts, sums = _brute_force(kept, n_items)
        pairs = window.pairs()
        assert len(window) == len(kept)
        np.testing.assert_array_equal(pairs.keys, keys)
        np.testing.assert_array_equal(pairs.counts, counts)
        np.testing.assert_allclose(pairs.sums, sums, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(pairs.users * n_items + pairs.items, keys)
