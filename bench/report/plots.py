"""Report figures (seaborn). Each function takes a tidy frame and a path, draws one figure,
saves it as PNG (150 dpi) and also as SVG and PDF beside it, and returns the PNG's path
(None when there is nothing to draw).

Every model keeps one colour, one marker and one line style in every figure (`model_style`),
so the two Transformers never hide under each other. Bands are the 95% Student-t interval
over seeds (`ci_band`), the same interval the tables show; one seed has no band.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

os.environ.setdefault("MPLCONFIGDIR", str(Path(__file__).resolve().parents[2] / ".cache" / "mpl"))

import matplotlib  # noqa: E402
import matplotlib.ticker  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bench.analysis.labels import sort_models  # noqa: E402
from bench.analysis.stats import mean_ci  # noqa: E402

DPI = 150
FORMATS = ("png", "svg", "pdf")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
DASHES = ("", (4, 1.5), (1, 1), (3, 1, 1, 1), (6, 2), (2, 2), (5, 1, 1, 1, 1, 1))
sns.set_theme(style="whitegrid", context="notebook")


def model_style(models, order: Sequence[str] = ()) -> dict:
    """Hue order, palette, markers and dashes for the models present, fixed by their position
    in `order` (the registry's order) so a model looks the same in every figure."""
    present = sort_models(models, order)
    ranks = {m: i for i, m in enumerate(sort_models(list(order) + present, order))}
    colors = sns.color_palette("tab10", 10) + sns.color_palette("Dark2", 8)
    return {"hue_order": present,
            "palette": {m: colors[ranks[m] % len(colors)] for m in present},
            "markers": {m: MARKERS[ranks[m] % len(MARKERS)] for m in present},
            "dashes": {m: DASHES[ranks[m] % len(DASHES)] for m in present}}


def ci_band(values) -> tuple[float, float]:
    """seaborn errorbar callable: the 95% Student-t interval (NaN, i.e. no band, for n=1)."""
    stat = mean_ci(values)
    return (stat.mean - stat.half, stat.mean + stat.half)


def _save(figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # no creation dates and a fixed SVG id salt: the same results give byte-identical files
    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}
    with plt.rc_context({"svg.hashsalt": "bench"}):
        for fmt in FORMATS:
            figure.savefig(path.with_suffix(f".{fmt}"), dpi=DPI, bbox_inches="tight",
                           metadata=metadata.get(fmt, {}))
    plt.close(figure)
    return path.with_suffix(".png")


def _log_if_wide(ax, series: pd.Series, base: int = 2) -> None:
    """Log x axis when the values span 8x or more (no minor labels: they collide)."""
    positive = series[series > 0]
    if len(positive) and positive.max() / positive.min() >= 8:
        ax.set_xscale("log", base=base)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))


def _lines(data: pd.DataFrame, x: str, y: str, order: Sequence[str], **kwargs):
    """sns.relplot kind=line with every model's colour, marker and dashes."""
    style = model_style(data["model"], order)
    return sns.relplot(data=data, x=x, y=y, hue="model", style="model", kind="line",
                       hue_order=style["hue_order"], style_order=style["hue_order"],
                       palette=style["palette"], markers=style["markers"], dashes=style["dashes"],
                       markersize=6, **kwargs)


def _baseline(ax, data: pd.DataFrame) -> None:
    """The trivial baseline as a dashed grey line, labelled on the axes."""
    if "trivial_baseline" in data and data["trivial_baseline"].notna().any():
        level = float(data["trivial_baseline"].mean())
        ax.axhline(level, color="grey", ls="--", lw=1.2, zorder=0)
        ax.annotate("trivial baseline", (0.01, level), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", fontsize=8, color="grey")


def _panels(grid, col: str | None):
    """(panel value, axes) pairs of a FacetGrid; (None, the axes) without panels."""
    return list(grid.axes_dict.items()) if col else [(None, ax) for ax in grid.axes.flat]


def headline(frame: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """The headline: test accuracy against dependency distance on recall, one line per model,
    95% CI bands over seeds, the trivial baseline dashed; one panel per recall sweep.
    `frame`: the selected recall runs with a numeric `distance` and `rest` (labels.with_knob)."""
    data = frame[frame["status"] == "ok"].dropna(subset=["test_accuracy"]) if not frame.empty else frame
    if data.empty or data["distance"].nunique() < 2:
        return None
    col = "rest" if data["rest"].nunique() > 1 else None
    grid = _lines(data, "distance", "test_accuracy", order, col=col, col_wrap=2 if col else None,
                  errorbar=ci_band, height=4.0, aspect=1.4, facet_kws={"sharex": False})
    for name, ax in _panels(grid, col):
        _log_if_wide(ax, data["distance"])
        _baseline(ax, data if name is None else data[data[col] == name])  # each panel's own baseline
        ax.set_ylim(-0.02, 1.02)
    grid.set_axis_labels("dependency distance (tokens between the fact and the question)", "test accuracy")
    if col:
        grid.set_titles("{col_name}", size=9)
    grid.figure.suptitle("When do RNNs lose? Recall accuracy against distance "
                         "(band: 95% CI over seeds; dashed: trivial baseline)", y=1.03, fontsize=11)
    return _save(grid.figure, path)


def accuracy_vs_knob(frame: pd.DataFrame, task: str, knob: str, path: Path,
                     order: Sequence[str] = ()) -> Path | None:
    """Test accuracy against the task's knob, one line per model, one panel per other-knob set."""
    data = frame[frame["status"] == "ok"].dropna(subset=["test_accuracy"])
    if data.empty:
        return None
    col = "rest" if data["rest"].nunique() > 1 else None
    grid = _lines(data, knob, "test_accuracy", order, col=col, col_wrap=3 if col else None,
                  errorbar=ci_band, height=3.6, aspect=1.3, facet_kws={"sharex": False})
    for name, ax in _panels(grid, col):
        _log_if_wide(ax, data[knob])
        _baseline(ax, data if name is None else data[data[col] == name])
        ax.set_ylim(-0.02, 1.02)
    grid.set_axis_labels(knob, "test accuracy")
    if col:
        grid.set_titles("{col_name}", size=9)
    grid.figure.suptitle(f"{task}: accuracy against {knob} (dashed: trivial baseline)", y=1.02)
    return _save(grid.figure, path)


def _frontier(points: pd.DataFrame, x: str) -> pd.DataFrame:
    """The cost-quality frontier: points no other point beats on both lower x and higher accuracy."""
    ordered = points.sort_values([x, "test_accuracy"], ascending=[True, False])
    best, keep = -np.inf, []
    for index, row in ordered.iterrows():
        if row["test_accuracy"] > best:
            best = row["test_accuracy"]
            keep.append(index)
    return ordered.loc[keep]


def accuracy_vs(selected: pd.DataFrame, x: str, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Test accuracy of every ok run against `x` (params_core or wall_s), one panel per task;
    for wall_s the frontier of each panel is drawn in grey. Against params_core only when the
    runs span several budgets (one budget says nothing about size)."""
    if x not in selected:
        return None
    data = selected[selected["status"] == "ok"].dropna(subset=["test_accuracy", x])
    if data.empty or (x == "params_core" and data["budget_params"].nunique() < 2):
        return None
    tasks = sorted(data["task"].unique())
    style = model_style(data["model"], order)
    grid = sns.relplot(data=data, x=x, y="test_accuracy", hue="model", style="model", col="task",
                       hue_order=style["hue_order"], style_order=style["hue_order"], palette=style["palette"],
                       markers=style["markers"], col_order=tasks, col_wrap=min(3, len(tasks)),
                       kind="scatter", s=60, height=3.4, aspect=1.2, facet_kws={"sharex": False})
    for ax, task in zip(grid.axes.flat, tasks, strict=False):
        _log_if_wide(ax, data.loc[data["task"] == task, x], base=10)
        if x == "wall_s":
            front = _frontier(data[data["task"] == task], x)
            ax.step(front[x], front["test_accuracy"], where="post", color="grey", lw=1, zorder=0)
    label = {"params_core": "core parameters", "wall_s": "training wall time (s)"}.get(x, x)
    grid.set_axis_labels(label, "test accuracy")
    return _save(grid.figure, path)


def training_curves(curves: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Validation accuracy against step, one line per model (markers at every evaluation),
    one panel per variant."""
    data = curves.dropna(subset=["val_accuracy"])
    if data.empty:
        return None
    variants = list(dict.fromkeys(data["variant"]))  # the caller's order
    grid = _lines(data, "step", "val_accuracy", order, col="variant", col_order=variants,
                  col_wrap=min(3, len(variants)), errorbar=ci_band, height=3.2, aspect=1.3)
    for ax in grid.axes.flat:
        ax.set_ylim(-0.02, 1.02)  # a wide two-seed interval would otherwise stretch the axis
    grid.set_axis_labels("step", "val accuracy")
    grid.set_titles("{col_name}", size=9)
    grid.figure.suptitle(f"{data['task'].iloc[0]}: training curves (markers: evaluations)", y=1.02)
    return _save(grid.figure, path)


def _speed_lines(rows: pd.DataFrame, y: str, path: Path, ylabel: str, order: Sequence[str],
                 unit_line: bool = False) -> Path | None:
    if rows is None or rows.empty:
        return None
    rows = rows.copy()
    rows["setting"] = rows["setting"].str.replace(", batch", "\nbatch", regex=False)
    grid = _lines(rows, "length", y, order, col="setting", errorbar=None, height=3.8, aspect=1.25,
                  col_wrap=min(2, rows["setting"].nunique()), units="line", estimator=None)
    for ax in grid.axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        if unit_line:
            ax.axhline(1.0, color="grey", ls="--", lw=1)
    grid.set_axis_labels("sequence length (log)", ylabel)
    grid.set_titles("{col_name}", size=8)
    return _save(grid.figure, path)


def throughput(rows: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Training tokens/s against length, log-log, one line per model/implementation, one panel
    per setting. `rows`: bench.analysis.speed.ok_rows(speed)."""
    return _speed_lines(rows, "value", path, "training tokens / s (log)", order)


def speedup(ratios: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Training throughput of each model over the LSTM's at the same setting and length."""
    return _speed_lines(ratios, "speedup", path, "speed-up over LSTM (log; dashed: equal)", order,
                        unit_line=True)


def gradflow(rows: pd.DataFrame, path: Path, order: Sequence[str] = ()) -> Path | None:
    """Left: gradient norm against distance from the loss (log y), per model and phase.
    Right: per-step gradient norm with and without clipping, per optimizer."""
    position = rows[rows["kind"] == "position"] if "kind" in rows else rows.iloc[0:0]
    clip = rows[rows["kind"] == "clip"] if "kind" in rows else rows.iloc[0:0]
    if position.empty and clip.empty:
        return None
    quantities = sorted(position["quantity"].unique()) if not position.empty else []
    n = len(quantities) + (0 if clip.empty else 1)
    figure, axes = plt.subplots(1, n, figsize=(5.4 * n, 4.2), squeeze=False)
    for ax, quantity in zip(axes[0], quantities, strict=False):
        data = position[(position["quantity"] == quantity) & (position["grad_norm"] > 0)]
        style = model_style(data["model"], order)
        sns.lineplot(data=data, x="distance", y="grad_norm", hue="model", style="phase", ax=ax,
                     hue_order=style["hue_order"], palette=style["palette"], errorbar=None,
                     markers=True, markevery=4, markersize=5)
        ax.set_yscale("log")
        what = "hidden state" if quantity == "hidden" else "encoder input (embedding)"
        ax.set_title(f"|dL/d {what}| against distance from the loss", fontsize=9)
        ax.set_xlabel("distance from the loss (positions)")
        ax.set_ylabel("gradient norm (mean over examples)")
    if not clip.empty:
        ax = axes[0][-1]
        data = clip.copy()
        data["clipping"] = np.where(data["clip_norm"].fillna(0) > 0, "clip " + data["clip_norm"].astype(str),
                                    "no clip")
        finite = data[np.isfinite(data["grad_norm"].astype(float)) & (data["grad_norm"] > 0)]
        sns.lineplot(data=finite, x="step", y="grad_norm", hue="optimizer", style="clipping", ax=ax,
                     errorbar=None, lw=1, markers=True, markevery=10, markersize=4)
        ax.set_yscale("log")
        ax.set_title("total gradient norm per step (rnn, high lr)", fontsize=9)
        ax.set_ylabel("gradient norm before clipping")
    figure.tight_layout()
    return _save(figure, path)
