"""The answer in a few sentences a student can read, computed from the analysis (never typed):
where each recurrent model falls against the Transformer on recall distance, on fill-in and on
IMDB, and at what training-speed cost on the measured device. Each sentence names the verdict
section it summarizes; pure pandas, no torch."""
from __future__ import annotations

import math

import pandas as pd

from bench.analysis.variants import variant_values

RECURRENT = ("rnn", "lstm", "gru", "bilstm", "mingru", "minlstm")
REFERENCE = "transformer"


def _cells(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    if summary.empty or "task" not in summary:
        return pd.DataFrame()
    return summary[(summary["task"] == task) & (summary["n"] > 0)]


def recall_sentences(summary: pd.DataFrame) -> list[str]:
    """Per recall sweep (the variants that differ only in distance): how far each model holds
    the bar halfway between the trivial baseline and 1, against the Transformer."""
    cells = _cells(summary, "recall")
    if cells.empty:
        return []
    parsed = cells["variant"].map(variant_values)
    cells = cells.assign(distance=parsed.map(lambda v: float(v.get("distance", "nan"))),
                         pairs=parsed.map(lambda v: v.get("n_pairs", "?")))
    lines = []
    for pairs, sweep in cells.groupby("pairs", sort=True):
        distances = sorted(sweep["distance"].dropna().unique())
        if len(distances) < 2:
            continue
        kind = "memory (one pair)" if pairs == "1" else f"associative recall ({pairs} pairs)"
        words = []
        for model, rows in sweep.groupby("model", sort=False):
            rows = rows.sort_values("distance")
            bar = (rows["trivial_baseline"] + 1) / 2 if "trivial_baseline" in rows else pd.Series(0.5, rows.index)
            held = [d for d, mean, b in zip(rows["distance"], rows["test_accuracy"], bar, strict=True) if mean >= b]
            longest = rows.iloc[-1]
            reach = (f"holds at every tested distance (to {distances[-1]:g})" if held and held[-1] == distances[-1]
                     and len(held) == len(rows) else
                     f"holds to {held[-1]:g}" if held else "never reaches the bar")
            words.append(f"{model} {reach} ({longest['test_accuracy']:.2f} at d={longest['distance']:g})")
        lines.append(f"- **Recall, {kind}** (claims 1, 8; bar halfway between the trivial baseline "
                     f"and 1, distances {', '.join(f'{d:g}' for d in distances)}): " + "; ".join(words) + ".")
    return lines


def table_sentence(summary: pd.DataFrame, task: str, label: str, claim: str) -> list[str]:
    cells = _cells(summary, task)
    if cells.empty:
        return []
    parts = [f"{row.model} {row.test_accuracy:.3f}" + (f" ± {row.ci95:.3f}" if not math.isnan(row.ci95) else "")
             for row in cells.itertuples()]
    base = cells["trivial_baseline"].median() if "trivial_baseline" in cells else float("nan")
    extra = f" (trivial baseline {base:.3f})" if not math.isnan(base) else ""
    return [f"- **{label}**{f' ({claim})' if claim else ''}: " + ", ".join(parts) + extra + "."]


def speed_sentence(speed_ok: pd.DataFrame, length: int = 1024) -> list[str]:
    """Training tokens/s of each model relative to the Transformer, in the main setting (equal
    parameters, full batches, the most threads measured) at `length` (or the longest common)."""
    rows = speed_ok
    if rows.empty or REFERENCE not in set(rows["model"]):
        return []
    if "width_rule" in rows:
        rows = rows[(rows["width_rule"] == "params") & (rows["batch_kind"] == "full")]
    if "threads" in rows and rows["threads"].notna().any():
        rows = rows[rows["threads"] == rows["threads"].max()]
    ref = rows[rows["model"] == REFERENCE]
    if ref.empty:
        return []
    lengths = sorted(set(ref["length"]))
    at = length if length in lengths else lengths[-1]
    here = rows[rows["length"] == at].groupby("model")["value"].max()
    device = rows["device_name"].iloc[0] if "device_name" in rows else rows["device"].iloc[0]
    threads = int(rows["threads"].iloc[0]) if "threads" in rows else 0
    threads_text = f"{threads} thread{'s' if threads != 1 else ''}" if threads else "threads unknown"
    ratios = ", ".join(f"{m} {here[m] / here[REFERENCE]:.2f}x" for m in here.index if m != REFERENCE)
    return [f"- **Training speed** on {device}, {threads_text}, equal parameters, batch 32, T={at} "
            f"(claims 3, 5; tokens/s relative to the Transformer, >1 is faster): {ratios}."]


def answer(summary: pd.DataFrame, speed_ok: pd.DataFrame) -> list[str]:
    """The bullet lines of the answer (empty when there is nothing to say yet)."""
    return (recall_sentences(summary)
            + table_sentence(summary, "fill_in", "Fill-in", "claim 2: only the bidirectional models can")
            + table_sentence(summary, "copy", "Copy memory (10 symbols back after the lag)", "")
            + table_sentence(summary, "mqar", "MQAR (associative recall)", "")
            + table_sentence(summary, "cloze", "Cloze on IMDB text (claim 2 on real text)", "")
            + table_sentence(summary, "imdb", "IMDB sentiment", "")
            + speed_sentence(speed_ok))
