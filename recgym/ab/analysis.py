"""Fixed-horizon analysis of an A/B test: z-tests for rates, Welch's t-test for means, relative lift.

Every function compares arm B (treatment) with arm A (control) and returns a :class:`Comparison`:
the estimate per arm, the difference ``B − A`` with its confidence interval and p-value, and the
relative lift ``B / A − 1`` with a **delta-method** interval (first-order Taylor expansion of the
ratio of two independent estimates; Fieller's interval would be exact for normal estimates, and
the two agree when A's estimate is many standard errors from zero, as in any test worth running).

- :func:`two_proportion_ztest`: one Bernoulli outcome per user (the seed's CTR). The test uses the
  variance pooled under H0 (as ``statsmodels.stats.proportion.proportions_ztest``), optionally with
  Yates' continuity correction (its two-sided p-value equals the corrected chi-square test's); the
  interval is ``statsmodels``' ``confint_proportions_2indep`` (Wald by default).
- :func:`ratio_ztest`: a rate over several impressions per user, such as CTR = clicks / impressions
  when users see many recommendations. Impressions of one user are correlated, so a z-test that
  treats them as independent trials is too confident; the user stays the unit and the variance of
  ``Σ clicks / Σ impressions`` comes from the delta method (Deng, Knoblich and Lu, "Applying the
  delta method in metric analytics", KDD 2018). With one impression per user it is the unpooled
  two-proportion z-test.
- :func:`welch_ttest`: a continuous value per user (watch time, return, rating): ``scipy.stats.ttest_ind``
  with ``equal_var=False`` and its confidence interval.

These are **fixed-horizon** tests: valid when applied once, at a sample size chosen in advance.
Looking at them repeatedly and stopping at the first significant result inflates the false-positive
rate; :mod:`recgym.ab.sequential` has the test to watch while the experiment runs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from recgym._validation import check_bool, check_choice, check_int
from recgym.ab._checks import check_alternative, check_open_unit

PROPORTION_CI_METHODS = ("wald", "agresti-caffo", "newcomb", "score")
"""Interval methods of ``statsmodels``' ``confint_proportions_2indep`` for a difference."""


@dataclass(frozen=True)
class Comparison:
    """Arm B against arm A for one metric.

    Attributes
    ----------
    metric : str
        The metric's name.
    method : str
        The test used.
    n_a, n_b : int
        Units (users) per arm.
    estimate_a, estimate_b : float
        The metric in each arm.
    se_a, se_b : float
        Their standard errors.
    difference : float
        ``estimate_b - estimate_a``.
    ci_low, ci_high : float
        Confidence interval of the difference at level ``1 - alpha`` (one-sided alternatives leave
        one end infinite).
    statistic, p_value : float
        The test statistic (z or t) and its p-value under ``alternative``.
    relative_lift, lift_ci_low, lift_ci_high : float
        ``estimate_b / estimate_a - 1`` and its delta-method interval (NaN when ``estimate_a`` is 0).
    alpha : float
    alternative : str
        ``"two-sided"``, ``"larger"`` (B > A) or ``"smaller"`` (B < A).
    """

    metric: str
    method: str
    n_a: int
    n_b: int
    estimate_a: float
    estimate_b: float
    se_a: float
    se_b: float
    difference: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    relative_lift: float
    lift_ci_low: float
    lift_ci_high: float
    alpha: float
    alternative: str

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def as_dict(self) -> dict[str, Any]:
        """Every field, plus ``significant``, as plain Python values."""
        return {**{k: (v.item() if isinstance(v, np.generic) else v) for k, v in asdict(self).items()},
                "significant": self.significant}


def _z_p_value(z: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2.0 * stats.norm.sf(abs(z)))
    return float(stats.norm.sf(z) if alternative == "larger" else stats.norm.cdf(z))


def _wald_interval(difference: float, se: float, alpha: float, alternative: str) -> tuple[float, float]:
    if alternative == "two-sided":
        half = float(stats.norm.ppf(1.0 - alpha / 2)) * se
        return difference - half, difference + half
    half = float(stats.norm.ppf(1.0 - alpha)) * se
    return (difference - half, math.inf) if alternative == "larger" else (-math.inf, difference + half)


def relative_lift(estimate_a: float, se_a: float, estimate_b: float, se_b: float, *, alpha: float = 0.05,
                  alternative: str = "two-sided") -> tuple[float, float, float]:
    """``estimate_b / estimate_a - 1`` and its delta-method confidence interval (independent arms).

    The variance is ``se_b² / a² + b² se_a² / a⁴``. Returns NaNs when ``estimate_a`` is 0.

    Returns
    -------
    tuple of float
        ``(lift, low, high)``.
    """
    alpha = check_open_unit("alpha", alpha)
    alternative = check_alternative(alternative)
    if estimate_a == 0.0:
        return math.nan, math.nan, math.nan
    lift = estimate_b / estimate_a - 1.0
    se = math.sqrt(se_b**2 / estimate_a**2 + estimate_b**2 * se_a**2 / estimate_a**4)
    low, high = _wald_interval(lift, se, alpha, alternative)
    return lift, low, high


def _comparison(metric: str, method: str, n_a: int, n_b: int, estimates: tuple[float, float], ses: tuple[float, float],
                interval: tuple[float, float], statistic: float, p_value: float, alpha: float,
                alternative: str) -> Comparison:
    (a, b), (se_a, se_b) = estimates, ses
    lift = relative_lift(a, se_a, b, se_b, alpha=alpha, alternative=alternative)
    return Comparison(metric, method, n_a, n_b, a, b, se_a, se_b, b - a, float(interval[0]), float(interval[1]),
                      float(statistic), float(p_value), *lift, alpha, alternative)


def _counts(name: str, successes: Any, trials: Any) -> tuple[int, int]:
    trials = check_int(f"n_{name}", trials, minimum=1)
    successes = check_int(f"successes_{name}", successes, minimum=0, maximum=trials)
    return successes, trials


def two_proportion_ztest(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    continuity_correction: bool = False,
    ci_method: str = "wald",
    metric: str = "ctr",
) -> Comparison:
    """Two-proportion z-test (variance pooled under H0) with a confidence interval for ``p_b - p_a``.

    Parameters
    ----------
    successes_a, n_a, successes_b, n_b : int
        Users with the outcome and users, per arm (one Bernoulli outcome per user).
    alpha : float
        Level of the test and of the interval (``1 - alpha``), strictly between 0 and 1.
    alternative : {"two-sided", "larger", "smaller"}
        ``"larger"``: H1 is ``p_b > p_a``.
    continuity_correction : bool
        Yates' correction: ``|p_b - p_a|`` shrinks by ``(1/n_a + 1/n_b) / 2`` (not past 0).
    ci_method : {"wald", "agresti-caffo", "newcomb", "score"}
        Interval of ``statsmodels.stats.proportion.confint_proportions_2indep``.
    metric : str
        Name recorded in the result.

    Returns
    -------
    Comparison
    """
    alpha = check_open_unit("alpha", alpha)
    alternative = check_alternative(alternative)
    ci_method = check_choice("ci_method", ci_method, PROPORTION_CI_METHODS)
    check_bool("continuity_correction", continuity_correction)
    x_a, n_a = _counts("a", successes_a, n_a)
    x_b, n_b = _counts("b", successes_b, n_b)
    p_a, p_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    difference = p_b - p_a
    if continuity_correction:
        correction = 0.5 * (1.0 / n_a + 1.0 / n_b)
        if alternative == "two-sided":
            difference = math.copysign(max(abs(difference) - correction, 0.0), difference)
        else:
            difference = difference - correction if alternative == "larger" else difference + correction
    z = difference / se_null if se_null > 0 else 0.0
    p_value = _z_p_value(z, alternative) if se_null > 0 else 1.0
    level = alpha if alternative == "two-sided" else 2.0 * alpha
    low, high = confint_proportions_2indep(x_b, n_b, x_a, n_a, method=ci_method, compare="diff", alpha=level)
    if alternative == "larger":
        high = math.inf
    elif alternative == "smaller":
        low = -math.inf
    method = "two-proportion z-test (pooled)" + (" with Yates' correction" if continuity_correction else "")
    ses = (math.sqrt(p_a * (1.0 - p_a) / n_a), math.sqrt(p_b * (1.0 - p_b) / n_b))
    return _comparison(metric, method, n_a, n_b, (p_a, p_b), ses, (low, high), z, p_value, alpha, alternative)


def _values(name: str, values: Any, minimum: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(array) < minimum:
        raise ValueError(f"{name} must hold at least {minimum} values (one per user), got {len(array)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers only")
    return array


def welch_ttest(values_a: Any, values_b: Any, *, alpha: float = 0.05, alternative: str = "two-sided",
                metric: str = "value") -> Comparison:
    """Welch's t-test (unequal variances) of the mean per user, with its confidence interval.

    Parameters
    ----------
    values_a, values_b : array-like
        One value per user in each arm (at least 2 per arm).
    alpha : float
        Level of the test and of the interval.
    alternative : {"two-sided", "larger", "smaller"}
    metric : str
        Name recorded in the result.

    Returns
    -------
    Comparison
        Statistic and p-value are NaN when both arms have zero variance.
    """
    alpha = check_open_unit("alpha", alpha)
    alternative = check_alternative(alternative)
    a, b = _values("values_a", values_a, 2), _values("values_b", values_b, 2)
    ses = (float(a.std(ddof=1) / math.sqrt(len(a))), float(b.std(ddof=1) / math.sqrt(len(b))))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        # SciPy warns when an arm's values are all equal (e.g. an oracle's zero regret); the variance is then 0,
        # which Welch's test handles (NaN only when both arms are constant).
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = stats.ttest_ind(b, a, equal_var=False, alternative=alternative)
        interval = result.confidence_interval(1.0 - alpha)
    return _comparison(metric, "Welch's t-test", len(a), len(b), (float(a.mean()), float(b.mean())), ses,
                       (interval.low, interval.high), result.statistic, result.pvalue, alpha, alternative)


def ratio_estimate(numerators: Any, denominators: Any) -> tuple[float, float]:
    """``Σ numerators / Σ denominators`` over users and its delta-method standard error (users are the unit).

    ``Var = Σ (x_i - R y_i)² / (n (n - 1) ȳ²)``: the sample variance of the linearised residuals
    over ``n`` users, divided by ``n ȳ²``.

    Parameters
    ----------
    numerators, denominators : array-like
        Per user, e.g. clicks and impressions (at least 2 users; denominators >= 0 with a positive sum).

    Returns
    -------
    tuple of float
        ``(ratio, standard error)``.
    """
    x = _values("numerators", numerators, 2)
    y = _values("denominators", denominators, 2)
    if x.shape != y.shape:
        raise ValueError(f"numerators and denominators must have one entry per user each, got {x.shape} and {y.shape}")
    if (y < 0).any() or y.sum() <= 0:
        raise ValueError("denominators must be >= 0 with a positive sum")
    n = len(x)
    ratio = float(x.sum() / y.sum())
    residuals = x - ratio * y
    variance = float(residuals @ residuals) / (n * (n - 1) * y.mean() ** 2)
    return ratio, math.sqrt(variance)


def ratio_ztest(numerators_a: Any, denominators_a: Any, numerators_b: Any, denominators_b: Any, *, alpha: float = 0.05,
                alternative: str = "two-sided", metric: str = "ratio") -> Comparison:
    """z-test of ``Σ x / Σ y`` between arms with delta-method variances (users are the unit).

    Parameters
    ----------
    numerators_a, denominators_a, numerators_b, denominators_b : array-like
        Per user of each arm, e.g. clicks and impressions (at least 2 users per arm).
    alpha : float
    alternative : {"two-sided", "larger", "smaller"}
    metric : str
        Name recorded in the result.

    Returns
    -------
    Comparison
    """
    alpha = check_open_unit("alpha", alpha)
    alternative = check_alternative(alternative)
    ratio_a, se_a = ratio_estimate(numerators_a, denominators_a)
    ratio_b, se_b = ratio_estimate(numerators_b, denominators_b)
    se = math.hypot(se_a, se_b)
    difference = ratio_b - ratio_a
    z = difference / se if se > 0 else math.nan
    p_value = _z_p_value(z, alternative) if se > 0 else math.nan
    return _comparison(metric, "z-test of a ratio (delta method, clustered by user)", len(np.ravel(numerators_a)),
                       len(np.ravel(numerators_b)), (ratio_a, ratio_b), (se_a, se_b),
                       _wald_interval(difference, se, alpha, alternative), z, p_value, alpha, alternative)


def sample_ratio_p_value(n_a: int, n_b: int, treatment_share: float) -> float:
    """p-value of a sample-ratio-mismatch check: is ``n_b / (n_a + n_b)`` consistent with ``treatment_share``.

    An exact binomial test (``scipy.stats.binomtest``). A tiny p-value means the arms did not get
    the planned shares of users, and the comparison is suspect (a bug in assignment or exposure).

    Returns
    -------
    float
    """
    n_a = check_int("n_a", n_a, minimum=0)
    n_b = check_int("n_b", n_b, minimum=0)
    share = check_open_unit("treatment_share", treatment_share)
    if n_a + n_b == 0:
        raise ValueError("n_a + n_b must be positive")
    return float(stats.binomtest(n_b, n_a + n_b, share).pvalue)
