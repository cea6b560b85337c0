"""Recommender metrics as pure functions over arrays: outcome rates, coverage, diversity, exposure concentration, regret.

Nothing here knows about environments: the functions take arrays (of outcome names, item ids,
category codes, creator ids, regrets) or counts, so they apply to an episode's infos, a window
of impressions or a saved interaction log alike. :mod:`recgym.wrappers` collects the arrays from
``info`` during episodes; :mod:`recgym.monitoring` logs the results.

=================================  ===========================================================
function                           what it measures
=================================  ===========================================================
:func:`outcome_rates`              share of steps watched / liked / skipped / session ended
:func:`catalogue_coverage`         distinct items shown / catalogue size
:func:`category_coverage`          distinct categories shown / number of categories
:func:`intra_list_diversity`       share of pairs of shown items in different categories
:func:`gini`, :func:`exposure_gini`  concentration of impressions across creators (0 = equal)
:func:`regret_summary`             mean and total regret, share of steps with zero regret
=================================  ===========================================================
"""

from recgym.metrics.coverage import catalogue_coverage, category_coverage, distinct_share, share_shown
from recgym.metrics.diversity import diversity_from_counts, intra_list_diversity
from recgym.metrics.exposure import exposure_counts, exposure_gini, gini
from recgym.metrics.outcomes import OUTCOME_RATES, outcome_counts, outcome_rates, rates_from_counts
from recgym.metrics.regret import regret_from_totals, regret_summary

__all__ = [
    "OUTCOME_RATES",
    "catalogue_coverage",
    "category_coverage",
    "distinct_share",
    "diversity_from_counts",
    "exposure_counts",
    "exposure_gini",
    "gini",
    "intra_list_diversity",
    "outcome_counts",
    "outcome_rates",
    "rates_from_counts",
    "regret_from_totals",
    "regret_summary",
    "share_shown",
]
