"""Report figures about cost: test accuracy against training wall time (or core parameters)
per task, and one task's accuracy against wall time per model (IMDB: "at what cost"). Same
conventions as bench/report/plots.py."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from bench.analysis.stats import mean_ci
from bench.report.figure import (  # matplotlib through figure.py: MPLCONFIGDIR and Agg first
    accuracy_axis,
    clip01,
    finite,
    group_label,
    groups,
    headers,
    legend_right,
    model_style,
    ok_rows,
    plain_x,
    plt,
    point_handle,
    references,
    save,
)


def accuracy_vs(selected: pd.DataFrame, x: str, path: Path, order: Sequence[str] = (),
                exclude: Sequence[str] = ()) -> Path | None:
    """Test accuracy of every ok run against `x` (params_core or wall_s), one panel per task
    (but those in `exclude`), each panel with its baseline and, for wall_s, its cost-quality
    frontier. Against params_core only when the runs span several budgets."""
    data = ok_rows(selected)
    if data.empty or x not in data:
        return None
    data = data.dropna(subset=[x])
    data = data[~data["task"].isin(exclude)]
    if data.empty or (x == "params_core" and data["budget_params"].nunique() < 2):
        return None
    tasks = sorted(data["task"].unique())
    ncols = min(3, len(tasks))
    nrows = -(-len(tasks) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
    style, entries, levels = model_style(data["model"], order), [], []
    inits = set(data["init"])
    for ax, task in zip(axes.flat, tasks, strict=False):
        here = data[data["task"] == task]
        for model, init in groups(here, order):
            rows = here[(here["model"] == model) & (here["init"] == init)]
            color, marker = style["palette"][model], style["markers"][model]
            hollow = init != "standard"
            ax.scatter(rows[x], rows["test_accuracy"], s=34, marker=marker, zorder=3, alpha=0.85,
                       facecolors="none" if hollow else color, edgecolors=color, linewidths=1.2)
            entries.append((point_handle(color, marker, init, line=False), group_label(model, init, inits)))
        if x == "wall_s":
            front = _frontier(here, x)
            frontier = ax.step(front[x], front["test_accuracy"], where="post", color="0.55", lw=1, zorder=1)[0]
        levels += references(ax, task, here)
        plain_x(ax, here[x])
        accuracy_axis(ax)
        ax.set_title(task, fontsize=10)
        ax.set_xlabel({"params_core": "core parameters", "wall_s": "training wall time per run (s)"}.get(x, x))
        ax.set_ylabel("test accuracy")
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    if x == "wall_s":
        entries.append((frontier, "cost-quality frontier"))
    what = "cost-quality frontier grey" if x == "wall_s" else ""
    figure.suptitle(headers(f"Test accuracy against {'training wall time' if x == 'wall_s' else 'core parameters'}",
                            "points: runs" + (f"; {what}" if what else "")), fontsize=11)
    legend_right(figure, entries, levels)
    figure.tight_layout()
    return save(figure, path)


def _frontier(points: pd.DataFrame, x: str) -> pd.DataFrame:
    """The cost-quality frontier: points no other point beats on both lower x and higher accuracy."""
    ordered = points.sort_values([x, "test_accuracy"], ascending=[True, False])
    best, keep = -np.inf, []
    for index, row in ordered.iterrows():
        if row["test_accuracy"] > best:
            best = row["test_accuracy"]
            keep.append(index)
    return ordered.loc[keep]


def cost(selected: pd.DataFrame, path: Path, order: Sequence[str] = (), task: str = "imdb",
         cells: pd.DataFrame | None = None) -> Path | None:
    """At what cost: one task's test accuracy against training wall time per model (IMDB by
    default): each seed a point, each model's mean a large marker with its 95% interval on both
    axes (within [0, 1] on accuracy), the majority-class baseline dashed."""
    data = ok_rows(selected)
    if data.empty or "wall_s" not in data:
        return None
    data = data[data["task"] == task].dropna(subset=["wall_s"])
    if data.empty:
        return None
    figure, ax = plt.subplots(figsize=(7.2, 4.4))
    style, entries, any_interval = model_style(data["model"], order), [], False
    inits = set(data["init"])
    for model, init in groups(data, order):
        rows = data[(data["model"] == model) & (data["init"] == init)]
        color, marker = style["palette"][model], style["markers"][model]
        ax.scatter(rows["wall_s"], rows["test_accuracy"], s=18, color=color, alpha=0.45, lw=0, zorder=2)
        acc, wall = mean_ci(rows["test_accuracy"]), mean_ci(rows["wall_s"])
        xerr = [[min(wall.half, 0.9 * wall.mean)], [wall.half]] if finite(wall.half) else None
        low, high = clip01(acc.mean - acc.half, acc.mean + acc.half) if finite(acc.half) else (acc.mean, acc.mean)
        any_interval |= finite(acc.half)
        ax.errorbar([wall.mean], [acc.mean], xerr=xerr, yerr=[[acc.mean - low], [high - acc.mean]],
                    color=color, marker=marker, markersize=9, markeredgecolor="white", ls="none", lw=1.2,
                    capsize=3, zorder=3, mfc="none" if init != "standard" else color)
        entries.append((point_handle(color, marker, init, line=False), group_label(model, init, inits)))
    levels = references(ax, task, data)
    plain_x(ax, data["wall_s"])
    low = min(float(data["test_accuracy"].min()), *(level for level in _levels(task, data)))
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, float(data["test_accuracy"].max()) + 0.05) + 0.005)
    ax.set_xlabel("training wall time per run (s)")
    ax.set_ylabel("test accuracy")
    one = int(data.groupby(["model", "init"]).size().max()) <= 1
    drawn = ("one seed per model (preliminary): each marker is its run" if one else
             "small points: seeds; large: mean" + (" ± 95% interval" if any_interval else ""))
    ax.set_title(headers(f"At what cost? {task}: test accuracy against training wall time", drawn), fontsize=10)
    legend_right(figure, entries, levels)
    figure.tight_layout()
    return save(figure, path)


def _levels(task: str, data: pd.DataFrame) -> list[float]:
    values = pd.to_numeric(data.get("trivial_baseline", pd.Series(dtype=float)), errors="coerce").dropna()
    return [float(values.mean())] if len(values) else []
