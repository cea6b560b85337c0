"""recgym.metrics against brute-force references and hand-computed values."""

import itertools
import math

import numpy as np
import pytest

from recgym.metrics import (
    OUTCOME_RATES,
    catalogue_coverage,
    category_coverage,
    diversity_from_counts,
    exposure_counts,
    exposure_gini,
    gini,
    intra_list_diversity,
    outcome_counts,
    outcome_rates,
    rates_from_counts,
    regret_summary,
    share_shown,
)


def brute_gini(values):
    x = np.asarray(values, dtype=float)
    return sum(abs(a - b) for a in x for b in x) / (2 * len(x) * x.sum())


def brute_diversity(categories):
    pairs = list(itertools.combinations(categories, 2))
    return sum(a != b for a, b in pairs) / len(pairs)


@pytest.mark.parametrize("seed", range(5))
def test_gini_equals_the_mean_absolute_difference_formula(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 20, size=rng.integers(2, 30)).astype(float)
    values[0] += 1  # not all zero
    assert gini(values) == pytest.approx(brute_gini(values), abs=1e-12)


def test_gini_extremes_and_bad_input():
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 7]) == pytest.approx(0.75)  # (K - 1) / K
    assert gini([3]) == 0.0
    assert math.isnan(gini([0, 0]))
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])
    with pytest.raises(ValueError, match="at least one"):
        gini([])


def test_exposure_gini_counts_every_creator_including_unseen_ones():
    # creators 0,0,1,0,2 of 4: counts 3,1,1,0; sum of |differences| over ordered pairs 18 -> 18 / (2 * 4 * 5)
    assert exposure_counts([0, 0, 1, 0, 2], 4).tolist() == [3, 1, 1, 0]
    assert exposure_gini([0, 0, 1, 0, 2], 4) == pytest.approx(0.45)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        exposure_counts([4], 4)


@pytest.mark.parametrize("seed", range(5))
def test_intra_list_diversity_is_the_share_of_pairs_in_different_categories(seed):
    rng = np.random.default_rng(seed)
    categories = rng.integers(0, 5, size=rng.integers(2, 25)).tolist()
    assert intra_list_diversity(categories) == pytest.approx(brute_diversity(categories), abs=1e-12)


def test_diversity_by_hand_and_from_count_rows():
    # a, a, b, c, a: 10 pairs, 3 of them (a, a): 7 / 10 differ
    assert intra_list_diversity(["a", "a", "b", "c", "a"]) == pytest.approx(0.7)
    assert intra_list_diversity(["a", "b"]) == 1.0 and intra_list_diversity(["a", "a"]) == 0.0
    assert math.isnan(intra_list_diversity(["a"])) and math.isnan(intra_list_diversity([]))
    rows = diversity_from_counts([[3, 1, 1], [1, 0, 0], [2, 2, 0]])
    assert rows[0] == pytest.approx(0.7) and math.isnan(rows[1]) and rows[2] == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="non-negative"):
        diversity_from_counts([1, -1])


def test_outcome_rates_by_hand():
    outcomes = ["watched", "watched", "liked", "skipped", "session_end", "watched", "liked", "watched"]
    assert outcome_counts(outcomes) == {"watched": 4, "liked": 2, "skipped": 1, "session_end": 1}
    assert outcome_rates(outcomes) == {"watch_rate": 0.5, "like_rate": 0.25, "skip_rate": 0.125, "end_rate": 0.125}
    assert set(OUTCOME_RATES.values()) == set(rates_from_counts({}, 3))
    assert all(math.isnan(value) for value in rates_from_counts({"watched": 0}, 0).values())
    with pytest.raises(ValueError, match="steps must be >= 0"):
        rates_from_counts({}, -1)


def test_coverage_counts_distinct_ids():
    assert catalogue_coverage([5, 5, 7, 9, 1], 10) == pytest.approx(0.4)
    assert category_coverage([0, 0, 3], 4) == pytest.approx(0.5)
    assert catalogue_coverage([], 10) == 0.0
    assert share_shown([0, 2, 0, 1]) == 0.5
    with pytest.raises(ValueError, match="size must be a positive integer"):
        catalogue_coverage([1], 0)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        category_coverage([3], 3)


def test_regret_summary_by_hand():
    assert regret_summary([0.0, 0.5, 1.0, 0.0]) == {"regret": 0.375, "cumulative_regret": 1.5, "zero_regret_rate": 0.5}
    empty = regret_summary([])
    assert math.isnan(empty["regret"]) and empty["cumulative_regret"] == 0.0
    with pytest.raises(ValueError, match="finite"):
        regret_summary([np.nan])
