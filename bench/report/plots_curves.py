"""Report figure: validation accuracy against step, one line per seed, with the task's
baseline or ceiling. Same conventions as bench/report/plots.py."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from bench.report.figure import (  # matplotlib through figure.py: MPLCONFIGDIR and Agg first
    accuracy_axis,
    dodge,
    group_label,
    groups,
    headers,
    init_line,
    legend_right,
    model_style,
    plt,
    point_handle,
    references,
    save,
    stripe,
    with_init,
)


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
    cap = pd.to_numeric(levels["step_cap"], errors="coerce").max() if levels is not None and "step_cap" in levels \
        else float("nan")
    right = max(float(data["step"].max()), cap if cap == cap else 0.0)  # the step cap shows an early stop
    span = right or 1.0
    for ax, variant in zip(axes.flat, variants, strict=False):
        here = data[data["variant"] == variant]
        for index, (model, init) in enumerate(pairs):
            rows = here[(here["model"] == model) & (here["init"] == init)]
            color, marker = style["palette"][model], style["markers"][model]
            for _, run in rows.groupby("run_id", sort=False) if "run_id" in rows else [(0, rows)]:
                run = run.sort_values("step")
                ax.plot(dodge(run["step"], index, len(pairs), False, span, share=0.012), run["val_accuracy"],
                        color=color, ls=init_line(init), marker=marker, markersize=3.5, alpha=0.8,
                        markerfacecolor=color if init == "standard" else "white",
                        lw=stripe(index, len(pairs), thin=0.9, thick=1.9), zorder=2 + index / 100)
            if not rows.empty:
                entries.append((point_handle(color, marker, init), group_label(model, init, inits)))
        if levels is not None and not levels.empty:
            mine = levels[levels["variant"] == variant] if "variant" in levels else levels
            marks += references(ax, task, mine if not mine.empty else levels, panel=str(variant))
        accuracy_axis(ax)
        ax.set_xlim(0, right * 1.04)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.set_title(str(variant), fontsize=9)
        ax.set_xlabel("step" + (f" (step cap {cap:g})" if cap == cap else ""))
    for ax in list(axes.flat)[len(variants):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("validation accuracy")
    figure.suptitle(headers(f"{task}: validation accuracy against step",
                            "one line per seed, markers at its evaluations"), fontsize=11)
    legend_right(figure, entries, marks)
    figure.tight_layout()
    return save(figure, path)
