"""``top_k`` against a stable argsort: higher score first, lower item id first among equals."""

import numpy as np
import pytest

from recgym.candidates import top_k
from recgym.candidates.ranking import ranking_keys


def reference_top_k(scores, k):
    values = np.asarray(scores, dtype=np.float32)
    return np.argsort(-values, axis=1, kind="stable")[:, :k]


def tricky_scores(rng, n_rows, n_items):
    """Few distinct values (many ties), signed zeros, infinities, negatives and tiny magnitudes."""
    palette = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -np.inf, 2.5, 1e-30, -1e-30, 3.4e38, -3.4e38], dtype=np.float32)
    return palette[rng.integers(0, len(palette), size=(n_rows, n_items))]


@pytest.mark.parametrize("n_items", [1, 2, 7, 64, 1000])
def test_top_k_matches_stable_argsort_with_ties_zeros_and_infinities(n_items):
    rng = np.random.default_rng(n_items)
    scores = tricky_scores(rng, 25, n_items)
    for k in sorted(k for k in {1, 2, n_items // 2, n_items - 1, n_items} if 1 <= k <= n_items):
        got = top_k(scores, k)
        assert got.shape == (25, k) and got.dtype == np.int64
        np.testing.assert_array_equal(got, reference_top_k(scores, k))


def test_top_k_on_continuous_scores_and_all_tied_rows():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 300)).astype(np.float32)
    scores[3] = 0.0  # all tied: ids in order
    scores[4] = -np.inf
    scores[5, ::2] = -0.0
    np.testing.assert_array_equal(top_k(scores, 40), reference_top_k(scores, 40))
    np.testing.assert_array_equal(top_k(scores, 40)[3], np.arange(40))
    np.testing.assert_array_equal(top_k(scores, 40)[4], np.arange(40))


def test_top_k_compares_as_float32():
    # 1 + 1e-12 and 1 are the same float32: the lower id wins the tie.
    scores = np.array([[1.0, 1.0 + 1e-12, 0.5]], dtype=np.float64)
    np.testing.assert_array_equal(top_k(scores, 2), [[0, 1]])


def test_negative_zero_ties_with_positive_zero():
    scores = np.array([[-0.0, 0.0, -0.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(top_k(scores, 4), [[0, 1, 2, 3]])
    scores = np.array([[0.0, -0.0, 0.0, -1.0]], dtype=np.float32)
    np.testing.assert_array_equal(top_k(scores, 3), [[0, 1, 2]])


def test_ranking_keys_are_distinct_and_ordered_like_score_then_lower_id():
    rng = np.random.default_rng(1)
    scores = tricky_scores(rng, 10, 200)
    keys = ranking_keys(scores)
    for row_scores, row_keys in zip(scores, keys, strict=True):
        assert len(np.unique(row_keys)) == len(row_keys)
        order = np.argsort(-row_keys)
        np.testing.assert_array_equal(order, np.argsort(-row_scores, kind="stable"))


@pytest.mark.parametrize("k", [0, -1, 11])
def test_top_k_rejects_k_outside_one_to_n(k):
    with pytest.raises(ValueError, match=rf"k must be in \[1, 10\], got {k}"):
        top_k(np.zeros((2, 10), dtype=np.float32), k)
