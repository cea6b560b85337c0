"""From visits to the A/B report: per-user outcomes, the fixed-horizon tests, the sequential timeline.

Users are the unit of every test, because users (not impressions) were randomised:

- **rates** (``ctr``, ``like_rate``) are ``Σ clicks / Σ impressions`` per arm. With one impression
  per user (a ratings test of one period) each user is one Bernoulli trial and the test is the
  two-proportion z-test; with several, a user's impressions are correlated and the z-test of the
  ratio uses delta-method variances over users (:func:`recgym.ab.analysis.ratio_ztest`).
- **means** (``session_return``, ``watch_seconds``, ``rating``, ``regret`` ...) are each user's
  own average (per session or per impression), compared with Welch's t-test.

The timeline re-computes every metric at ``checkpoints`` looks and runs the mSPRT
(:mod:`recgym.ab.sequential`) over them; its mixing scale ``τ`` is ``tau_sd`` times a user's
standard deviation estimated at that look. Look ``k`` analyses the first ``m_k`` visits **in the
order they started**, taken once all of them have ended. It does not analyse the visits that have
ended by some time: short sessions end first, so that sample over-represents them, and the more
so the earlier the look; where the arms' session lengths differ (a DQN's are longer than random's),
the early estimates of both arms and their difference would be biased, and a confidence sequence
built on them could exclude the truth. Which visits start first does not depend on their outcome,
so every look is an unbiased sample of the experiment's visits.
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
    """Every metric at ``checkpoints`` looks, each on the first visits to start, with the mSPRT over the looks.

    Look ``k`` holds the first ``m_k`` visits in order of starting (``m_k`` evenly spaced, the last
    look every visit), so that no visit is in or out of a look because of its outcome (see the
    module docstring); it can be taken at the env step at which the last of them ended (``step``).

    Parameters
    ----------
    visits : pandas.DataFrame
        :attr:`agents.ab_traffic.Traffic.visits`: ``visit`` (order of starting), ``end_step``,
        ``user``, ``arm`` and ``columns``, in any row order.
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
        Per look and metric: ``look``, ``visits`` (the first ``visits`` to start), ``step`` (the
        env step by which all of them had ended), ``users_a``, ``users_b``, ``metric``,
        ``estimate_a``, ``se_a``, ``estimate_b``, ``se_b``, ``difference``, ``se``, and (once each
        arm has :data:`MIN_USERS_PER_LOOK` users) ``tau``, ``always_valid_p``, ``cs_low``,
        ``cs_high`` and ``cs_empty`` (the confidence sequence's running intersection is empty: see
        :attr:`recgym.ab.sequential.SequentialResult.empty`).
    """
    started = visits.sort_values("visit", kind="stable")
    if not (started["visit"].to_numpy() == np.arange(len(started))).all():
        raise ValueError("visits must be numbered 0, 1, ... in the order they started (column 'visit')")
    # The first m visits to start have all ended by the latest of their end steps.
    ready = np.maximum.accumulate(started["end_step"].to_numpy())
    ends = np.unique(np.linspace(0, len(started), checkpoints + 1)[1:].round().astype(np.int64))
    rows = []
    for look, end in enumerate(ends):
        users = user_table(started.iloc[:end], columns)
        n_a, n_b = int((users["arm"] == 0).sum()), int((users["arm"] == 1).sum())
        for metric in metrics:
            row = {"look": look, "visits": int(end), "step": int(ready[end - 1]), "users_a": n_a, "users_b": n_b,
                   "metric": metric.name}
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
    frame["cs_empty"] = False
    for metric in metrics:
        rows_of = frame.index[(frame["metric"] == metric.name) & (frame[["users_a", "users_b"]].min(axis=1) >= MIN_USERS_PER_LOOK)
                              & (frame["se"] > 0) & (frame["tau"] > 0)]
        if len(rows_of):
            looks = frame.loc[rows_of]
            result = sequential_test(looks["difference"], looks["se"] ** 2, tau=looks["tau"].to_numpy(), alpha=alpha)
            frame.loc[rows_of, "always_valid_p"] = result.p_values
            frame.loc[rows_of, "cs_low"] = result.ci_low
            frame.loc[rows_of, "cs_high"] = result.ci_high
            frame.loc[rows_of, "cs_empty"] = result.empty
    return frame


def _first_users(looks: pd.DataFrame) -> int | None:
    """Users (both arms) at the first of ``looks``, or None if there is none."""
    return int(looks["users_a"].iloc[0] + looks["users_b"].iloc[0]) if len(looks) else None


def report_table(comparisons: Sequence[Comparison], timeline_frame: pd.DataFrame, metrics: Sequence[Metric]) -> pd.DataFrame:
    """One row per metric: the fixed-horizon comparison, and the mSPRT at the last look.

    The mSPRT's columns: ``always_valid_p``, ``sequential_significant``, ``sequential_first_users``
    (users at the first look that rejected, or None) and ``sequential_empty_users`` (users at the
    first look at which the confidence sequence was empty, or None: see :func:`format_report`).
    """
    rows = []
    descriptions = {metric.name: metric.description for metric in metrics}
    for result in comparisons:
        of_metric = timeline_frame[timeline_frame["metric"] == result.metric]
        final = of_metric["always_valid_p"].iloc[-1] if len(of_metric) else math.nan
        first = _first_users(of_metric[of_metric["always_valid_p"] <= result.alpha])
        empty = _first_users(of_metric[of_metric["cs_empty"].astype(bool)]) if "cs_empty" in of_metric else None
        rows.append({**result.as_dict(), "always_valid_p": float(final), "sequential_significant": bool(final <= result.alpha),
                     "sequential_first_users": first, "sequential_empty_users": empty,
                     "description": descriptions[result.metric]})
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
    """The report as aligned text: each arm's value, the difference and relative lift with intervals, both p-values.

    A metric whose confidence sequence became empty gets a warning line under the table: its looks
    disagree more than chance allows, so its sequential result is not to be trusted.
    """
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
    lines = [shown.to_string(index=False)]
    if "sequential_empty_users" in table:
        for metric, users in zip(table["metric"], table["sequential_empty_users"], strict=True):
            if users is not None and not pd.isna(users):
                lines.append(f"warning: the confidence sequence of {metric} is empty from {int(users):,} users on: no single "
                             "difference fits every look (the effect changed during the experiment, or the looks are biased); "
                             "do not trust its always-valid p-value")
    return "\n".join(lines)
