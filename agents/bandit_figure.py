"""The regret-over-periods figure of the bandit experiment: mean regret and cumulative regret per agent.

Drawn on a standalone :class:`matplotlib.figure.Figure` (Agg, no pyplot state) and written with
:func:`recgym.data.files.write_new_file`, so an existing file is never replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from recgym.data.files import write_new_file

PANEL_SIZE = (6.4, 4.6)
"""Width and height in inches of one panel."""
DPI = 100


def plot_bandit_regret(periods: pd.DataFrame, path: str | os.PathLike[str], *, title: str | None = None,
                       reference_lines: dict[str, float] | None = None) -> Path:
    """Draw each agent's mean regret per period (left) and cumulative regret (right), averaged over seeds.

    With several seeds a band shows the range over seeds.

    Parameters
    ----------
    periods : pandas.DataFrame
        One row per agent, seed and period with ``agent``, ``seed``, ``period``, ``mean_regret``
        and ``cumulative_regret`` (:func:`agents.bandit_experiment.run_bandit_experiment`'s table).
    path : str or os.PathLike
        The PNG to write; never replaced if it exists (``FileExistsError``).
    title : str, optional
    reference_lines : dict of str to float, optional
        Horizontal dashed lines on the left panel, e.g. ``{"best item on average": 0.19}``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if periods.empty:
        raise ValueError("periods must hold at least one row")
    width, height = PANEL_SIZE
    figure = Figure(figsize=(2 * width, height), dpi=DPI, layout="constrained")
    regret_ax, cumulative_ax = figure.subplots(1, 2)
    n_seeds = periods["seed"].nunique()
    for index, (agent, rows) in enumerate(periods.groupby("agent", sort=False)):
        color = f"C{index % 10}"
        for ax, column in ((regret_ax, "mean_regret"), (cumulative_ax, "cumulative_regret")):
            stats = rows.groupby("period")[column].agg(["mean", "min", "max"])
            final = stats["mean"].iloc[-1]
            ax.plot(stats.index, stats["mean"], color=color, linewidth=1.8, label=f"{agent} ({final:.3g})")
            if n_seeds > 1:
                ax.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.15, linewidth=0)
    for index, (name, value) in enumerate((reference_lines or {}).items()):
        regret_ax.axhline(value, color="0.4", linestyle=("--", ":", "-.")[index % 3], linewidth=1.0,
                          label=f"{name} ({value:.3g})")
    regret_ax.set_ylabel("mean regret per request")
    regret_ax.set_title("mean regret per period (legend: the last period)", fontsize=9)
    cumulative_ax.set_ylabel("cumulative regret (sum of the periods' mean regrets)")
    cumulative_ax.set_title("cumulative regret (legend: after the last period)", fontsize=9)
    for ax in (regret_ax, cumulative_ax):
        ax.set_xlabel("period (every user requests once)")
        ax.set_ylim(bottom=0.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    if n_seeds > 1:
        title = f"{title}; bands: range over the {n_seeds} seeds" if title else f"bands: range over the {n_seeds} seeds"
    if title:
        figure.suptitle(title, fontsize=10)
    return write_new_file(path, lambda temporary: figure.savefig(temporary, format="png"))
