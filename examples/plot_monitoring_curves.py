"""Draw the recommender-metric curves of a training run from its TensorBoard event files (the figure in docs/monitoring.md).

Reads every event file under ``--logdir`` with TensorBoard's ``EventAccumulator`` and plots, against
env steps, the episode return (SB3's ``rollout/ep_rew_mean``), the outcome rates
(``rec/watch_rate``, ``rec/like_rate``, ``rec/skip_rate``), what was shown (``rec/diversity``,
``rec/category_coverage``) and how widely (``rec/catalogue_coverage``, ``rec/creator_gini``), and
the greedy policy's evaluations (``eval/mean_return``) where the run has them. Panels whose tags
are absent are left out. An existing figure is kept unless ``--overwrite``.

Run: ``python examples/plot_monitoring_curves.py --logdir runs/sb3-dqn_RecGym-ShortVideo-v0_seed0_1/tensorboard
--out docs/img/monitoring_curves.png``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from recgym.data.files import write_new_file

PANELS: Sequence[tuple[str, Sequence[str]]] = (
    ("episode return", ("rollout/ep_rew_mean", "rec/return", "eval/mean_return")),
    ("outcome rates", ("rec/watch_rate", "rec/like_rate", "rec/skip_rate", "rec/end_rate")),
    ("what was shown", ("rec/diversity", "rec/category_coverage")),
    ("how widely", ("rec/catalogue_coverage", "rec/creator_gini")),
    ("regret", ("rec/regret", "eval/regret")),
)
"""Panel titles and the tags each one plots (the first tags found; eval/ points as markers)."""


def read_scalars(logdir: Path) -> dict[str, tuple[list[int], list[float]]]:
    """Every scalar tag of the event files under ``logdir``: ``tag -> (steps, values)``, in step order."""
    files = sorted(logdir.rglob("events.out.tfevents.*"))
    if not files:
        raise SystemExit(f"no TensorBoard event files under {logdir}")
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in files:
        accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0})  # 0: keep every point
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            scalars.setdefault(tag, []).extend((event.step, event.value) for event in accumulator.Scalars(tag))
    return {tag: ([s for s, _ in sorted(points)], [v for _, v in sorted(points)]) for tag, points in scalars.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", type=Path, required=True, help="directory holding the run's event files")
    parser.add_argument("--out", type=Path, default=Path("docs/img/monitoring_curves.png"))
    parser.add_argument("--title", default=None, help="figure title (default: the logdir)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing figure")
    args = parser.parse_args()
    if args.out.exists() and not args.overwrite:
        parser.error(f"{args.out} exists; pass --overwrite to replace it")
    scalars = read_scalars(args.logdir)
    if "rollout/ep_rew_mean" in scalars:
        scalars.pop("rec/return", None)  # the same episodes' returns as VecMonitor's: one line is enough
    panels = [(title, [tag for tag in tags if tag in scalars]) for title, tags in PANELS]
    panels = [(title, tags) for title, tags in panels if tags]
    if not panels:
        raise SystemExit(f"none of the plotted tags is in {args.logdir}; it has {sorted(scalars)}")
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(4.6 * columns, 3.4 * rows + 0.4))
    for index, (title, tags) in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for tag in tags:
            steps, values = scalars[tag]
            style = {"marker": "o", "linestyle": "--"} if tag.startswith("eval/") else {}
            axes.plot(steps, values, label=tag, **style)
        axes.set_title(title)
        axes.set_xlabel("env steps")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, frameon=False)
    figure.suptitle(args.title or str(args.logdir), fontsize=10)
    figure.tight_layout()
    write_new_file(args.out, lambda temporary: figure.savefig(temporary, format="png", dpi=100), overwrite=args.overwrite)
    print(f"wrote {args.out} ({len(panels)} panels from {len(scalars)} tags)")


if __name__ == "__main__":
    main()
