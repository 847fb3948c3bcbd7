"""The answer in a few sentences a student can read, computed from the analysis (never typed).

First a short paragraph (what holds, what falls, at what cost), then one line per question:
for each recurrent model at each init, how far it remembers (the longest recall distance up
to which its solve rate stays at least REACH, or "beyond the tested range"), whether it can
fill in, its IMDB accuracy, and its training speed against the Transformer on the measured
device. Pure pandas, no torch.
"""
from __future__ import annotations

import math

import pandas as pd

from bench.analysis.variants import variant_values

RECURRENT = ("rnn", "lstm", "gru", "bilstm", "mingru", "minlstm")
REFERENCE = "transformer"
ATTENTION = ("transformer_causal", "transformer")
REACH = 0.8  # claims_recall.REACH: "remembers to d" = solve rate at least this up to d


def _cells(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    if summary is None or summary.empty or "task" not in summary:
        return pd.DataFrame()
    return summary[(summary["task"] == task) & (summary["n"] > 0)]


def _memory_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """Recall cells of the one-pair memory sweep, with a numeric `distance`."""
    cells = _cells(summary, "recall")
    if cells.empty:
        return cells
    parsed = cells["variant"].map(variant_values)
    cells = cells.assign(distance=parsed.map(lambda v: float(v.get("distance", "nan"))),
                         pairs=parsed.map(lambda v: v.get("n_pairs", "?")))
    return cells[cells["pairs"] == "1"].dropna(subset=["distance"])


def _rate(row) -> float:
    value = row.get("solve_rate", math.nan) if isinstance(row, dict) else getattr(row, "solve_rate", math.nan)
    return float(value) if value is not None else math.nan


def reach_of(rows: pd.DataFrame) -> tuple[float | None, float, pd.Series | None]:
    """(longest distance with solve rate >= REACH from the shortest on, longest tested, the
    row of the first distance that fell short or None)."""
    rows = rows.sort_values("distance")
    held = None
    for _, row in rows.iterrows():
        if not _rate(row) >= REACH:
            return held, float(rows["distance"].max()), row
        held = float(row["distance"])
    return held, float(rows["distance"].max()), None


def _solved(row) -> str:
    k, n = row.get("n_solved"), row.get("n")
    return f"{int(k)}/{int(n)} solved" if k is not None and not pd.isna(k) and n else f"{row['test_accuracy']:.2f}"


def reach_words(rows: pd.DataFrame) -> str:
    held, longest, fell = reach_of(rows)
    if fell is None:
        return f"beyond the tested range ({_solved(rows.sort_values('distance').iloc[-1])} at d={longest:g})"
    where = f"{_solved(fell)} at d={fell['distance']:g}"
    return f"to d={held:g} ({where})" if held is not None else f"not even to d={fell['distance']:g} ({where})"


def memory_lines(summary_init: pd.DataFrame) -> list[str]:
    """One line per model of the memory sweep: how far it remembers at each init."""
    cells = _memory_cells(summary_init)
    if cells.empty:
        return []
    distances = ", ".join(f"{d:g}" for d in sorted(cells["distance"].unique()))
    lines = []
    for model, rows in cells.groupby("model", sort=False):
        inits = [f"{init} init remembers {reach_words(group)}" if rows["init"].nunique() > 1 or init != "standard"
                 else f"remembers {reach_words(group)}" for init, group in rows.groupby("init", sort=False)]
        lines.append(f"- **{model}**: " + "; ".join(inits) + ".")
    return [f"**How far each model remembers one fact** (recall, distances {distances}; 'remembers to d': "
            f"solve rate at least {REACH:g} at every distance up to d):", "", *lines]


def _value(row: pd.Series) -> str:
    ci = row.get("ci95", math.nan)
    text = f"{row['test_accuracy']:.3f}" + (f" ± {ci:.3f}" if ci is not None and not pd.isna(ci) else "")
    return text + (" ≤ baseline" if row.get("at_baseline") is True else "")


def task_line(summary: pd.DataFrame, task: str, label: str) -> list[str]:
    cells = _cells(summary, task)
    if cells.empty:
        return []
    parts = [f"{row['model']} {_value(row)}" + (f" ({_solved(row)})" if "n_solved" in row and not pd.isna(
        row.get("n_solved")) else "") for _, row in cells.iterrows()]
    base = cells["trivial_baseline"].median() if "trivial_baseline" in cells else math.nan
    extra = f"; trivial baseline {base:.3f}" if not pd.isna(base) else ""
    return [f"- **{label}**: " + ", ".join(parts) + extra + "."]


def speed_ratios(speed_ok: pd.DataFrame, length: int = 1024) -> tuple[dict[str, float], str]:
    """Training tokens/s of each model over the Transformer's in the main setting (equal
    parameters, full batches, the most threads measured) at `length` (or the longest), and
    the setting in words."""
    rows = speed_ok
    if rows is None or rows.empty or REFERENCE not in set(rows["model"]):
        return {}, ""
    if "width_rule" in rows:
        rows = rows[(rows["width_rule"] == "params") & (rows["batch_kind"] == "full")]
    if "threads" in rows and rows["threads"].notna().any():
        rows = rows[rows["threads"] == rows["threads"].max()]
    ref = rows[rows["model"] == REFERENCE]
    if ref.empty:
        return {}, ""
    lengths = sorted(set(ref["length"]))
    at = length if length in lengths else lengths[-1]
    here = rows[rows["length"] == at].groupby("model")["value"].max()
    device = rows["device_name"].iloc[0] if "device_name" in rows else rows["device"].iloc[0]
    threads = int(rows["threads"].iloc[0]) if "threads" in rows and rows["threads"].notna().any() else 0
    threads_text = f"{threads} thread{'s' if threads != 1 else ''}" if threads else "threads unknown"
    setting = f"{device}, {threads_text}, equal parameters, batch 32, T={at}"
    return {m: float(here[m] / here[REFERENCE]) for m in here.index if m != REFERENCE}, setting


def cost_line(speed_ok: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    ratios, setting = speed_ratios(speed_ok)
    lines = []
    if ratios:
        text = ", ".join(f"{m} {r:.2f}x" for m, r in ratios.items())
        lines.append(f"- **Training speed** on {setting} (tokens/s relative to the Transformer; >1 is faster): "
                     f"{text}.")
    imdb = _cells(summary, "imdb")
    if not imdb.empty and "wall_s" in imdb:
        text = ", ".join(f"{row['model']} {row['wall_s'] / 60:.1f} min" for _, row in imdb.iterrows())
        lines.append(f"- **IMDB training wall time** per run (median, one worker thread): {text}.")
    return lines


def headline(summary: pd.DataFrame, summary_init: pd.DataFrame, speed_ok: pd.DataFrame) -> list[str]:
    """One or two sentences: what holds, what falls, at what cost (empty without runs)."""
    sentences = []
    cells = _memory_cells(summary_init if summary_init is not None and not summary_init.empty else summary)
    if not cells.empty:
        longest = cells["distance"].max()
        holds, falls = [], []
        for (model, init), rows in cells.groupby(["model", "init"], sort=False):
            name = model if rows.empty or cells[cells["model"] == model]["init"].nunique() == 1 else f"{model} ({init})"
            held, _, fell = reach_of(rows)
            (holds if fell is None else falls).append(name if fell is None else
                                                      f"{name} to d={held:g}" if held is not None else
                                                      f"{name} not even at d={rows['distance'].min():g}")
        if holds:
            sentences.append(f"Recalling one fact across up to {longest:g} tokens, {_join(holds)} "
                             f"{'hold' if len(holds) > 1 else 'holds'} at every tested distance"
                             + (f"; {_join(falls)} only" if falls else "") + ".")
        elif falls:
            sentences.append(f"No model recalls one fact at every distance to {longest:g}: {_join(falls)}.")
    fill = _cells(summary, "fill_in")
    if not fill.empty and "solve_rate" in fill:
        can = [r["model"] for _, r in fill.iterrows() if r.get("solve_rate", 0) >= REACH]
        if can:
            sentences.append(f"Only {_join(can)} fill in a blank that the right-hand context decides.")
    imdb = _cells(summary, "imdb")
    if not imdb.empty:
        lo, hi = imdb["test_accuracy"].min(), imdb["test_accuracy"].max()
        sentences.append(f"On IMDB sentiment the models reach {lo:.3f}-{hi:.3f}.")
    ratios, setting = speed_ratios(speed_ok)
    recurrent = {m: r for m, r in ratios.items() if m in ("rnn", "lstm", "gru", "bilstm")}
    if recurrent:
        faster = [m for m, r in recurrent.items() if r > 1.1]
        slower = [m for m, r in recurrent.items() if r < 1 / 1.1]
        words = []
        if faster:
            words.append(f"{_join(faster)} train{'s' if len(faster) == 1 else ''} faster than the Transformer")
        if slower:
            words.append(f"{_join(slower)} slower")
        if words:
            sentences.append(f"At what cost: on {setting}, " + ", ".join(words) + ".")
    return [" ".join(sentences)] if sentences else []


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def answer(summary: pd.DataFrame, speed_ok: pd.DataFrame, summary_init: pd.DataFrame | None = None) -> list[str]:
    """The lines of the answer: the headline paragraph, then the per-question lines (empty
    when there is nothing to say yet)."""
    by_init = summary_init if summary_init is not None and not summary_init.empty else summary
    lines = headline(summary, by_init, speed_ok)
    body = (memory_lines(by_init)
            + task_line(summary, "fill_in", "Fill-in (claim 2: only a model that reads right to left can)")
            + task_line(summary, "cloze", "Cloze on IMDB text (claim 2 on real text)")
            + task_line(summary, "copy", "Copy memory (10 symbols back after the lag)")
            + task_line(summary, "mqar", "MQAR (associative recall)")
            + task_line(summary, "imdb", "IMDB sentiment")
            + cost_line(speed_ok, summary))
    return lines + ([""] if lines and body else []) + body
