"""The peeking guard (recgym.ab.sequential): false positives under repeated looks, coverage, power, the formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recgym.ab.sequential import log_mixture_likelihood_ratio, sequential_test

LOOKS = np.arange(100, 5001, 100)  # 50 looks, every 100 users per arm


def _looks(rng, p_a, p_b):
    """Cumulative Bernoulli streams of both arms, summarised at each look: differences, variances, plug-in τ."""
    a = np.cumsum(rng.random(LOOKS[-1]) < p_a)[LOOKS - 1] / LOOKS
    b = np.cumsum(rng.random(LOOKS[-1]) < p_b)[LOOKS - 1] / LOOKS
    variances = (a * (1 - a) + b * (1 - b)) / LOOKS
    unit_sd = np.sqrt((a * (1 - a) + b * (1 - b)) / 2)
    return b - a, variances, 0.1 * unit_sd


def test_false_positive_rate_under_50_looks_stays_below_alpha_while_naive_peeking_does_not():
    rng = np.random.default_rng(11)
    experiments, sequential, naive = 600, 0, 0
    for _ in range(experiments):
        differences, variances, tau = _looks(rng, 0.07, 0.07)
        sequential += sequential_test(differences, variances, tau=tau).rejected.any()
        naive += (np.abs(differences / np.sqrt(variances)) > 1.959964).any()
    # Ville's inequality bounds the rate by alpha; 3 standard errors of slack for the plug-in variance.
    assert sequential / experiments <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / experiments)
    assert naive / experiments > 0.2


def test_confidence_sequence_covers_the_true_difference_at_every_look():
    rng = np.random.default_rng(12)
    experiments, missed = 600, 0
    for _ in range(experiments):
        differences, variances, tau = _looks(rng, 0.10, 0.13)
        result = sequential_test(differences, variances, tau=tau)
        missed += ((result.ci_low > 0.03) | (result.ci_high < 0.03)).any()
        assert (np.diff(result.ci_low) >= 0).all() and (np.diff(result.ci_high) <= 0).all()
        assert (np.diff(result.p_values) <= 0).all()
    assert missed / experiments <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / experiments)


def test_power_grows_with_the_effect_and_rejections_persist():
    rng = np.random.default_rng(13)
    rates = {}
    for effect in (0.02, 0.04):
        results = [sequential_test(*_looks(rng, 0.07, 0.07 + effect)[:2], tau=_looks(rng, 0.07, 0.07)[2]) for _ in range(200)]
        rates[effect] = np.mean([result.rejected.any() for result in results])
        for result in results:
            first = result.first_rejection
            assert first is None or result.rejected[first:].all()
    assert rates[0.04] > 0.95 and rates[0.02] < rates[0.04]


def test_statistic_matches_the_closed_form_and_its_inverse_is_the_sequence():
    d, v, tau = 0.03, 1e-4, 0.02
    expected = math.sqrt(v / (v + tau**2)) * math.exp(tau**2 * d**2 / (2 * v * (v + tau**2)))
    assert log_mixture_likelihood_ratio([d], [v], tau)[0] == pytest.approx(math.log(expected))
    result = sequential_test([d], [v], tau=tau, alpha=0.05)
    assert result.p_values[0] == pytest.approx(min(1.0, 1.0 / expected))
    # At the edge of the confidence sequence, Λ(θ) is exactly 1/alpha.
    edge = d - result.ci_low[0]
    assert log_mixture_likelihood_ratio([edge], [v], tau)[0] == pytest.approx(math.log(20.0))


def test_an_empty_confidence_sequence_is_flagged_from_the_look_it_empties():
    # Half-width about 0.037 at every look: the looks at 0 and at 1 cannot both hold one difference.
    result = sequential_test([0.0, 0.01, 1.0, 1.0], [1e-4] * 4, tau=0.01)
    assert result.empty.tolist() == [False, False, True, True] and result.first_empty == 2
    assert (result.ci_low[2:] > result.ci_high[2:]).all()
    consistent = sequential_test([0.0, 0.01, 0.02, 0.0], [1e-4] * 4, tau=0.01)
    assert not consistent.empty.any() and consistent.first_empty is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"differences": [0.1, 0.2], "variances": [0.1], "tau": 0.1}, "one entry per look"),
        ({"differences": [0.1], "variances": [0.0], "tau": 0.1}, "variances"),
        ({"differences": [0.1], "variances": [0.1], "tau": 0.0}, "tau"),
        ({"differences": [0.1], "variances": [0.1], "tau": [0.1, 0.2]}, "tau"),
        ({"differences": [0.1], "variances": [0.1], "tau": 0.1, "alpha": 0.0}, "alpha"),
    ],
)
def test_bad_inputs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sequential_test(**kwargs)
