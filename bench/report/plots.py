"""Report figures (seaborn, PNG at 150 dpi). Each function takes a tidy frame and a path,
draws one figure, saves it and returns the path (None when there is nothing to draw).

Bands are the 95% Student-t interval over seeds (`ci_band`), the same interval the tables
show; a point with one seed has no band.
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MPLCONFIGDIR", str(Path(__file__).resolve().parents[1] / ".cache" / "mpl"))

import matplotlib  # noqa: E402
import matplotlib.ticker  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bench.analysis.claims import MODEL_ORDER, mean_ci  # noqa: E402

DPI = 150
sns.set_theme(style="whitegrid", context="notebook")


def model_colors(models) -> tuple[list[str], dict[str, tuple]]:
    """(hue order, palette) for the models present: one colour per model in every figure."""
    present = sorted(set(models), key=lambda m: (MODEL_ORDER.index(m) if m in MODEL_ORDER
                                                 else len(MODEL_ORDER), m))
    colors = sns.color_palette("tab10", 10)
    extra = iter(range(len(MODEL_ORDER), 100))
    return present, {m: colors[(MODEL_ORDER.index(m) if m in MODEL_ORDER else next(extra)) % 10]
                     for m in present}


def ci_band(values) -> tuple[float, float]:
    """seaborn errorbar callable: the 95% Student-t interval (NaN, i.e. no band, for n=1)."""
    stat = mean_ci(values)
    return (stat.mean - stat.half, stat.mean + stat.half)


def _save(figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def _log_if_wide(ax, series: pd.Series, base: int = 2) -> None:
    """Log x axis when the values span 8x or more (no minor labels: they collide)."""
    positive = series[series > 0]
    if len(positive) and positive.max() / positive.min() >= 8:
        ax.set_xscale("log", base=base)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def accuracy_vs_knob(frame: pd.DataFrame, task: str, knob: str, path: Path) -> Path | None:
    """Test accuracy against the task's knob, one line per model, one panel per other-knob set."""
    data = frame[frame["status"] == "ok"].dropna(subset=["test_accuracy"])
    if data.empty:
        return None
    col = "rest" if data["rest"].nunique() > 1 else None
    order, palette = model_colors(data["model"])
    grid = sns.relplot(data=data, x=knob, y="test_accuracy", hue="model", col=col,
                       hue_order=order, palette=palette,
                       col_wrap=3 if col else None, kind="line", marker="o", errorbar=ci_band,
                       height=3.6, aspect=1.3, facet_kws={"sharex": False})
    for ax in grid.axes.flat:
        _log_if_wide(ax, data[knob])
        if "trivial_baseline" in data and data["trivial_baseline"].notna().any():
            ax.axhline(data["trivial_baseline"].mean(), color="grey", ls="--", lw=1, label="chance")
        ax.set_ylim(-0.02, 1.02)
    grid.set_axis_labels(knob, "test accuracy")
    grid.figure.suptitle(f"{task}: accuracy against {knob} (dashed: chance)", y=1.02)
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


def accuracy_vs(selected: pd.DataFrame, x: str, path: Path) -> Path | None:
    """Test accuracy of every ok run against `x` (params_core or wall_s), one panel per task;
    for wall_s the frontier of each panel is drawn in grey."""
    if x not in selected:
        return None
    data = selected[selected["status"] == "ok"].dropna(subset=["test_accuracy", x])
    if data.empty:
        return None
    tasks = sorted(data["task"].unique())
    order, palette = model_colors(data["model"])
    grid = sns.relplot(data=data, x=x, y="test_accuracy", hue="model", style="model", col="task",
                       hue_order=order, style_order=order, palette=palette,
                       col_order=tasks, col_wrap=min(3, len(tasks)), kind="scatter", s=60,
                       height=3.4, aspect=1.2, facet_kws={"sharex": False})
    for ax, task in zip(grid.axes.flat, tasks, strict=False):
        _log_if_wide(ax, data.loc[data["task"] == task, x], base=10)
        if x == "wall_s":
            front = _frontier(data[data["task"] == task], x)
            ax.step(front[x], front["test_accuracy"], where="post", color="grey", lw=1, zorder=0)
    label = {"params_core": "core parameters", "wall_s": "training wall time (s)"}.get(x, x)
    grid.set_axis_labels(label, "test accuracy")
    return _save(grid.figure, path)


def training_curves(curves: pd.DataFrame, path: Path) -> Path | None:
    """Validation accuracy against step, one line per model, one panel per variant."""
    data = curves.dropna(subset=["val_accuracy"])
    if data.empty:
        return None
    variants = list(dict.fromkeys(data["variant"]))  # the caller's order
    order, palette = model_colors(data["model"])
    grid = sns.relplot(data=data, x="step", y="val_accuracy", hue="model", col="variant",
                       hue_order=order, palette=palette,
                       col_order=variants, col_wrap=min(3, len(variants)), kind="line",
                       errorbar=ci_band, height=3.2, aspect=1.3)
    for ax in grid.axes.flat:
        ax.set_ylim(-0.02, 1.02)  # a wide two-seed interval would otherwise stretch the axis
    grid.set_axis_labels("step", "val accuracy")
    grid.set_titles("{col_name}", size=9)
    grid.figure.suptitle(f"{data['task'].iloc[0]}: training curves", y=1.02)
    return _save(grid.figure, path)


def throughput(rows: pd.DataFrame, path: Path) -> Path | None:
    """Training tokens/s against length, log-log, one line per model/implementation, one panel
    per setting (device, dtype, batch). `rows`: report.ok_speed(speed)."""
    if rows.empty:
        return None
    order, palette = model_colors(rows["model"])
    grid = sns.relplot(data=rows, x="length", y="value", hue="model", hue_order=order, palette=palette,
                       style="implementation" if "implementation" in rows else None, col="setting",
                       kind="line", marker="o", errorbar=None, height=3.6, aspect=1.3,
                       col_wrap=min(3, rows["setting"].nunique()))
    for ax in grid.axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    grid.set_axis_labels("sequence length", "training tokens / s")
    grid.set_titles("{col_name}")
    return _save(grid.figure, path)


def speedup(ratios: pd.DataFrame, path: Path) -> Path | None:
    """Training throughput of each model over the LSTM's at the same setting and length."""
    if ratios is None or ratios.empty:
        return None
    order, palette = model_colors(ratios["model"])
    grid = sns.relplot(data=ratios, x="length", y="speedup", hue="model", hue_order=order,
                       palette=palette, style="implementation" if "implementation" in ratios else None,
                       col="setting", kind="line", marker="o", errorbar=None, height=3.6, aspect=1.3,
                       col_wrap=min(3, ratios["setting"].nunique()))
    for ax in grid.axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", ls="--", lw=1)
    grid.set_axis_labels("sequence length", "speedup over LSTM (training tokens/s)")
    grid.set_titles("{col_name}")
    return _save(grid.figure, path)


def gradflow(rows: pd.DataFrame, path: Path) -> Path | None:
    """Left: gradient norm against distance from the loss (log y), per model and phase.
    Right: per-step gradient norm with and without clipping."""
    position = rows[rows["kind"] == "position"] if "kind" in rows else rows.iloc[0:0]
    clip = rows[rows["kind"] == "clip"] if "kind" in rows else rows.iloc[0:0]
    panels = [p for p in (position, clip) if not p.empty]
    if not panels:
        return None
    quantities = sorted(position["quantity"].unique()) if not position.empty else []
    n = len(quantities) + (0 if clip.empty else 1)
    figure, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.0), squeeze=False)
    for ax, quantity in zip(axes[0], quantities, strict=False):
        data = position[(position["quantity"] == quantity) & (position["grad_norm"] > 0)]
        order, palette = model_colors(data["model"])
        sns.lineplot(data=data, x="distance", y="grad_norm", hue="model", style="phase", ax=ax,
                     hue_order=order, palette=palette, errorbar=None)
        ax.set_yscale("log")
        what = "hidden state" if quantity == "hidden" else "encoder input (embedding)"
        ax.set_title(f"|dL/d {what}| against distance from the loss", fontsize=9)
        ax.set_xlabel("distance from the loss (positions)")
        ax.set_ylabel("gradient norm (mean over examples)")
    if not clip.empty:
        ax = axes[0][-1]
        data = clip.copy()
        data["run"] = data["optimizer"] + np.where(data["clip_norm"].fillna(0) > 0,
                                                   " clip " + data["clip_norm"].astype(str), " no clip")
        finite = data[np.isfinite(data["grad_norm"].astype(float)) & (data["grad_norm"] > 0)]
        sns.lineplot(data=finite, x="step", y="grad_norm", hue="run", ax=ax, errorbar=None, lw=1)
        ax.set_yscale("log")
        ax.set_title("total gradient norm per step (rnn, high lr)", fontsize=9)
        ax.set_ylabel("gradient norm before clipping")
    figure.tight_layout()
    return _save(figure, path)
