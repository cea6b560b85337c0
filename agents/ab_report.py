"""From visits to the A/B report: per-user outcomes, the fixed-horizon tests, the sequential timeline.

Users are the unit of every test, because users (not impressions) were randomised:

- **rates** (``ctr``, ``like_rate``) are ``Σ clicks / Σ impressions`` per arm. With one impression
  per user (a ratings test of one period) each user is one Bernoulli trial and the test is the
  two-proportion z-test; with several, a user's impressions are correlated and the z-test of the
  ratio uses delta-method variances over users (:func:`recgym.ab.analysis.ratio_ztest`).
- **means** (``session_return``, ``watch_seconds``, ``rating``, ``regret`` ...) are each user's
  own average (per session or per impression), compared with Welch's t-test.

The timeline re-computes every metric on the visits completed by each of ``checkpoints``
evenly spaced points of the traffic and runs the mSPRT (:mod:`recgym.ab.sequential`) over them;
its mixing scale ``τ`` is ``tau_sd`` times a user's standard deviation estimated at that look.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recgym.ab.analysis import Comparison, ratio_ztest, two_proportion_ztest, welch_ttest
from recgym.ab.assignment import ARM_NAMES
from recgym.ab.sequential import sequential_test
from recgym.envs.registration import SHORT_VIDEO_IDS

MIN_USERS_PER_LOOK = 50
"""Sequential looks start once each arm has this many users (variance estimates need some data)."""


@dataclass(frozen=True)
class Metric:
    """One metric of the report.

    Attributes
    ----------
    name : str
    kind : {"rate", "mean"}
        ``"rate"``: ``Σ numerator / Σ denominator`` per arm (z-test); ``"mean"``: the mean over
        users of each user's ``numerator / denominator`` (Welch's t-test).
    numerator, denominator : str
        Columns of the per-user table.
    description : str
    """

    name: str
    kind: str
    numerator: str
    denominator: str
    description: str


SHORT_VIDEO_METRICS = (
    Metric("ctr", "rate", "clicks", "impressions", "share of impressions watched or liked"),
    Metric("like_rate", "rate", "likes", "impressions", "share of impressions liked"),
    Metric("session_return", "mean", "reward", "visits", "return per session (mean over users)"),
    Metric("watch_seconds", "mean", "watch_seconds", "visits", "watch time per session, s (mean over users)"),
    Metric("session_length", "mean", "impressions", "visits", "impressions per session (mean over users)"),
    Metric("regret", "mean", "regret", "impressions",
           "myopic regret per impression: best candidate's expected reward minus the shown one's (mean over users)"),
)
RATINGS_METRICS = (
    Metric("ctr", "rate", "clicks", "impressions", "share of recommendations rated at least the click threshold"),
    Metric("rating", "mean", "rating", "impressions", "rating per recommendation (mean over users)"),
    Metric("regret", "mean", "regret", "impressions", "regret per recommendation on mean ratings (mean over users)"),
)
PLOTTED = {"short_video": ("ctr", "session_return"), "ratings": ("ctr", "rating")}
"""The metrics of the figure, per family."""


def family_metrics(env_id: str) -> tuple[Metric, ...]:
    """The report's metrics for ``env_id``'s family."""
    return SHORT_VIDEO_METRICS if env_id in SHORT_VIDEO_IDS else RATINGS_METRICS


def plotted_metrics(env_id: str) -> tuple[str, str]:
    """The two metrics drawn in the figure for ``env_id``."""
    return PLOTTED["short_video" if env_id in SHORT_VIDEO_IDS else "ratings"]


def user_table(visits: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """One row per user who had at least one visit: ``user``, ``arm``, ``visits`` and the sums of ``columns``."""
    grouped = visits.groupby("user", sort=True)
    table = grouped[list(columns)].sum()
    table.insert(0, "visits", grouped.size())
    table.insert(0, "arm", grouped["arm"].first())
    return table.reset_index()


def compare(users: pd.DataFrame, metric: Metric, *, alpha: float = 0.05) -> Comparison:
    """The fixed-horizon test of ``metric`` between the arms of ``users`` (see the module docstring)."""
    a, b = users[users["arm"] == 0], users[users["arm"] == 1]
    if metric.kind == "rate":
        numerators = users[metric.numerator].to_numpy()
        denominators = users[metric.denominator].to_numpy()
        bernoulli = (denominators == 1).all() and np.isin(numerators, (0.0, 1.0)).all()
        if bernoulli:
            return two_proportion_ztest(int(a[metric.numerator].sum()), len(a), int(b[metric.numerator].sum()), len(b),
                                        alpha=alpha, metric=metric.name)
        return ratio_ztest(a[metric.numerator], a[metric.denominator], b[metric.numerator], b[metric.denominator],
                           alpha=alpha, metric=metric.name)
    return welch_ttest(a[metric.numerator] / a[metric.denominator], b[metric.numerator] / b[metric.denominator],
                       alpha=alpha, metric=metric.name)


def _unit_sd(result: Comparison) -> float:
    """A user's standard deviation, pooled over the arms, from the standard errors of the comparison."""
    return math.sqrt((result.n_a * result.se_a**2 + result.n_b * result.se_b**2) / 2.0)


def timeline(visits: pd.DataFrame, columns: Sequence[str], metrics: Sequence[Metric], *, checkpoints: int = 40,
             alpha: float = 0.05, tau_sd: float = 0.1) -> pd.DataFrame:
    """Every metric at ``checkpoints`` evenly spaced points of the traffic, with the mSPRT over the looks.

    Parameters
    ----------
    visits : pandas.DataFrame
        :attr:`agents.ab_traffic.Traffic.visits` (in order of completion).
    columns : sequence of str
        The summed columns of the visits.
    metrics : sequence of Metric
    checkpoints : int
        Looks, the last one at the end of the traffic.
    alpha : float
    tau_sd : float
        The mSPRT's mixing scale in units of a user's standard deviation.

    Returns
    -------
    pandas.DataFrame
        Per look and metric: ``look``, ``visits``, ``users_a``, ``users_b``, ``metric``,
        ``estimate_a``, ``se_a``, ``estimate_b``, ``se_b``, ``difference``, ``se``, and (once each
        arm has :data:`MIN_USERS_PER_LOOK` users) ``tau``, ``always_valid_p``, ``cs_low``, ``cs_high``.
    """
    ends = np.unique(np.linspace(0, len(visits), checkpoints + 1)[1:].round().astype(np.int64))
    rows = []
    for look, end in enumerate(ends):
        users = user_table(visits.iloc[:end], columns)
        n_a, n_b = int((users["arm"] == 0).sum()), int((users["arm"] == 1).sum())
        for metric in metrics:
            row = {"look": look, "visits": int(end), "users_a": n_a, "users_b": n_b, "metric": metric.name}
            if min(n_a, n_b) >= 2:
                result = compare(users, metric, alpha=alpha)
                row |= {"estimate_a": result.estimate_a, "se_a": result.se_a, "estimate_b": result.estimate_b,
                        "se_b": result.se_b, "difference": result.difference, "se": math.hypot(result.se_a, result.se_b),
                        "tau": tau_sd * _unit_sd(result)}
            rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("estimate_a", "se_a", "estimate_b", "se_b", "difference", "se", "tau"):
        if column not in frame:
            frame[column] = np.nan
    frame[["always_valid_p", "cs_low", "cs_high"]] = np.nan
    for metric in metrics:
        rows_of = frame.index[(frame["metric"] == metric.name) & (frame[["users_a", "users_b"]].min(axis=1) >= MIN_USERS_PER_LOOK)
                              & (frame["se"] > 0) & (frame["tau"] > 0)]
        if len(rows_of):
            looks = frame.loc[rows_of]
            result = sequential_test(looks["difference"], looks["se"] ** 2, tau=looks["tau"].to_numpy(), alpha=alpha)
            frame.loc[rows_of, "always_valid_p"] = result.p_values
            frame.loc[rows_of, "cs_low"] = result.ci_low
            frame.loc[rows_of, "cs_high"] = result.ci_high
    return frame


def report_table(comparisons: Sequence[Comparison], timeline_frame: pd.DataFrame, metrics: Sequence[Metric]) -> pd.DataFrame:
    """One row per metric: the fixed-horizon comparison, and the mSPRT's always-valid p-value at the last look."""
    rows = []
    descriptions = {metric.name: metric.description for metric in metrics}
    for result in comparisons:
        of_metric = timeline_frame[timeline_frame["metric"] == result.metric]
        final = of_metric["always_valid_p"].iloc[-1] if len(of_metric) else math.nan
        rejected = of_metric[of_metric["always_valid_p"] <= result.alpha]
        first = int(rejected["users_a"].iloc[0] + rejected["users_b"].iloc[0]) if len(rejected) else None
        rows.append({**result.as_dict(), "always_valid_p": float(final), "sequential_significant": bool(final <= result.alpha),
                     "sequential_first_users": first, "description": descriptions[result.metric]})
    return pd.DataFrame(rows)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "∞" if value > 0 else ("-∞" if value < 0 else "nan")
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def _percent(value: float) -> str:
    return f"{value:+.1%}" if math.isfinite(value) else ("+∞" if value > 0 else "nan" if math.isnan(value) else "-∞")


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "nan"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def format_report(table: pd.DataFrame) -> str:
    """The report as aligned text: each arm's value, the difference and relative lift with intervals, both p-values."""
    level = f"{1 - table['alpha'].iloc[0]:.0%}" if len(table) else ""
    shown = pd.DataFrame(
        {
            "metric": table["metric"],
            ARM_NAMES[0]: table["estimate_a"].map(_number),
            ARM_NAMES[1]: table["estimate_b"].map(_number),
            f"B - A [{level} CI]": [f"{_number(d)} [{_number(lo)}, {_number(hi)}]"
                                    for d, lo, hi in zip(table["difference"], table["ci_low"], table["ci_high"], strict=True)],
            f"lift [{level} CI]": [f"{_percent(x)} [{_percent(lo)}, {_percent(hi)}]"
                                   for x, lo, hi in zip(table["relative_lift"], table["lift_ci_low"], table["lift_ci_high"],
                                                        strict=True)],
            "p": table["p_value"].map(_p),
            "always-valid p": table["always_valid_p"].map(_p),
            "test": table["method"],
        }
    )
    return shown.to_string(index=False)
