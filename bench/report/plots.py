"""Report figures about accuracy (matplotlib, bench/report/figure.py's style). Each function
takes tidy frames and a path, draws one figure, saves it as PNG, SVG and PDF and returns the
PNG's path (None when there is nothing to draw).

Colour and marker name the model, the line style its init (standard solid, chrono/orthogonal
dashed). Every seed is a point; the mean is the line; intervals come from the cell summary
(`ci_low`/`ci_high`, else mean ± `ci95`) and are drawn within [0, 1]. Groups are dodged a
little sideways so lines that coincide (two models at 1.0) both stay visible. Each panel draws
its task's baseline or ceiling. The speed and gradient-flow figures: bench/report/plots_probes.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.analysis.stats import mean_ci
from bench.report.figure import (
    accuracy_axis,
    clip01,
    data_ticks,
    dodge,
    finite,
    group_label,
    groups,
    headers,
    init_line,
    legend_right,
    log_plain,
    model_handle,
    model_style,
    references,
    save,
    spans_wide,
    with_init,
)
from bench.report.plots_probes import gradflow, speedup, throughput

__all__ = ["accuracy_vs", "cost", "gradflow", "headline", "knob_figure", "speedup", "throughput",
           "training_curves"]
KEYS = ["task", "variant", "model", "init"]


def _ok(frame: pd.DataFrame, column: str = "test_accuracy") -> pd.DataFrame:
    if frame is None or frame.empty or column not in frame:
        return pd.DataFrame()
    rows = frame[frame["status"] == "ok"] if "status" in frame else frame
    return with_init(rows.dropna(subset=[column]))


def _interval(cell) -> tuple[float, float] | None:
    """A cell's 95% interval of mean accuracy within [0, 1] (None for one seed)."""
    low, high = getattr(cell, "ci_low", None), getattr(cell, "ci_high", None)
    if finite(low) and finite(high):
        return clip01(float(low), float(high))
    half = getattr(cell, "ci95", None)
    if finite(half):
        return clip01(cell.test_accuracy - half, cell.test_accuracy + half)
    return None


def _cells(runs: pd.DataFrame, cells: pd.DataFrame | None, knob: str) -> pd.DataFrame:
    """One row per (rest, model, init, knob value): the summary's rows when given, else the
    runs' mean and Student-t interval."""
    if cells is not None and not cells.empty and knob in cells:
        return with_init(cells)
    rows = []
    for key, group in runs.groupby(["rest", "model", "init", knob], sort=False):
        stat = mean_ci(group["test_accuracy"])
        rows.append(dict(zip(["rest", "model", "init", knob], key, strict=True),
                         test_accuracy=stat.mean, ci95=stat.half, n=stat.n))
    return pd.DataFrame(rows)


def _seed_offsets(seeds: pd.Series) -> dict:
    """Each seed its own small sideways slot inside its group's dodge (ranks -0.5..0.5)."""
    ordered = sorted(set(seeds))
    if len(ordered) < 2:
        return {s: 0.0 for s in ordered}
    return {s: i / (len(ordered) - 1) - 0.5 for i, s in enumerate(ordered)}


def knob_figure(runs: pd.DataFrame, cells: pd.DataFrame | None, task: str, knob: str, path: Path,
                order: Sequence[str] = (), title: str | None = None) -> Path | None:
    """Test accuracy against the task's knob: every seed a point, the mean a line with its 95%
    interval, one row of panels per set of other knobs (`rest`); beside it the solve rate with
    its exact interval when the summary carries one. `runs`: the selected runs with a numeric
    `knob` column and `rest` (labels.with_knob); `cells`: the summary rows, same columns."""
    runs = _ok(runs)
    if runs.empty or runs[knob].nunique() < 2:
        return None
    cells = _cells(runs, cells, knob)
    solve = "solve_rate" in cells and cells["solve_rate"].notna().any()
    rests = list(dict.fromkeys(runs["rest"]))
    ncols = 2 if solve else 1
    figure, axes = plt.subplots(len(rests), ncols, figsize=(6.6 * ncols, 4.0 * len(rests)), squeeze=False)
    style = model_style(runs["model"], order)
    pairs = groups(runs, order)
    inits = {i for _, i in pairs}
    log = spans_wide(runs[knob])
    span = float(runs[knob].max() - runs[knob].min()) or 1.0
    entries, levels, any_interval = {}, [], False
    for row, rest in enumerate(rests):
        here, cell_rows = runs[runs["rest"] == rest], cells[cells["rest"] == rest] if "rest" in cells else cells
        ax, means, rates = axes[row][0], [], []
        for index, (model, init) in enumerate(pairs):
            color, marker = style["palette"][model], style["markers"][model]
            seeds = here[(here["model"] == model) & (here["init"] == init)]
            mine = cell_rows[(cell_rows["model"] == model) & (cell_rows["init"] == init)].sort_values(knob)
            if seeds.empty or mine.empty:
                continue
            slots = _seed_offsets(seeds["seed"]) if "seed" in seeds else {}
            for seed, group in (seeds.groupby("seed") if "seed" in seeds else [(0, seeds)]):
                x = dodge(group[knob], index + 0.35 * slots.get(seed, 0.0), len(pairs), log, span)
                ax.scatter(x, group["test_accuracy"], s=24, color=color, alpha=0.55, lw=0, zorder=2)
            x = dodge(mine[knob], index, len(pairs), log, span)
            line = {"color": color, "marker": marker, "init": init, "x": x, "knob": list(mine[knob])}
            means.append({**line, "y": list(mine["test_accuracy"])})
            for xi, cell in zip(x, mine.itertuples(), strict=True):
                interval = _interval(cell)
                if interval is not None and interval[1] > interval[0]:
                    any_interval = True
                    ax.vlines(xi, *interval, color=color, lw=1.1, alpha=0.8, zorder=2.5)
            entries[group_label(model, init, inits)] = _handle(color, marker, init)
            if solve:
                rates.append({**line, "y": list(mine["solve_rate"])})
                _solve_bars(axes[row][1], mine, x, color)
        mean_lines(ax, means)
        if solve:
            mean_lines(axes[row][1], rates)
        levels += references(ax, task, here, panel=rest)
        for col in range(ncols):
            data_ticks(axes[row][col], runs[knob], log)
            accuracy_axis(axes[row][col])
            axes[row][col].set_xlabel(_knob_words(knob))
        ax.set_ylabel("test accuracy")
        ax.set_title(rest or task, fontsize=9) if len(rests) > 1 else None
        if solve:
            axes[row][1].set_ylabel("solve rate (share of seeds at the bar)")
            if row == 0:
                axes[row][1].set_title("solve rate, exact 95% interval", fontsize=9)
    one = int(pd.to_numeric(cells.get("n", pd.Series([1])), errors="coerce").max()) <= 1
    drawn = ("one seed per cell (preliminary): each marker is its run" if one else
             "points: seeds; line: mean" + ("; bars: 95% interval, within [0, 1]" if any_interval else ""))
    figure.suptitle(headers(title or f"{task}: test accuracy against {knob}", drawn), fontsize=11)
    legend_right(figure, [(h, label) for label, h in entries.items()], levels)
    figure.tight_layout()
    return save(figure, path)


def _handle(color, marker: str, init: str):
    """A legend entry: the model's colour and marker, the init's line style; a long-memory
    init's marker hollow."""
    handle = model_handle(color, marker, init_line(init))
    if init != "standard":
        handle.set_markerfacecolor("white")
    return handle


def mean_lines(ax, lines: list[dict]) -> None:
    """Draw each group's mean line. A segment two or more groups share (same knob values, same
    means) is drawn in alternating dashes, one colour after the other, so none hides another;
    the rest in the group's init style. Markers (hollow for a long-memory init) on top."""
    shared: dict[tuple, list[int]] = {}
    for k, line in enumerate(lines):
        for j in range(len(line["y"]) - 1):
            key = (line["knob"][j], line["knob"][j + 1], round(line["y"][j], 3), round(line["y"][j + 1], 3))
            shared.setdefault(key, []).append(k)
    dash = 5.0
    for k, line in enumerate(lines):
        for j in range(len(line["y"]) - 1):
            key = (line["knob"][j], line["knob"][j + 1], round(line["y"][j], 3), round(line["y"][j + 1], 3))
            owners = shared[key]
            style = (init_line(line["init"]) if len(owners) == 1 else
                     (owners.index(k) * dash, (dash, (len(owners) - 1) * dash)))
            ax.plot(line["x"][j:j + 2], line["y"][j:j + 2], color=line["color"], ls=style, lw=2.2, zorder=3,
                    solid_capstyle="butt", dash_capstyle="butt")
        hollow = line["init"] != "standard"
        ax.plot(line["x"], line["y"], ls="none", marker=line["marker"], markersize=6.5, color=line["color"],
                markerfacecolor="white" if hollow else line["color"], markeredgecolor=line["color"] if hollow
                else "white", markeredgewidth=1.3 if hollow else 0.8, zorder=4)


def _solve_bars(ax, cells: pd.DataFrame, x: list[float], color) -> None:
    """The solve rate's exact interval (within [0, 1]) at each knob value."""
    if {"solve_lo", "solve_hi"} <= set(cells.columns):
        for xi, low, high in zip(x, cells["solve_lo"], cells["solve_hi"], strict=True):
            if finite(low) and finite(high):
                ax.vlines(xi, *clip01(float(low), float(high)), color=color, lw=1.1, alpha=0.8, zorder=2.5)


def stripe(index: int, count: int, thin: float = 1.3, thick: float = 4.2) -> float:
    """Line width of group `index`: the first drawn thickest, each later one thinner and on top,
    so lines that coincide show as nested stripes instead of hiding each other."""
    return thick - (thick - thin) * (index / (count - 1) if count > 1 else 1.0)


def plain_x(ax, values: pd.Series) -> None:
    """A continuous x axis (seconds, parameters) in plain numbers, log scale when it spans 8x."""
    if spans_wide(values):
        ax.set_xscale("log")
        log_plain(ax.xaxis)
    else:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))


def _knob_words(knob: str) -> str:
    return {"distance": "dependency distance (tokens between the fact and the question)",
            "lag": "lag (tokens between the symbols and their recall)"}.get(knob, knob)


def headline(runs: pd.DataFrame, path: Path, order: Sequence[str] = (),
             cells: pd.DataFrame | None = None) -> Path | None:
    """The headline: how far each model remembers on recall (test accuracy, and the solve rate
    when the summary has it, against the dependency distance). `runs` and `cells`: the recall
    runs and summary rows with a numeric `distance` and `rest` (labels.with_knob)."""
    return knob_figure(runs, cells, "recall", "distance", path, order,
                       title="How far does each model remember? Recall against dependency distance")


def accuracy_vs(selected: pd.DataFrame, x: str, path: Path, order: Sequence[str] = (),
                exclude: Sequence[str] = ()) -> Path | None:
    """Test accuracy of every ok run against `x` (params_core or wall_s), one panel per task
    (but those in `exclude`), each panel with its baseline and, for wall_s, its cost-quality
    frontier. Against params_core only when the runs span several budgets."""
    data = _ok(selected)
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
            entries.append((model_handle(color, marker, "none"), group_label(model, init, inits)))
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
    data = _ok(selected)
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
        entries.append((model_handle(color, marker, "none"), group_label(model, init, inits)))
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


def training_curves(curves: pd.DataFrame, path: Path, order: Sequence[str] = (),
                    levels: pd.DataFrame | None = None) -> Path | None:
    """Validation accuracy against step, one thin line per seed (markers at its evaluations),
    one panel per variant, each panel with its task's baseline or ceiling (from `levels`: the
    selected runs of the task, with the baseline columns). Groups are dodged sideways a little
    so models that run at the same accuracy stay visible."""
    data = curves.dropna(subset=["val_accuracy"]) if not curves.empty else curves
    if data.empty:
        return None
    data = with_init(data)
    if levels is not None and not levels.empty and "init" not in curves and "run_id" in levels and "init" in levels:
        data = data.drop(columns="init").merge(levels[["run_id", "init"]], on="run_id", how="left")
        data = with_init(data)
    task = str(data["task"].iloc[0])
    variants = list(dict.fromkeys(data["variant"]))  # the caller's order
    ncols = min(3, len(variants))
    nrows = -(-len(variants) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.5 * nrows), squeeze=False, sharey=True)
    style, pairs = model_style(data["model"], order), groups(data, order)
    inits, entries, marks = {i for _, i in pairs}, [], []
    span = float(data["step"].max() - data["step"].min()) or 1.0
    for ax, variant in zip(axes.flat, variants, strict=False):
        here = data[data["variant"] == variant]
        for index, (model, init) in enumerate(pairs):
            rows = here[(here["model"] == model) & (here["init"] == init)]
            color, marker = style["palette"][model], style["markers"][model]
            for _, run in rows.groupby("run_id", sort=False) if "run_id" in rows else [(0, rows)]:
                run = run.sort_values("step")
                ax.plot(dodge(run["step"], index, len(pairs), False, span, share=0.012), run["val_accuracy"],
                        color=color, ls=init_line(init), marker=marker, markersize=3.5, alpha=0.8,
                        lw=stripe(index, len(pairs), thin=0.9, thick=1.9), zorder=2 + index / 100)
            if not rows.empty:
                entries.append((model_handle(color, marker, init_line(init)), group_label(model, init, inits)))
        if levels is not None and not levels.empty:
            mine = levels[levels["variant"] == variant] if "variant" in levels else levels
            marks += references(ax, task, mine if not mine.empty else levels, panel=str(variant))
        accuracy_axis(ax)
        ax.set_title(str(variant), fontsize=9)
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(variants):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("validation accuracy")
    figure.suptitle(headers(f"{task}: validation accuracy against step",
                            "one line per seed, markers at its evaluations"), fontsize=11)
    legend_right(figure, entries, marks)
    figure.tight_layout()
    return save(figure, path)
