"""Sample size and power (recgym.ab.design): SPEC §5's figures, agreement with statsmodels, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import power_proportions_2indep, proportion_effectsize, samplesize_proportions_2indep_onetail

from recgym.ab.design import power_means, power_proportions, sample_size_means, sample_size_proportions


def test_spec_case_reproduces_the_seed_1124_and_1074():
    corrected = sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9, continuity_correction=True)
    plain = sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9)
    assert (corrected.n_a, corrected.n_b) == (1124, 1124)
    assert (plain.n_a, plain.n_b, plain.total) == (1074, 1074, 2148)


def test_spec_case_by_hand_from_fleiss_formula():
    # p̄ = 0.09; n = (1.959964 √(2·0.09·0.91) + 1.281552 √(0.07·0.93 + 0.11·0.89))² / 0.04²
    z_a, z_b = 1.959963984540054, 1.2815515655446004
    n = (z_a * math.sqrt(2 * 0.09 * 0.91) + z_b * math.sqrt(0.07 * 0.93 + 0.11 * 0.89)) ** 2 / 0.04**2
    assert sample_size_proportions(0.07, 0.04, power=0.9).exact_n_a == pytest.approx(n, rel=1e-12)
    corrected = n / 4 * (1 + math.sqrt(1 + 4 / (n * 0.04))) ** 2
    assert sample_size_proportions(0.07, 0.04, power=0.9, continuity_correction=True).exact_n_a == pytest.approx(corrected)


GRID = [(p, mde, alpha, power, ratio)
        for p in (0.02, 0.07, 0.3, 0.6)
        for mde in (0.01, 0.05, -0.015)
        for alpha in (0.01, 0.05, 0.1)
        for power in (0.8, 0.9)
        for ratio in (1.0, 2.0, 0.5)
        if 0 < p + mde < 1]


@pytest.mark.parametrize("sides", ["two-sided", "one-sided"])
def test_proportions_agree_with_statsmodels_on_a_grid(sides):
    alternative = {"two-sided": "two-sided", "one-sided": None}
    for p, mde, alpha, power, ratio in GRID:
        ours = sample_size_proportions(p, mde, alpha=alpha, power=power, sides=sides, ratio=ratio)
        # statsmodels: prop1 = prop2 + diff with nobs1, nobs2 = ratio * nobs1; arm A is its group 1.
        direction = alternative[sides] or ("smaller" if mde > 0 else "larger")
        theirs = samplesize_proportions_2indep_onetail(-mde, p + mde, power, ratio=ratio, alpha=alpha, alternative=direction)
        assert ours.exact_n_a == pytest.approx(theirs, rel=1e-9), (p, mde, alpha, power, ratio, sides)
        # The rounded design reaches the power in statsmodels' exact power function; one user fewer does not.
        def sm_power(n, direction=direction, p=p, mde=mde, ratio=ratio, alpha=alpha):
            return power_proportions_2indep(-mde, p + mde, n, ratio=ratio, alpha=alpha, alternative=direction).power
        assert sm_power(ours.n_a) >= power - 1e-9
        if sides == "one-sided":
            assert sm_power(ours.n_a - 1) < power


def test_cohens_h_is_a_different_approximation():
    # statsmodels' NormalIndPower with Cohen's h (arcsine transform) gives 1,063 for SPEC's case, not 1,074.
    h = proportion_effectsize(0.11, 0.07)
    assert math.ceil(NormalIndPower().solve_power(h, alpha=0.05, power=0.9)) == 1063
    assert sample_size_proportions(0.07, 0.04, power=0.9).n_a == 1074


def test_power_inverts_the_sample_size_with_and_without_correction():
    for p, mde, alpha, power, ratio in GRID[::5]:
        for correction in (False, True):
            size = sample_size_proportions(p, mde, alpha=alpha, power=power, ratio=ratio, continuity_correction=correction)
            achieved = power_proportions(p, mde, size.n_a, alpha=alpha, ratio=ratio, continuity_correction=correction)
            short = power_proportions(p, mde, size.n_a - 1, alpha=alpha, ratio=ratio, continuity_correction=correction)
            assert short < power <= achieved + 1e-12


@pytest.mark.parametrize("d, alpha, power", [(0.2, 0.05, 0.9), (0.5, 0.01, 0.8), (0.1, 0.1, 0.95), (1.0, 0.05, 0.8)])
def test_means_t_method_equals_statsmodels_ttestindpower(d, alpha, power):
    ours = sample_size_means(d * 3.0, 3.0, alpha=alpha, power=power)
    assert ours.n_a == math.ceil(TTestIndPower().solve_power(d, alpha=alpha, power=power))
    assert power_means(d * 3.0, 3.0, ours.n_a, alpha=alpha) == pytest.approx(
        TTestIndPower().power(d, ours.n_a, alpha), rel=1e-9)


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
def test_means_normal_method_equals_statsmodels_normalindpower(ratio):
    for d, alpha, power in ((0.2, 0.05, 0.9), (0.35, 0.01, 0.8), (0.05, 0.1, 0.95)):
        ours = sample_size_means(d, 1.0, alpha=alpha, power=power, ratio=ratio, method="normal")
        theirs = NormalIndPower().solve_power(d, alpha=alpha, power=power, ratio=ratio)
        # statsmodels also counts the far tail of the two-sided test (a few millionths here).
        assert ours.exact_n_a == pytest.approx(theirs, rel=1e-4)
        assert ours.n_a - math.ceil(theirs) in (0, 1)


def test_means_with_unequal_sds_reach_the_power_by_simulation():
    size = sample_size_means(0.5, 1.0, sd_b=2.0, power=0.8)
    rng = np.random.default_rng(3)
    from scipy import stats

    a = rng.normal(0.0, 1.0, (2000, size.n_a))
    b = rng.normal(0.5, 2.0, (2000, size.n_b))
    rejected = stats.ttest_ind(b, a, axis=1, equal_var=False).pvalue < 0.05
    assert abs(rejected.mean() - 0.8) < 0.03


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"baseline": 0.0, "mde": 0.04}, "baseline"),
        ({"baseline": 1.2, "mde": 0.04}, "baseline"),
        ({"baseline": 0.07, "mde": 0.95}, "baseline \\+ mde"),
        ({"baseline": 0.07, "mde": 0.0}, "mde"),
        ({"baseline": 0.07, "mde": 0.04, "alpha": 0.0}, "alpha"),
        ({"baseline": 0.07, "mde": 0.04, "alpha": 1.0}, "alpha"),
        ({"baseline": 0.07, "mde": 0.04, "power": 1.0}, "power"),
        ({"baseline": 0.07, "mde": 0.04, "power": -0.1}, "power"),
        ({"baseline": 0.07, "mde": 0.04, "power": 0.01}, "power"),
        ({"baseline": 0.07, "mde": 0.04, "sides": "left"}, "sides"),
        ({"baseline": 0.07, "mde": 0.04, "ratio": 0}, "ratio"),
        ({"baseline": 0.07, "mde": 0.04, "continuity_correction": 1}, "continuity_correction"),
    ],
)
def test_bad_proportion_inputs_raise_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_size_proportions(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"mde": 1.0, "sd": 0.0}, "sd"), ({"mde": 0.0, "sd": 1.0}, "mde"), ({"mde": 1.0, "sd": 1.0, "sd_b": -1.0}, "sd_b"),
     ({"mde": 1.0, "sd": 1.0, "method": "exact"}, "method"), ({"mde": 1.0, "sd": 1.0, "alpha": 1.5}, "alpha")],
)
def test_bad_mean_inputs_raise_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_size_means(**kwargs)
