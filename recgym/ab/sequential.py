"""The peeking guard: a mixture sequential probability ratio test (mSPRT) that may be looked at any time.

A fixed-horizon test checked after every batch of users and stopped at the first ``p < α`` rejects
a true null far more often than ``α`` (with 40 looks, about a quarter of A/A tests). The mSPRT of
Johari, Koomen, Pekelis and Walsh ("Always valid inference: continuous monitoring of A/B tests",
Operations Research 2022) stays valid: for an estimated difference ``d`` with variance ``V`` (which
shrinks like ``1/n`` as users arrive) and a normal mixing distribution ``N(0, τ²)`` over the effect,

    Λ = √(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))

is a nonnegative martingale under H0 (exactly, for normal estimates with known variance), so by
Ville's inequality ``P(Λ ever ≥ 1/α) ≤ α``. The **always-valid p-value** is the running minimum of
``min(1, 1/Λ)``; rejecting when it falls to ``α`` holds the false-positive rate at ``α`` however
often one looks. Inverting the test gives a **confidence sequence**: at every look,

    d ± √(V (V + τ²) / τ² · (2 log(1/α) + log((V + τ²) / V)))

covers the true difference at all looks simultaneously with probability ``1 − α``; its running
intersection is reported. If that intersection is ever empty, no single difference is consistent
with every look: an event of probability at most ``α`` when the model holds, and more often a sign
that it does not (the effect drifted during the experiment, or the looks are biased samples, such
as early looks that count only the sessions that ended first). :attr:`SequentialResult.empty`
flags it; the bounds are then kept as computed (``low > high``) for inspection. The test is
two-sided. With estimated variances (plug-in ``V``) it is valid asymptotically; tests check the
false-positive rate under repeated looks by simulation.

``τ`` is the scale of effects one expects: the test is most powerful for differences near it.
The price of continuous monitoring is power: at the fixed horizon's sample size the mSPRT
rejects less often than the fixed-horizon test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recgym._validation import check_real
from recgym.ab._checks import check_open_unit


@dataclass(frozen=True)
class SequentialResult:
    """The mSPRT at each look, in order.

    Attributes
    ----------
    p_values : numpy.ndarray
        Always-valid p-values (non-increasing).
    ci_low, ci_high : numpy.ndarray
        The confidence sequence (running intersection; it only narrows). Where :attr:`empty`,
        ``ci_low > ci_high``.
    rejected : numpy.ndarray
        bool: ``p_values <= alpha`` (once True, it stays True).
    alpha : float
    tau : numpy.ndarray
        The mixing standard deviation at each look.
    """

    p_values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rejected: np.ndarray
    alpha: float
    tau: np.ndarray

    @property
    def empty(self) -> np.ndarray:
        """Per look, whether the running intersection is empty (``ci_low > ci_high``; once True, it stays True).

        No difference is consistent with all the looks so far. Under the model this happens with
        probability at most ``alpha`` (it implies a rejection); otherwise it says the model is wrong:
        the effect changed between looks or the looks are not unbiased samples. Either way the
        sequence no longer says where the difference is.
        """
        return self.ci_low > self.ci_high

    @property
    def first_empty(self) -> int | None:
        """Index of the first look at which the confidence sequence was empty, or None."""
        hits = np.flatnonzero(self.empty)
        return int(hits[0]) if len(hits) else None

    @property
    def first_rejection(self) -> int | None:
        """Index of the first look at which H0 was rejected, or None."""
        hits = np.flatnonzero(self.rejected)
        return int(hits[0]) if len(hits) else None


def _looks(differences: Any, variances: Any) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(differences, dtype=np.float64).reshape(-1)
    v = np.asarray(variances, dtype=np.float64).reshape(-1)
    if d.shape != v.shape:
        raise ValueError(f"differences and variances must have one entry per look each, got {d.shape} and {v.shape}")
    if not (np.isfinite(d).all() and np.isfinite(v).all()) or (v <= 0).any():
        raise ValueError("differences must be finite and variances finite and > 0 at every look")
    return d, v


def _taus(tau: Any, shape: tuple[int, ...]) -> np.ndarray:
    if np.ndim(tau) == 0:
        return np.full(shape, check_real("tau", tau, minimum=0.0, strict_minimum=True))
    taus = np.asarray(tau, dtype=np.float64)
    if taus.shape != shape or not np.isfinite(taus).all() or (taus <= 0).any():
        raise ValueError(f"tau must be a number > 0 or one finite number > 0 per look (shape {shape}), got {tau!r}")
    return taus


def log_mixture_likelihood_ratio(differences: Any, variances: Any, tau: Any) -> np.ndarray:
    """``log Λ`` of the normal-mixture SPRT at each look (see the module docstring).

    Parameters
    ----------
    differences : array-like
        Estimated differences ``B − A`` at each look.
    variances : array-like
        Their variances (squared standard errors), > 0.
    tau : float or array-like
        Standard deviation of the mixing distribution over effects, > 0 (same units as the
        differences); one per look to re-estimate it as data arrive (see :func:`sequential_test`).

    Returns
    -------
    numpy.ndarray
    """
    d, v = _looks(differences, variances)
    t2 = _taus(tau, d.shape) ** 2
    return 0.5 * np.log(v / (v + t2)) + t2 * d**2 / (2.0 * v * (v + t2))


def sequential_test(differences: Any, variances: Any, *, tau: Any, alpha: float = 0.05) -> SequentialResult:
    """Always-valid p-values and confidence sequence of the two-sided mSPRT over a series of looks.

    Parameters
    ----------
    differences, variances : array-like
        Estimated difference ``B − A`` and its variance at each look, in order.
    tau : float or array-like
        Mixing standard deviation (> 0): the effect size the test is tuned for. One value per look
        lets it follow a scale estimated from the data so far, e.g. a tenth of a user's standard
        deviation: the mSPRT then depends on the data only through the z-statistic and the sample
        sizes, the standardised form that :func:`agents.ab_test.run_ab_test` uses.
    alpha : float
        Level, strictly between 0 and 1.

    Returns
    -------
    SequentialResult
    """
    alpha = check_open_unit("alpha", alpha)
    d, v = _looks(differences, variances)
    taus = _taus(tau, d.shape)
    log_lr = log_mixture_likelihood_ratio(d, v, taus)
    p_values = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lr)))
    t2 = taus**2
    half = np.sqrt(v * (v + t2) / t2 * (2.0 * np.log(1.0 / alpha) + np.log((v + t2) / v)))
    low = np.maximum.accumulate(d - half)
    high = np.minimum.accumulate(d + half)
    return SequentialResult(p_values, low, high, p_values <= alpha, alpha, taus)
