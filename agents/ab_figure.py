"""The A/B figure: two metrics over the traffic, per arm (cumulative, pointwise CI) and as B − A (confidence sequence).

Drawn on a standalone :class:`matplotlib.figure.Figure` (Agg, no pyplot state) and written with
:func:`recgym.data.files.write_new_file`, so an existing file is never replaced.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from recgym.data.files import write_new_file

PANEL_SIZE = (6.0, 3.6)
"""Width and height in inches of one panel."""
DPI = 100


def plot_ab_timeline(timeline: pd.DataFrame, metrics: Sequence[str], path: str | os.PathLike[str], *,
                     labels: tuple[str, str] = ("A", "B"), alpha: float = 0.05, title: str | None = None) -> Path:
    """Per metric (a column each): both arms' cumulative value with pointwise intervals, then B − A with the confidence sequence.

    Parameters
    ----------
    timeline : pandas.DataFrame
        :func:`agents.ab_report.timeline`'s table.
    metrics : sequence of str
        Metrics to draw, one column of panels each.
    path : str or os.PathLike
        The PNG to write; never replaced if it exists (``FileExistsError``).
    labels : (str, str)
        Legend names of arms A and B.
    alpha : float
        ``1 - alpha`` is the level of the intervals.
    title : str, optional

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if timeline.empty:
        raise ValueError("timeline must hold at least one row")
    width, height = PANEL_SIZE
    figure = Figure(figsize=(width * len(metrics), 2 * height), dpi=DPI, layout="constrained")
    axes = np.asarray(figure.subplots(2, len(metrics), squeeze=False))
    z = float(stats.norm.ppf(1 - alpha / 2))
    level = f"{1 - alpha:.0%}"
    for column, metric in enumerate(metrics):
        rows = timeline[timeline["metric"] == metric]
        x = rows["users_a"] + rows["users_b"]
        arms_ax, difference_ax = axes[0, column], axes[1, column]
        for arm, label, color in (("a", labels[0], "C0"), ("b", labels[1], "C1")):
            estimate, se = rows[f"estimate_{arm}"], rows[f"se_{arm}"]
            arms_ax.plot(x, estimate, color=color, linewidth=1.8, label=f"{label} ({estimate.iloc[-1]:.4g})")
            arms_ax.fill_between(x, estimate - z * se, estimate + z * se, color=color, alpha=0.2, linewidth=0)
        arms_ax.set_title(f"{metric} per arm, cumulative (bands: pointwise {level} CI)", fontsize=9)
        arms_ax.legend(fontsize=8, frameon=False)
        difference_ax.plot(x, rows["difference"], color="C2", linewidth=1.8, label="B − A")
        empty = rows["cs_empty"].astype(bool).to_numpy() if "cs_empty" in rows else np.zeros(len(rows), dtype=bool)
        difference_ax.fill_between(x, rows["cs_low"], rows["cs_high"], where=~empty, color="C2", alpha=0.2, linewidth=0,
                                   label=f"{level} confidence sequence (valid at every look)")
        if empty.any():
            # An empty intersection has no band to draw: mark where it began (see SequentialResult.empty).
            difference_ax.axvline(x.iloc[int(np.argmax(empty))], color="C4", linewidth=1.0, linestyle="-.",
                                  label="confidence sequence empty from here (looks disagree)")
        difference_ax.axhline(0.0, color="0.3", linewidth=0.8, linestyle="--")
        rejected = rows[rows["always_valid_p"] <= alpha]
        if len(rejected):
            first = rejected["users_a"].iloc[0] + rejected["users_b"].iloc[0]
            difference_ax.axvline(first, color="C3", linewidth=1.0, linestyle=":",
                                  label=f"sequential test rejects H0 ({first:,} users)")
        difference_ax.set_title(f"{metric}: B − A (last p = {rows['always_valid_p'].iloc[-1]:.3g}, always valid)", fontsize=9)
        difference_ax.legend(fontsize=8, frameon=False)
        for ax in (arms_ax, difference_ax):
            ax.set_xlabel("users exposed (both arms)")
            ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=10)
    return write_new_file(path, lambda temporary: figure.savefig(temporary, format="png"))
