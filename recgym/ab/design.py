"""How many users an A/B test needs: sample size and power for proportions (CTR) and for means.

Proportions use the classic formula of Fleiss (*Statistical Methods for Rates and Proportions*,
1981) for the two-proportion z-test, with the variance **pooled under H0** in the critical value
and unpooled under H1 in the power term. For ``n_a`` users in A and ``n_b = k * n_a`` in B, rates
``p_a`` and ``p_b = p_a + mde``, ``p̄ = (p_a + k p_b) / (1 + k)``:

    n_a = [z_{1-α/2} √(p̄ q̄ (1 + 1/k)) + z_{1-β} √(p_a q_a + p_b q_b / k)]² / mde²

(``z_{1-α}`` for a one-sided test). Fleiss, Tytun and Ury's (1980) continuity correction, for the
test with Yates' correction, gives ``n_a' = n_a / 4 · [1 + √(1 + 2(k + 1) / (k n_a |mde|))]²``.
SPEC §5's case (7 % baseline, +4 points, α = 5 % two-sided, power 90 %) needs 1,074 users per
group without the correction and 1,124 with it.

statsmodels computes the same uncorrected quantity (``power_proportions_2indep``,
``samplesize_proportions_2indep_onetail``). Its ``NormalIndPower`` with
``proportion_effectsize`` (Cohen's h, ``2 asin √p_b − 2 asin √p_a``) is a different
approximation (arcsine variance stabilisation): 1,063 users for SPEC's case, not 1,074.

Means use the Welch t-test: ``method="normal"`` is the closed form
``(z_{1-α/2} + z_{1-β})² (σ_a² + σ_b² / k) / mde²``; ``method="t"`` (default) is the smallest
``n_a`` whose power under the noncentral t distribution, with Welch–Satterthwaite degrees of
freedom, reaches the target (equal to statsmodels' ``TTestIndPower`` when the standard
deviations and the groups are equal).

All quantiles and distribution functions come from :mod:`scipy.stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from recgym._validation import check_bool, check_choice, check_int, check_real
from recgym.ab._checks import check_open_unit

SIDES = ("two-sided", "one-sided")
"""A two-sided test, or a one-sided test in the direction of the effect."""
MEAN_METHODS = ("t", "normal")


@dataclass(frozen=True)
class SampleSize:
    """Users needed in each arm.

    Attributes
    ----------
    n_a, n_b : int
        Users in arm A (control) and arm B (treatment), rounded up.
    exact_n_a : float
        ``n_a`` before rounding up (for ``method="t"``: the integer found).
    method : str
        How it was computed.
    """

    n_a: int
    n_b: int
    exact_n_a: float
    method: str

    @property
    def total(self) -> int:
        """Users in both arms."""
        return self.n_a + self.n_b


def _round_up(value: float) -> int:
    # A value that is an integer up to rounding error (e.g. 100.00000000001) stays that integer.
    return math.ceil(value * (1.0 - 1e-12))


def _common(alpha: Any, sides: Any, ratio: Any) -> tuple[float, str, float]:
    alpha = check_open_unit("alpha", alpha)
    sides = check_choice("sides", sides, SIDES)
    ratio = check_real("ratio", ratio, minimum=0.0, strict_minimum=True)
    return alpha, sides, ratio


def _power_target(power: Any, alpha: float, sides: str) -> float:
    power = check_open_unit("power", power)
    level = alpha / 2 if sides == "two-sided" else alpha
    if power <= level:
        raise ValueError(f"power must exceed the test's one-tail level {level:g} (alpha {alpha:g}, {sides}), got {power!r}")
    return power


def _z_alpha(alpha: float, sides: str) -> float:
    return float(stats.norm.ppf(1.0 - alpha / 2 if sides == "two-sided" else 1.0 - alpha))


def _rates(baseline: Any, mde: Any) -> tuple[float, float, float]:
    p_a = check_open_unit("baseline", baseline)
    delta = check_real("mde", mde)
    if delta == 0.0:
        raise ValueError("mde must be a non-zero difference p_b - p_a, got 0")
    p_b = p_a + delta
    if not 0.0 < p_b < 1.0:
        raise ValueError(f"baseline + mde (the rate in B) must be strictly between 0 and 1, got {baseline!r} + {mde!r} = {p_b!r}")
    return p_a, p_b, abs(delta)


def _proportion_terms(p_a: float, p_b: float, ratio: float) -> tuple[float, float]:
    """Standard deviations (per √n_a) of the difference under H0 (pooled) and under H1."""
    pooled = (p_a + ratio * p_b) / (1.0 + ratio)
    null = math.sqrt(pooled * (1.0 - pooled) * (1.0 + 1.0 / ratio))
    alternative = math.sqrt(p_a * (1.0 - p_a) + p_b * (1.0 - p_b) / ratio)
    return null, alternative


def sample_size_proportions(
    baseline: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: str = "two-sided",
    continuity_correction: bool = False,
    ratio: float = 1.0,
) -> SampleSize:
    """Users per arm for a two-proportion z-test (Fleiss' formula, optionally continuity-corrected).

    Parameters
    ----------
    baseline : float
        Rate in arm A (control), strictly between 0 and 1.
    mde : float
        Minimum detectable effect as an absolute difference ``p_b - p_a`` (non-zero; ``baseline + mde``
        strictly between 0 and 1).
    alpha : float
        Significance level, strictly between 0 and 1.
    power : float
        Probability of rejecting H0 when the effect is ``mde``, strictly between 0 and 1.
    sides : {"two-sided", "one-sided"}
        A one-sided test looks in the direction of ``mde`` only.
    continuity_correction : bool
        Fleiss, Tytun and Ury's correction (for the test with Yates' correction).
    ratio : float
        Allocation ``n_b / n_a`` (1: equal arms).

    Returns
    -------
    SampleSize

    Examples
    --------
    >>> sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9, continuity_correction=True).n_a
    1124
    >>> sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9).n_a
    1074
    """
    alpha, sides, ratio = _common(alpha, sides, ratio)
    power = _power_target(power, alpha, sides)
    p_a, p_b, delta = _rates(baseline, mde)
    check_bool("continuity_correction", continuity_correction)
    null, alternative = _proportion_terms(p_a, p_b, ratio)
    root_n = _z_alpha(alpha, sides) * null + float(stats.norm.ppf(power)) * alternative
    if root_n <= 0.0:
        raise ValueError(f"power {power!r} is too low for alpha {alpha!r}: no sample size is needed to reach it")
    n_a = (root_n / delta) ** 2
    method = "Fleiss (pooled variance under H0)"
    if continuity_correction:
        n_a = n_a / 4.0 * (1.0 + math.sqrt(1.0 + 2.0 * (ratio + 1.0) / (ratio * n_a * delta))) ** 2
        method += " with Fleiss-Tytun-Ury continuity correction"
    return SampleSize(_round_up(n_a), _round_up(ratio * n_a), n_a, method)


def power_proportions(
    baseline: float,
    mde: float,
    n_a: int,
    *,
    alpha: float = 0.05,
    sides: str = "two-sided",
    continuity_correction: bool = False,
    ratio: float = 1.0,
) -> float:
    """Power of the two-proportion z-test with ``n_a`` users in A and ``ratio * n_a`` in B.

    The inverse of :func:`sample_size_proportions` (same approximation: the far tail of a
    two-sided test is ignored). Parameters are those of :func:`sample_size_proportions`.

    Returns
    -------
    float
    """
    alpha, sides, ratio = _common(alpha, sides, ratio)
    p_a, p_b, delta = _rates(baseline, mde)
    n_a = check_int("n_a", n_a, minimum=1)
    null, alternative = _proportion_terms(p_a, p_b, ratio)
    if continuity_correction:
        delta = delta - (1.0 + 1.0 / ratio) / (2.0 * n_a)
    return float(stats.norm.cdf((delta * math.sqrt(n_a) - _z_alpha(alpha, sides) * null) / alternative))


def _mean_inputs(mde: Any, sd: Any, sd_b: Any) -> tuple[float, float, float]:
    delta = check_real("mde", mde)
    if delta == 0.0:
        raise ValueError("mde must be a non-zero difference mean_b - mean_a, got 0")
    sd_a = check_real("sd", sd, minimum=0.0, strict_minimum=True)
    sd_b = sd_a if sd_b is None else check_real("sd_b", sd_b, minimum=0.0, strict_minimum=True)
    return abs(delta), sd_a, sd_b


def _welch_power(delta: float, sd_a: float, sd_b: float, n_a: int, n_b: int, alpha: float, sides: str) -> float:
    var_a, var_b = sd_a**2 / n_a, sd_b**2 / n_b
    se = math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1))
    noncentrality = delta / se
    if sides == "one-sided":
        return float(stats.nct.sf(stats.t.ppf(1.0 - alpha, df), df, noncentrality))
    critical = stats.t.ppf(1.0 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality))


def sample_size_means(
    mde: float,
    sd: float,
    *,
    sd_b: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: str = "two-sided",
    ratio: float = 1.0,
    method: str = "t",
) -> SampleSize:
    """Users per arm for Welch's t-test of a difference in means.

    Parameters
    ----------
    mde : float
        Minimum detectable difference ``mean_b - mean_a`` (non-zero).
    sd : float
        Standard deviation of one user's value in A (and in B unless ``sd_b`` is given); > 0.
    sd_b : float, optional
        Standard deviation in B.
    alpha, power : float
        Strictly between 0 and 1.
    sides : {"two-sided", "one-sided"}
    ratio : float
        Allocation ``n_b / n_a``.
    method : {"t", "normal"}
        ``"t"``: smallest ``n_a`` whose Welch t-test power (noncentral t) reaches ``power``;
        ``"normal"``: the normal-approximation closed form.

    Returns
    -------
    SampleSize
    """
    alpha, sides, ratio = _common(alpha, sides, ratio)
    power = _power_target(power, alpha, sides)
    method = check_choice("method", method, MEAN_METHODS)
    delta, sd_a, sd_b = _mean_inputs(mde, sd, sd_b)
    z_beta = float(stats.norm.ppf(power))
    n_a = (_z_alpha(alpha, sides) + z_beta) ** 2 * (sd_a**2 + sd_b**2 / ratio) / delta**2
    if method == "normal":
        return SampleSize(_round_up(n_a), _round_up(ratio * n_a), n_a, "normal approximation")
    # The t-test needs at least as many users as the normal approximation; power grows with n.
    n = max(2, _round_up(n_a))
    while _welch_power(delta, sd_a, sd_b, n, max(2, _round_up(ratio * n)), alpha, sides) < power:
        n += 1
    return SampleSize(n, max(2, _round_up(ratio * n)), float(n), "Welch t-test (noncentral t)")


def power_means(
    mde: float,
    sd: float,
    n_a: int,
    *,
    sd_b: float | None = None,
    alpha: float = 0.05,
    sides: str = "two-sided",
    ratio: float = 1.0,
) -> float:
    """Power of Welch's t-test with ``n_a`` users in A and ``ceil(ratio * n_a)`` in B (noncentral t).

    Parameters are those of :func:`sample_size_means`.

    Returns
    -------
    float
    """
    alpha, sides, ratio = _common(alpha, sides, ratio)
    delta, sd_a, sd_b = _mean_inputs(mde, sd, sd_b)
    n_a = check_int("n_a", n_a, minimum=2)
    return _welch_power(delta, sd_a, sd_b, n_a, max(2, _round_up(ratio * n_a)), alpha, sides)
