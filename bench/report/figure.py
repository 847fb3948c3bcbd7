"""What every report figure shares: one colour and marker per model, one line style per init,
atomic saving in three formats, and axes that show only what the data hold (ticks at measured
values, plain numbers on log axes, accuracy within [0, 1], small horizontal dodges so lines
that coincide stay visible, baselines and ceilings named in the legend).

Rules the figures keep (tests/test_figures.py checks them): no interval outside [0, 1]; each
seed is drawn; a title promises only what is drawn; legends sit outside the data.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

os.environ.setdefault("MPLCONFIGDIR", str(Path(__file__).resolve().parents[2] / ".cache" / "mpl"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from bench.analysis.labels import sort_models  # noqa: E402

DPI = 150
FORMATS = ("png", "svg", "pdf")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
DASHES = ("", (4, 1.5), (1, 1), (3, 1, 1, 1), (6, 2), (2, 2), (5, 1, 1, 1, 1, 1))
# how a model's memory starts (the run setting `init`): the standard init solid, the long-memory
# ones (chrono for gated models, orthogonal for the plain RNN) dashed
INIT_LINES = {"standard": "-", "chrono": "--", "orthogonal": "--"}
INITS = tuple(INIT_LINES)
# the reference level each task is judged against, beside its trivial baseline
REFERENCES = (("trivial_baseline", "trivial baseline", (0, (4, 2)), "0.45"),
              ("bigram_baseline", "bigram baseline", (0, (1, 1.5)), "0.2"),
              ("left_only_ceiling", "left-only ceiling", (0, (6, 1.5, 1, 1.5)), "0.2"))
TASK_REFERENCES = {"cloze": ("trivial_baseline", "bigram_baseline"),
                   "fill_in": ("trivial_baseline", "left_only_ceiling")}
BASELINE_NAMES = {"imdb": "majority class", "imdb_bytes": "majority class"}
sns.set_theme(style="whitegrid", context="notebook")


def model_style(models, order: Sequence[str] = ()) -> dict:
    """Hue order, colours, markers and dashes for the models present, fixed by their position
    in `order` (the registry's order) so a model looks the same in every figure."""
    present = sort_models(models, order)
    ranks = {m: i for i, m in enumerate(sort_models(list(order) + present, order))}
    colors = sns.color_palette("tab10", 10) + sns.color_palette("Dark2", 8)
    return {"hue_order": present,
            "palette": {m: colors[ranks[m] % len(colors)] for m in present},
            "markers": {m: MARKERS[ranks[m] % len(MARKERS)] for m in present},
            "dashes": {m: DASHES[ranks[m] % len(DASHES)] for m in present}}


def init_line(init: str) -> str:
    return INIT_LINES.get(str(init), ":")


def with_init(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with an `init` column (results from before the init factor: 'standard')."""
    if "init" in frame:
        return frame.assign(init=frame["init"].fillna("standard").astype(str))
    return frame.assign(init="standard")


def groups(frame: pd.DataFrame, order: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The (model, init) pairs present, in model order, then init order."""
    pairs = set(zip(frame["model"], frame["init"], strict=True))
    models = sort_models({m for m, _ in pairs}, order)
    rank = {i: k for k, i in enumerate(INITS)}
    return sorted(pairs, key=lambda p: (models.index(p[0]), rank.get(p[1], len(rank)), p[1]))


def group_label(model: str, init: str, inits: set[str]) -> str:
    return model if inits == {"standard"} else f"{model} ({init})"


def save(figure, path: Path) -> Path:
    """PNG (DPI), SVG and PDF beside each other, each written to a temporary file in the same
    folder and renamed over its name (a reader never sees half a figure); no creation dates and
    a fixed SVG id salt, so the same results give byte-identical files. Returns the PNG's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}
    try:
        with plt.rc_context({"svg.hashsalt": "bench"}):
            for fmt in FORMATS:
                target = path.with_suffix(f".{fmt}")
                tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.{fmt}")
                try:
                    figure.savefig(tmp, format=fmt, dpi=DPI, bbox_inches="tight", metadata=metadata[fmt])
                    os.replace(tmp, target)
                finally:
                    tmp.unlink(missing_ok=True)
    finally:
        plt.close(figure)
    return path.with_suffix(".png")


def plain(value: float, _position=None) -> str:
    """Tick text without exponents: 0.2, 1, 2, 64, 4096 (never '2×10⁰')."""
    return f"{value:g}"


def spans_wide(values) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) >= 8


def data_ticks(ax, values, log: bool, which: str = "x", base: int = 2) -> None:
    """Ticks only at the measured values (at most 12 of them), in plain numbers, no minor
    labels; a log scale when `log`."""
    values = sorted({float(v) for v in values if v == v})
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=base)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(ticker.FixedLocator(values) if len(values) <= 12 else ticker.MaxNLocator(8))
    axis.set_major_formatter(ticker.FuncFormatter(plain))
    axis.set_minor_locator(ticker.NullLocator())


def log_plain(axis, subs=(1.0, 2.0, 5.0), formatter=plain) -> None:
    """A log axis labelled 0.1, 0.2, 0.5, 1, 2, 5, ... in plain numbers."""
    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(ticker.FuncFormatter(formatter))
    axis.set_minor_locator(ticker.NullLocator())
    axis.set_minor_formatter(ticker.NullFormatter())


def dodge(values, index: int, count: int, log: bool, span: float, share: float = 0.02):
    """Shift x values of group `index` of `count` a little sideways so coinciding lines stay
    visible: by a factor on a log axis, by `share` of the axis span on a linear one."""
    offset = index - (count - 1) / 2
    if log:
        return [v * 2 ** (offset * share * 2) for v in values]
    return [v + offset * share * span for v in values]


def accuracy_axis(ax) -> None:
    ax.set_ylim(-0.03, 1.03)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])


def clip01(low: float, high: float) -> tuple[float, float]:
    return max(0.0, low), min(1.0, high)


def references(ax, task: str, frame: pd.DataFrame, panel: str = "") -> list[tuple[str, Line2D, str, float]]:
    """Draw the task's baseline (and ceiling) levels as horizontal lines; returns one
    (name, line, panel, level) per line drawn, for legend_right."""
    drawn = []
    wanted = TASK_REFERENCES.get(task, ("trivial_baseline",))
    for column, name, dashes, color in REFERENCES:
        if column not in wanted or column not in frame:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if values.empty:
            continue
        level = float(values.mean())
        name = BASELINE_NAMES.get(task, name) if column == "trivial_baseline" else name
        line = ax.axhline(level, color=color, ls=dashes, lw=1.2, zorder=0.5)
        drawn.append((name, line, panel or task, level))
    return drawn


def legend_right(figure, entries: list[tuple[object, str]],
                 levels: Sequence[tuple[str, Line2D, str, float]] = ()) -> None:
    """One legend for the figure, outside the panels on the right (never over data): the
    models, then one entry per kind of reference line with its level in each panel
    ('trivial baseline 0.125', or 'trivial baseline: copy 0.125, recall 0.102')."""
    unique = dict((label, handle) for handle, label in entries)
    kinds: dict[str, tuple[Line2D, dict[str, float]]] = {}
    for name, line, panel, level in levels:
        kinds.setdefault(name, (line, {}))[1].setdefault(panel, level)
    for name, (line, where) in kinds.items():
        values = sorted(set(round(v, 3) for v in where.values()))
        if len(values) == 1:
            label = f"{name} {values[0]:.3f}"
        else:
            parts = [f"{panel} {level:.3f}" for panel, level in where.items()]
            label = f"{name}:\n" + "\n".join(", ".join(parts[i:i + 2]) for i in range(0, len(parts), 2))
        unique[label] = line
    if unique:
        figure.legend(list(unique.values()), list(unique), loc="center left", bbox_to_anchor=(1.0, 0.5),
                      frameon=False, fontsize=9)


def model_handle(color, marker: str, ls: str = "-") -> Line2D:
    return Line2D([], [], color=color, marker=marker, ls=ls, lw=1.6, markersize=6)


def headers(title: str, subtitle: str = "") -> str:
    return title + (f"\n{subtitle}" if subtitle else "")


def finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def ok_rows(frame: pd.DataFrame, column: str = "test_accuracy") -> pd.DataFrame:
    """The ok runs with a `column` value, with an `init` column."""
    if frame is None or frame.empty or column not in frame:
        return pd.DataFrame()
    rows = frame[frame["status"] == "ok"] if "status" in frame else frame
    return with_init(rows.dropna(subset=[column]))


def point_handle(color, marker: str, init: str, line: bool = True):
    """A legend entry: the model's colour and marker, the init's line style (none for points);
    a long-memory init's marker hollow."""
    handle = model_handle(color, marker, init_line(init) if line else "none")
    if init != "standard":
        handle.set_markerfacecolor("white")
    return handle


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
