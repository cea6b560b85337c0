"""Fixed-horizon tests (recgym.ab.analysis): against statsmodels and SciPy, A/A false positives, power at the design."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from recgym.ab.analysis import (
    ratio_estimate,
    ratio_ztest,
    relative_lift,
    sample_ratio_p_value,
    two_proportion_ztest,
    welch_ttest,
)
from recgym.ab.design import sample_size_proportions

CASES = [(70, 1000, 95, 1000), (7, 80, 15, 120), (300, 400, 280, 410), (0, 50, 3, 60)]


@pytest.mark.parametrize("x_a, n_a, x_b, n_b", CASES)
@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_z_test_equals_statsmodels_proportions_ztest(x_a, n_a, x_b, n_b, alternative):
    ours = two_proportion_ztest(x_a, n_a, x_b, n_b, alternative=alternative)
    z, p = proportions_ztest([x_b, x_a], [n_b, n_a], alternative=alternative)
    assert ours.statistic == pytest.approx(z, rel=1e-10)
    assert ours.p_value == pytest.approx(p, rel=1e-10)
    assert ours.difference == pytest.approx(x_b / n_b - x_a / n_a)


@pytest.mark.parametrize("x_a, n_a, x_b, n_b", CASES)
def test_continuity_corrected_z_test_equals_yates_chi_square(x_a, n_a, x_b, n_b):
    ours = two_proportion_ztest(x_a, n_a, x_b, n_b, continuity_correction=True)
    table = [[x_a, n_a - x_a], [x_b, n_b - x_b]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=True)
    assert ours.p_value == pytest.approx(p, rel=1e-9)
    assert ours.statistic**2 == pytest.approx(chi2, rel=1e-9)


@pytest.mark.parametrize("method", ["wald", "newcomb", "agresti-caffo", "score"])
def test_interval_is_statsmodels_confint(method):
    ours = two_proportion_ztest(70, 1000, 95, 1000, ci_method=method, alpha=0.1)
    low, high = confint_proportions_2indep(95, 1000, 70, 1000, method=method, compare="diff", alpha=0.1)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high))


def test_one_sided_interval_is_open_on_the_other_side():
    result = two_proportion_ztest(70, 1000, 95, 1000, alternative="larger")
    low, _ = confint_proportions_2indep(95, 1000, 70, 1000, method="wald", compare="diff", alpha=0.1)
    assert result.ci_low == pytest.approx(low) and result.ci_high == math.inf


def test_welch_equals_scipy_with_its_interval():
    rng = np.random.default_rng(0)
    a, b = rng.exponential(2.0, 150), rng.exponential(2.4, 90)
    ours = welch_ttest(a, b, alpha=0.1)
    reference = stats.ttest_ind(b, a, equal_var=False)
    interval = reference.confidence_interval(0.9)
    assert ours.statistic == pytest.approx(reference.statistic) and ours.p_value == pytest.approx(reference.pvalue)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((interval.low, interval.high))
    assert ours.se_a == pytest.approx(stats.sem(a)) and ours.difference == pytest.approx(b.mean() - a.mean())


def test_ratio_with_one_impression_per_user_is_the_unpooled_z_test():
    rng = np.random.default_rng(1)
    a, b = (rng.random(800) < 0.3).astype(float), (rng.random(900) < 0.35).astype(float)
    ours = ratio_ztest(a, np.ones_like(a), b, np.ones_like(b))
    reference = sm_proportion.test_proportions_2indep(b.sum(), len(b), a.sum(), len(a), method="wald", correction=False)
    # Unpooled binomial variance p(1-p)/n vs the delta method's sample variance with n - 1: equal up to n/(n-1).
    assert ours.statistic == pytest.approx(reference.statistic, rel=2e-3)
    assert ours.difference == pytest.approx(b.mean() - a.mean())


def test_ratio_estimate_matches_the_delta_method_formula():
    rng = np.random.default_rng(2)
    y = rng.integers(1, 12, 500).astype(float)
    x = rng.binomial(y.astype(int), 0.4).astype(float)
    ratio, se = ratio_estimate(x, y)
    n, r = len(x), x.sum() / y.sum()
    covariance = np.cov(x, y, ddof=1)
    variance = (covariance[0, 0] - 2 * r * covariance[0, 1] + r**2 * covariance[1, 1]) / (n * y.mean() ** 2)
    assert ratio == pytest.approx(r) and se == pytest.approx(math.sqrt(variance))


def _clustered_users(rng, n, rate_sd):
    """Users with 1-15 impressions and their own click rate (Beta around 0.3): impressions are correlated."""
    impressions = rng.integers(1, 16, n)
    rates = np.clip(rng.normal(0.3, rate_sd, n), 0.01, 0.99)
    return rng.binomial(impressions, rates).astype(float), impressions.astype(float)


def test_a_a_false_positive_rates_are_within_3_and_7_percent():
    rng = np.random.default_rng(42)
    experiments = 1000
    z_rejections = welch_rejections = ratio_rejections = naive_rejections = 0
    for _ in range(experiments):
        x_a, x_b = rng.binomial(1074, 0.07, 2)
        z_rejections += two_proportion_ztest(int(x_a), 1074, int(x_b), 1074).significant
        welch_rejections += welch_ttest(rng.lognormal(0, 1, 300), rng.lognormal(0, 1, 400)).significant
        clicks_a, shown_a = _clustered_users(rng, 400, 0.15)
        clicks_b, shown_b = _clustered_users(rng, 400, 0.15)
        ratio_rejections += ratio_ztest(clicks_a, shown_a, clicks_b, shown_b).significant
        # The same data with impressions taken as independent trials: too confident.
        naive_rejections += two_proportion_ztest(int(clicks_a.sum()), int(shown_a.sum()), int(clicks_b.sum()),
                                                 int(shown_b.sum())).significant
    for name, count in (("z", z_rejections), ("welch", welch_rejections), ("ratio", ratio_rejections)):
        assert 0.03 <= count / experiments <= 0.07, (name, count)
    assert naive_rejections / experiments > 0.15


@pytest.mark.parametrize("correction, n", [(False, 1074), (True, 1124)])
def test_power_at_the_designed_effect_is_within_5_points_of_90_percent(correction, n):
    assert sample_size_proportions(0.07, 0.04, power=0.9, continuity_correction=correction).n_a == n
    rng = np.random.default_rng(7)
    experiments = 1000
    x_a, x_b = rng.binomial(n, 0.07, experiments), rng.binomial(n, 0.11, experiments)
    rejected = [two_proportion_ztest(int(a), n, int(b), n, continuity_correction=correction).significant
                for a, b in zip(x_a, x_b, strict=True)]
    assert abs(np.mean(rejected) - 0.9) <= 0.05


def test_relative_lift_interval_covers_the_true_lift():
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(600):
        a, b = rng.normal(10.0, 3.0, 200), rng.normal(11.0, 3.0, 200)
        result = welch_ttest(a, b)
        covered += result.lift_ci_low <= 0.1 <= result.lift_ci_high
    assert abs(covered / 600 - 0.95) < 0.03
    lift, low, high = relative_lift(10.0, 0.5, 11.0, 0.5)
    se = math.sqrt(0.25 / 100 + 121 * 0.25 / 10_000)
    assert lift == pytest.approx(0.1) and (high - low) / 2 == pytest.approx(1.959964 * se, rel=1e-6)
    assert all(math.isnan(v) for v in relative_lift(0.0, 0.1, 1.0, 0.1))


def test_sample_ratio_check():
    assert sample_ratio_p_value(5000, 5000, 0.5) == pytest.approx(1.0)
    assert sample_ratio_p_value(5300, 4700, 0.5) < 1e-8
    assert sample_ratio_p_value(8000, 2000, 0.2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="treatment_share"):
        sample_ratio_p_value(10, 10, 1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: two_proportion_ztest(5, 10, 11, 10), "successes_b"),
        (lambda: two_proportion_ztest(5, 0, 1, 10), "n_a"),
        (lambda: two_proportion_ztest(5, 10, 1, 10, alpha=1.0), "alpha"),
        (lambda: two_proportion_ztest(5, 10, 1, 10, alternative="bigger"), "alternative"),
        (lambda: two_proportion_ztest(5, 10, 1, 10, ci_method="exact"), "ci_method"),
        (lambda: welch_ttest([1.0], [1.0, 2.0]), "values_a"),
        (lambda: welch_ttest([1.0, np.nan], [1.0, 2.0]), "values_a"),
        (lambda: ratio_ztest([1, 2], [1, -1], [1, 2], [1, 1]), "denominators"),
        (lambda: ratio_ztest([1, 2, 3], [1, 1], [1, 2], [1, 1]), "one entry per user"),
    ],
)
def test_bad_inputs_raise_naming_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()
