"""The learning curve of a training run: periodic evaluations as a table and as a PNG beside the baselines.

The figure is drawn on a standalone :class:`matplotlib.figure.Figure` (Agg rendering, no pyplot
state, no display needed) and written with :func:`recgym.data.files.write_new_file`, so an
existing file is never replaced.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from agents.training import EvalResult
from recgym.data.files import write_new_file

PANEL_SIZE = (7.0, 5.2)
"""Width and height in inches of one panel (the figure is one panel wide per plotted metric)."""
DPI = 100
"""Pixels per inch of the PNG."""

PANELS = (("mean_return", "mean return per episode"), ("regret", "mean regret per request"))
"""Plotted columns and their axis labels; a panel is drawn when the curve has the column."""


def evaluations_frame(evaluations: Sequence[tuple[int, EvalResult]]) -> pd.DataFrame:
    """One row per periodic evaluation: ``env_steps`` and the scalars of :meth:`EvalResult.as_dict`.

    Parameters
    ----------
    evaluations : sequence of (int, EvalResult)
        :attr:`agents.training.TrainingResult.evaluations`.

    Returns
    -------
    pandas.DataFrame
        Columns ``env_steps``, ``episodes``, ``mean_return``, ``std_return``, ``stderr``,
        ``mean_length`` and the evaluation's info metrics.
    """
    rows = [{"env_steps": int(steps), **result.as_dict()} for steps, result in evaluations]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["episodes"] = frame["episodes"].astype(np.int64)
    return frame


def plot_learning_curve(
    curve: pd.DataFrame,
    baselines: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    label: str = "agent",
    title: str | None = None,
) -> Path:
    """Draw the agent's evaluations against env steps, with a ±stderr band and one line per baseline.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`evaluations_frame`'s table.
    baselines : pandas.DataFrame
        Rows with ``policy`` and the plotted columns (e.g. :func:`agents.comparison.comparison_table`
        without the agent's row): each becomes a dashed horizontal line.
    path : str or os.PathLike
        The PNG to write; never replaced if it exists (``FileExistsError``).
    label : str
        Legend entry of the agent.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if curve.empty:
        raise ValueError("curve must hold at least one evaluation")
    panels = [(column, axis_label) for column, axis_label in PANELS if column in curve]
    width, height = PANEL_SIZE
    figure = Figure(figsize=(width * len(panels), height), dpi=DPI, layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    steps = curve["env_steps"].to_numpy()
    for ax, (column, axis_label) in zip(axes, panels, strict=True):
        values = curve[column].to_numpy(dtype=float)
        ax.plot(
            steps, values, color="C0", marker="o", markersize=3, linewidth=1.8, label=f"{label} ({values[-1]:.3g} at the end)"
        )
        if column == "mean_return":
            stderr = np.nan_to_num(curve["stderr"].to_numpy(dtype=float))
            ax.fill_between(steps, values - stderr, values + stderr, color="C0", alpha=0.2, linewidth=0, label="± standard error")
        for index, (name, value) in enumerate(zip(baselines["policy"], baselines.get(column, []), strict=False)):
            if np.isfinite(value):
                ax.axhline(value, color=f"C{index + 1}", linestyle="--", linewidth=1.2, label=f"{name} ({value:.3g})")
        ax.set_xlabel("env steps (transitions)")
        ax.set_ylabel(axis_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    if title:
        figure.suptitle(title, fontsize=10)
    return write_new_file(path, lambda temporary: figure.savefig(temporary, format="png"))
