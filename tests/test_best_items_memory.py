"""The best-item search holds at most about ``chunk_bytes`` of ratings at once, whatever the world's size."""

from __future__ import annotations

import tracemalloc

import numpy as np

from recgym.simulators.ratings import best_items, dense_best_items


def _peak_bytes(function, *args) -> int:
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_is_bounded_by_the_chunk_not_the_matrix():
    rng = np.random.default_rng(0)
    users, items = rng.uniform(size=(6000, 10)), rng.uniform(size=(6000, 10))
    chunk = 256 * 1024
    peak = _peak_bytes(best_items, users, items, chunk)
    matrix_bytes = 6000 * 6000 * 8  # 288 MB if materialised
    # One block at a time, plus a transposed copy of the items and the two result arrays: never the matrix.
    assert peak < 1.1 * chunk + items.nbytes + 6000 * 16 + 64 * 1024, peak
    assert peak < matrix_bytes / 100


def test_small_chunks_give_the_dense_answer_on_a_wide_catalogue():
    rng = np.random.default_rng(1)
    users, items = rng.uniform(size=(300, 10)), rng.uniform(size=(5000, 10))
    best, best_mean = best_items(users, items, chunk_bytes=1024)  # one user per block
    dense_best, dense_mean = dense_best_items(users, items)
    np.testing.assert_array_equal(best, dense_best)
    np.testing.assert_allclose(best_mean, dense_mean, rtol=0, atol=1e-12)
