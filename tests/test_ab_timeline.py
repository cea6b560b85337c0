"""The A/B timeline (agents.ab_report.timeline): each look is the first visits to start, so early looks are unbiased
even when the arms' sessions differ in length; an empty confidence sequence is flagged."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agents.ab_report import SHORT_VIDEO_METRICS, format_report, report_table, timeline, user_table
from recgym.ab.analysis import welch_ttest

METRICS = [m for m in SHORT_VIDEO_METRICS if m.name in ("session_return", "session_length")]
COLUMNS = ("impressions", "reward")
STOP = (0.25, 0.1)
"""Per-step chance that a session of arm A, B ends: B's sessions are 2.5 times as long."""
CAP = 50
"""Sessions are truncated after this many steps, as the short-video env's ``max_steps``."""


def _true_mean_length(stop: float) -> float:
    """E[min(G, CAP)] for G geometric on {1, 2, ...} with success probability ``stop``."""
    return (1 - (1 - stop) ** CAP) / stop


def _scripted_traffic(rng: np.random.Generator, n_users: int = 300, slots: int = 64, n_visits: int = 900) -> pd.DataFrame:
    """Visits laid out as :func:`agents.ab_traffic.serve_traffic` returns them, from a scripted session process.

    Each of ``slots`` concurrent slots runs sessions back to back (a session ending at step ``s`` frees its slot for a
    new one that shows its first item at ``s + 2``, as with next-step autoreset), each for a random user; a session's
    length is geometric with its arm's chance of ending, capped at ``CAP``, and its return is one per impression.
    The first ``n_visits`` sessions to start are kept, numbered in order of starting, and listed in order of ending.
    """
    arms = rng.integers(0, 2, n_users)
    per_slot = 4 * n_visits // slots + 20
    users = rng.integers(n_users, size=(slots, per_slot))
    lengths = np.minimum(rng.geometric(np.asarray(STOP)[arms[users]]), CAP)
    starts = np.cumsum(lengths + 1, axis=1) - lengths  # 1, then each session two steps after the last one's end
    frame = pd.DataFrame({"start": starts.ravel(), "slot": np.repeat(np.arange(slots), per_slot), "user": users.ravel(),
                          "arm": arms[users].ravel(), "impressions": lengths.ravel().astype(np.float64)})
    frame = frame.sort_values(["start", "slot"]).head(n_visits).reset_index(drop=True)
    assert frame["start"].max() < starts[:, -1].min()  # every slot still had sessions to start: none is missing
    frame.insert(0, "visit", np.arange(len(frame)))
    frame["end_step"] = frame["start"] + frame["impressions"].astype(np.int64) - 1
    frame["reward"] = frame["impressions"]
    return frame.sort_values(["end_step", "slot"]).drop(columns="start").reset_index(drop=True)


def test_each_look_is_the_first_visits_to_start_taken_when_they_have_all_ended():
    visits = _scripted_traffic(np.random.default_rng(0))
    frame = timeline(visits, COLUMNS, METRICS, checkpoints=6)
    started = visits.sort_values("visit")
    for _, look in frame[frame["metric"] == "session_length"].iterrows():
        first = started[started["visit"] < look["visits"]]
        users = user_table(first, COLUMNS)
        assert (look["users_a"], look["users_b"]) == ((users["arm"] == 0).sum(), (users["arm"] == 1).sum())
        assert look["step"] == first["end_step"].max()
        expected = welch_ttest(users.loc[users["arm"] == 0, "impressions"] / users.loc[users["arm"] == 0, "visits"],
                               users.loc[users["arm"] == 1, "impressions"] / users.loc[users["arm"] == 1, "visits"])
        assert look["difference"] == pytest.approx(expected.difference)
    assert frame["visits"].iloc[-1] == len(visits)
    # Row order does not matter: the visits may come in any order.
    shuffled = visits.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(timeline(shuffled, COLUMNS, METRICS, checkpoints=6), frame)


def test_early_looks_are_unbiased_when_one_arm_s_sessions_are_longer():
    """Visits that have ended by an early look are mostly short ones: counting them biases both arms and their
    difference. The first visits to start are a fair sample, so every look's mean over experiments is the truth."""
    rng = np.random.default_rng(21)
    truth = {"a": _true_mean_length(STOP[0]), "b": _true_mean_length(STOP[1])}
    truth["difference"] = truth["b"] - truth["a"]
    looks = []
    for _ in range(80):
        frame = timeline(_scripted_traffic(rng), COLUMNS, METRICS[:1], checkpoints=5)
        looks.append(frame[["estimate_a", "estimate_b", "difference"]].to_numpy())
    looks = np.stack(looks)  # experiments x looks x (A, B, B - A)
    means, ses = looks.mean(axis=0), looks.std(axis=0, ddof=1) / math.sqrt(len(looks))
    for column, name in enumerate(("a", "b", "difference")):
        # Each look within 4 standard errors of the truth. Counting the visits that had ended instead, the first
        # look's A is about 3.5 (truth 4.0), B 6.2 (truth 9.9) and the difference 2.6 (truth 5.9): far outside.
        assert (np.abs(means[:, column] - truth[name]) < 4 * ses[:, column]).all(), (name, means[:, column], truth[name])


def test_an_empty_confidence_sequence_is_flagged_in_the_timeline_and_the_report():
    visits = _scripted_traffic(np.random.default_rng(3), n_users=400, n_visits=1200)
    # The effect changes half-way: B's later sessions return -10 each, so no single difference fits every look.
    late = (visits["arm"] == 1) & (visits["visit"] >= 600)
    visits.loc[late, "reward"] = -10.0
    frame = timeline(visits, COLUMNS, METRICS[:1], checkpoints=12)
    sequential = frame.dropna(subset=["always_valid_p"])
    assert sequential["cs_empty"].any() and not sequential["cs_empty"].iloc[0]
    assert (sequential["cs_low"] > sequential["cs_high"]).to_numpy().tolist() == sequential["cs_empty"].tolist()
    from agents.ab_report import compare

    users = user_table(visits, COLUMNS)
    report = report_table([compare(users, METRICS[0])], frame, METRICS[:1])
    first_empty = sequential[sequential["cs_empty"]].iloc[0]
    assert report["sequential_empty_users"].iloc[0] == first_empty["users_a"] + first_empty["users_b"]
    assert "confidence sequence of session_return is empty" in format_report(report)


def test_visits_must_be_numbered_in_order_of_starting():
    visits = _scripted_traffic(np.random.default_rng(4))
    with pytest.raises(ValueError, match=r"numbered 0, 1, \.\.\."):
        timeline(visits.assign(visit=visits["visit"] + 1), COLUMNS, METRICS)
