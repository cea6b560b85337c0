"""A/B testing statistics: design, assignment, fixed-horizon analysis and a sequential test (pure NumPy/SciPy).

Nothing here knows about environments or agents: :mod:`agents.ab_test` runs the experiment on
simulated users and calls these functions on the outcomes.

================================  ==============================================================
module                            what it does
================================  ==============================================================
:mod:`recgym.ab.design`           users needed per arm (proportions: Fleiss, ± continuity
                                  correction; means: Welch t) and the power of a given design
:mod:`recgym.ab.assignment`       a user's arm from a keyed hash of (seed, user id): stable, seeded
:mod:`recgym.ab.analysis`         two-proportion z-test, z-test of a ratio (delta method), Welch's
                                  t-test, relative lift (delta method), sample-ratio check
:mod:`recgym.ab.sequential`       mSPRT: always-valid p-values and confidence sequences (peeking guard)
================================  ==============================================================
"""

from recgym.ab.analysis import (
    Comparison,
    ratio_estimate,
    ratio_ztest,
    relative_lift,
    sample_ratio_p_value,
    two_proportion_ztest,
    welch_ttest,
)
from recgym.ab.assignment import ARM_NAMES, assign_arms, bucket_values
from recgym.ab.design import SampleSize, power_means, power_proportions, sample_size_means, sample_size_proportions
from recgym.ab.sequential import SequentialResult, log_mixture_likelihood_ratio, sequential_test

__all__ = [
    "ARM_NAMES",
    "Comparison",
    "SampleSize",
    "SequentialResult",
    "assign_arms",
    "bucket_values",
    "log_mixture_likelihood_ratio",
    "power_means",
    "power_proportions",
    "ratio_estimate",
    "ratio_ztest",
    "relative_lift",
    "sample_ratio_p_value",
    "sample_size_means",
    "sample_size_proportions",
    "sequential_test",
    "two_proportion_ztest",
    "welch_ttest",
]
