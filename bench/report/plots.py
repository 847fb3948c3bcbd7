"""Report figures about accuracy (matplotlib, bench/report/figure.py's style). Each function
takes tidy frames and a path, draws one figure, saves it as PNG, SVG and PDF and returns the
PNG's path (None when there is nothing to draw).

Colour and marker name the model, the line style its init (standard solid, chrono/orthogonal
dashed). Every seed is a point; the mean is the line; intervals come from the cell summary
(`ci_low`/`ci_high`, else mean ± `ci95`) and are drawn within [0, 1]. Groups are dodged a
little sideways, and a segment two groups share is drawn in alternating dashes of their
colours, so lines that coincide (two models at 1.0) all stay visible. Each panel draws
its task's baseline or ceiling. Accuracy against cost: plots_cost.py; training curves:
plots_curves.py; speed and gradient flow: plots_probes.py (all re-exported here).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from bench.analysis.stats import mean_ci
from bench.report.figure import (  # matplotlib through figure.py: MPLCONFIGDIR and Agg first
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
    model_style,
    ok_rows,
    plt,
    point_handle,
    references,
    save,
    spans_wide,
    with_init,
)
from bench.report.plots_cost import accuracy_vs, cost
from bench.report.plots_curves import training_curves
from bench.report.plots_probes import gradflow, speedup, throughput

__all__ = ["accuracy_vs", "cost", "gradflow", "headline", "knob_figure", "speedup", "throughput",
           "training_curves"]


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
    runs = ok_rows(runs)
    if runs.empty or runs[knob].nunique() < 2:
        return None
    cells = _cells(runs, cells, knob)
    one = int(pd.to_numeric(cells.get("n", pd.Series([1])), errors="coerce").max()) <= 1
    # the solve rate of one seed is the accuracy panel again (0 or 1, an interval over nearly [0, 1])
    solve = "solve_rate" in cells and cells["solve_rate"].notna().any() and not one
    rests = list(dict.fromkeys(runs["rest"]))
    ncols = 2 if solve else 1
    figure, axes = plt.subplots(len(rests), ncols, figsize=(6.6 * ncols, 4.0 * len(rests)), squeeze=False)
    style = model_style(runs["model"], order)
    pairs = groups(runs, order)
    inits = {i for _, i in pairs}
    log = spans_wide(runs[knob])
    span = float(runs[knob].max() - runs[knob].min()) or 1.0
    entries, levels, any_interval, coincide = {}, [], False, False
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
            entries[group_label(model, init, inits)] = point_handle(color, marker, init)
            if solve:
                rates.append({**line, "y": list(mine["solve_rate"])})
                _solve_bars(axes[row][1], mine, x, color)
        coincide |= mean_lines(ax, means)
        if solve:
            coincide |= mean_lines(axes[row][1], rates)
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
    drawn = ("one seed per cell (preliminary): each marker is its run" if one else
             "points: seeds; line: mean" + ("; bars: 95% interval, within [0, 1]" if any_interval else ""))
    drawn += "; two-colour dashes: lines that coincide" if coincide else ""
    figure.suptitle(headers(title or f"{task}: test accuracy against {knob}", drawn), fontsize=11)
    legend_right(figure, [(h, label) for label, h in entries.items()], levels)
    figure.tight_layout()
    return save(figure, path)


def mean_lines(ax, lines: list[dict]) -> bool:
    """Draw each group's mean line. A segment two or more groups share (same knob values, same
    means) is drawn in alternating dashes, one colour after the other, so none hides another;
    the rest in the group's init style. Markers (hollow for a long-memory init) on top. True
    when some segment was shared."""
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
    return any(len(owners) > 1 for owners in shared.values())


def _solve_bars(ax, cells: pd.DataFrame, x: list[float], color) -> None:
    """The solve rate's exact interval (within [0, 1]) at each knob value."""
    if {"solve_lo", "solve_hi"} <= set(cells.columns):
        for xi, low, high in zip(x, cells["solve_lo"], cells["solve_hi"], strict=True):
            if finite(low) and finite(high):
                ax.vlines(xi, *clip01(float(low), float(high)), color=color, lw=1.1, alpha=0.8, zorder=2.5)


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


