"""Report figures about the probes: training throughput and speed-up over the LSTM against
length (bench speed), and gradient flow (bench gradflow). Same conventions as
bench/report/plots.py: one colour and marker per model, plain tick numbers on log axes (never
'2×10⁰'), ticks only at measured lengths, one axis label per figure, legends outside the data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from bench.report.figure import (  # matplotlib through figure.py: MPLCONFIGDIR and Agg first
    Line2D,
    data_ticks,
    legend_right,
    log_plain,
    model_handle,
    model_style,
    plt,
    save,
    sns,
)
from bench.report.markdown import human


def _speed_lines(rows: pd.DataFrame, y: str, path: Path, ylabel: str, title: str, order: Sequence[str],
                 unit_line: bool = False, numbers=None) -> Path | None:
    """One panel per measured setting, one line per model/implementation against length."""
    if rows is None or rows.empty:
        return None
    settings = list(dict.fromkeys(rows["setting"]))
    ncols = min(2, len(settings))
    nrows = -(-len(settings) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 3.9 * nrows), squeeze=False, sharey=True)
    style, entries = model_style(rows["model"], order), []
    several = rows.groupby("model")["line"].nunique().max() > 1
    for ax, setting in zip(axes.flat, settings, strict=False):
        here = rows[rows["setting"] == setting]
        for model in style["hue_order"]:
            for k, (line, group) in enumerate(here[here["model"] == model].groupby("line", sort=True)):
                group = group.sort_values("length")
                color, marker = style["palette"][model], style["markers"][model]
                dashes = style["dashes"][model] if k == 0 else (1, 1)
                drawn = ax.plot(group["length"], group[y], color=color, marker=marker, markersize=5, lw=1.5)[0]
                if dashes:
                    drawn.set_dashes(dashes)
                label = line if several else model
                entries.append((model_handle(color, marker, drawn.get_linestyle()), label))
        if unit_line:
            ax.axhline(1.0, color="0.4", ls="--", lw=1, zorder=0.5)
        ax.set_yscale("log")
        log_plain(ax.yaxis, formatter=numbers or (lambda v, _: f"{v:g}"))
        data_ticks(ax, here["length"], log=True)
        ax.set_title(setting.replace(", batch", "\nbatch"), fontsize=8)
    for ax in list(axes.flat)[len(settings):]:
        ax.set_visible(False)
    if unit_line:
        entries.append((Line2D([], [], color="0.4", ls="--", lw=1), "equal to the LSTM"))
    figure.supxlabel("sequence length (log scale)", fontsize=10)
    figure.supylabel(ylabel, fontsize=10)
    figure.suptitle(title, fontsize=11)
    legend_right(figure, entries)
    figure.tight_layout()
    return save(figure, path)


def throughput(rows: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Training tokens/s against length, log-log, one line per model/implementation, one panel
    per setting. `rows`: bench.analysis.speed.ok_rows(speed)."""
    return _speed_lines(rows, "value", path, "training tokens / s (log scale)",
                        "Training throughput against sequence length", order,
                        numbers=lambda v, _: human(v))


def speedup(ratios: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Training throughput of each model over the LSTM's at the same setting and length."""
    return _speed_lines(ratios, "speedup", path, "tokens/s over the LSTM's (log scale)",
                        "Speed-up over the LSTM against sequence length (> 1: faster than the LSTM)",
                        order, unit_line=True)


def gradflow(rows: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Left: gradient norm against distance from the loss (log y), per model and phase.
    Right: per-step gradient norm with and without clipping, per optimizer. Each panel's
    legend sits below it."""
    position = rows[rows["kind"] == "position"] if "kind" in rows else rows.iloc[0:0]
    clip = rows[rows["kind"] == "clip"] if "kind" in rows else rows.iloc[0:0]
    if position.empty and clip.empty:
        return None
    quantities = sorted(position["quantity"].unique()) if not position.empty else []
    n = len(quantities) + (0 if clip.empty else 1)
    figure, axes = plt.subplots(1, n, figsize=(5.4 * n, 4.2), squeeze=False)
    phases = {"init": "-", "trained": "--"}
    for ax, quantity in zip(axes[0], quantities, strict=False):
        data = position[(position["quantity"] == quantity) & (position["grad_norm"] > 0)]
        style, entries = model_style(data["model"], order), []
        for model in style["hue_order"]:
            for phase, group in data[data["model"] == model].groupby("phase", sort=True):
                group = group.groupby("distance", as_index=False)["grad_norm"].mean()
                ax.plot(group["distance"], group["grad_norm"], color=style["palette"][model],
                        ls=phases.get(phase, ":"), marker=style["markers"][model], markevery=4, markersize=4, lw=1.4)
            entries.append((model_handle(style["palette"][model], style["markers"][model]), model))
        entries += [(Line2D([], [], color="0.3", ls=ls), f"{phase}") for phase, ls in phases.items()
                    if phase in set(data["phase"])]
        ax.set_yscale("log")
        what = "hidden state" if quantity == "hidden" else "encoder input (embedding)"
        ax.set_title(f"|dL/d {what}| against distance from the loss", fontsize=9)
        ax.set_xlabel("distance from the loss (positions)")
        ax.set_ylabel("gradient norm (mean over examples)")
        _legend_below(ax, entries)
    if not clip.empty:
        ax = axes[0][-1]
        data = clip.copy()
        data["clipping"] = np.where(data["clip_norm"].fillna(0) > 0,
                                    "clip " + data["clip_norm"].map(lambda v: f"{v:g}" if v == v else ""), "no clip")
        finite = data[np.isfinite(data["grad_norm"].astype(float)) & (data["grad_norm"] > 0)]
        colors = dict(zip(sorted(finite["optimizer"].unique()), sns.color_palette("tab10", 10)[4:], strict=False))
        styles = dict(zip(sorted(finite["clipping"].unique()), ("-", "--", ":"), strict=False))
        for (optimizer, clipping), group in finite.groupby(["optimizer", "clipping"], sort=True):
            group = group.sort_values("step")
            ax.plot(group["step"], group["grad_norm"], color=colors[optimizer], ls=styles[clipping], lw=1)
        entries = [(Line2D([], [], color=c), o) for o, c in colors.items()]
        entries += [(Line2D([], [], color="0.3", ls=s), c) for c, s in styles.items()]
        ax.set_yscale("log")
        ax.set_title("total gradient norm per step (rnn, high lr)", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("gradient norm before clipping")
        _legend_below(ax, entries)
    figure.tight_layout()
    return save(figure, path)


def _legend_below(ax, entries) -> None:
    ax.legend([h for h, _ in entries], [label for _, label in entries], loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncol=min(4, len(entries)), fontsize=8, frameon=False)
