"""Markdown formatting: tables without a tabulate dependency, numbers, scores with intervals."""
from __future__ import annotations

import math

import pandas as pd

from bench.analysis.labels import short_variant


def human(value: float) -> str:
    """3 significant digits with a k/M/G suffix: 36470.2 -> '36.5k'."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def markdown(frame: pd.DataFrame | None, floatfmt: str = ".3f", numbers=None) -> str:
    """A GitHub markdown table. NaN prints as '–'; a column whose numbers are all whole prints
    as integers; `numbers` (a function) formats every other float."""
    if frame is None or frame.empty:
        return "_(none)_\n"
    whole = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])
             and frame[c].dropna().map(float.is_integer).all()}

    def cell(value, column) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "–"
            if column in whole:
                return f"{int(value):,}" if abs(value) >= 1e4 else str(int(value))
            if numbers is not None:
                return numbers(value)
            return format(value, floatfmt) if abs(value) < 1e4 else f"{value:.4g}"
        if value is None:
            return "–"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v, c) for v, c in zip(row, frame.columns, strict=True)) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def score_text(mean: float, half: float, n: int, low: float = math.nan, high: float = math.nan) -> str:
    """'0.412 [0.103, 0.893]' with the cell's interval (within [0, 1]) when it has one,
    '0.412 ± 0.476' from a half-width, '0.412 (n=1, no CI)' for one seed."""
    if n == 0:
        return "–"
    if n == 1 or (math.isnan(half) and (math.isnan(low) or math.isnan(high))):
        return f"{mean:.3f} (n=1, no CI)" if n == 1 else f"{mean:.3f} (no CI)"
    if not (math.isnan(low) or math.isnan(high)):
        return f"{mean:.3f} [{low:.3f}, {high:.3f}]"
    return f"{mean:.3f} ± {half:.3f}"


def _floats(rows: pd.DataFrame, column: str) -> list[float]:
    values = pd.to_numeric(rows[column], errors="coerce") if column in rows else pd.Series(math.nan, rows.index)
    return [float(v) for v in values]


def solve_text(solved, n, low, high) -> str:
    """'2/3 [0.09, 0.99]': seeds that solved, of all, with the exact interval of the rate."""
    if solved != solved or n != n or int(n) == 0:
        return "–"
    interval = f" [{low:.2f}, {high:.2f}]" if low == low and high == high else ""
    return f"{int(solved)}/{int(n)}{interval}"


def task_table(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    """One task's cells: variant, model, init (when the results carry it), lr (flagged at the
    grid's edge, and whether the grid had reached its limit there), score with its interval,
    solve rate and the solving seeds' median steps to the bar (when computed), seeds, outcomes,
    the trivial baseline beside the score (and '≤ baseline' when at or below)."""
    rows = summary[summary["task"] == task]
    lr = [f"{v:g}" + (" (edge, grid at its limit)" if edge and limit is True else " (edge)" if edge else "")
          + (f" of {int(k)}" if k == k else "")
          for v, edge, limit, k in zip(rows["lr"], rows.get("lr_edge", [False] * len(rows)),
                                       rows.get("lr_at_limit", [False] * len(rows)),
                                       rows.get("lr_grid", [float("nan")] * len(rows)), strict=True)]
    interval = "ci_low" in rows and "ci_high" in rows
    score = [score_text(m, h, n, lo, hi) for m, h, n, lo, hi in
             zip(_floats(rows, "test_accuracy"), _floats(rows, "ci95"), rows["n"], _floats(rows, "ci_low"),
                 _floats(rows, "ci_high"), strict=True)]
    if "at_baseline" in rows:
        score = [s + (" ≤ baseline" if b is True else "") for s, b in zip(score, rows["at_baseline"], strict=True)]
    table = pd.DataFrame({"variant": short_variant(rows), "model": rows["model"].values}, index=rows.index)
    if "init" in rows:
        table["init"] = rows["init"].fillna("standard").values
    table["budget"] = rows["budget_params"].values
    table["lr (of grid)"] = lr
    table["test accuracy [95% CI]" if interval else "test accuracy (95% CI)"] = score
    if "solve_rate" in rows and rows["solve_rate"].notna().any():
        table["solved [95% exact]"] = [solve_text(k, n, lo, hi) for k, n, lo, hi in
                                       zip(_floats(rows, "n_solved"), rows["n"], _floats(rows, "solve_lo"),
                                           _floats(rows, "solve_hi"), strict=True)]
        if "median_steps_to_bar" in rows:  # how fast the solving seeds got there (first validation at the bar)
            table["median steps to the bar"] = [f"{v:,.0f}" if v == v else "–"
                                                for v in _floats(rows, "median_steps_to_bar")]
    for column in ("trivial_baseline", "bigram_baseline", "left_only_ceiling"):
        if column in rows and rows[column].notna().any():
            table[column.replace("_", " ")] = rows[column].values
    table["n"] = rows["n"].values
    table["outcomes"] = rows["outcomes"].values if "outcomes" in rows else "unknown"
    table["diverged"] = rows["diverged"].values
    if "test_mse" in rows and rows["test_mse"].notna().any():
        table["test mse (95% CI)"] = [score_text(m, h, n) for m, h, n in
                                      zip(rows["test_mse"], rows["test_mse_ci95"], rows["n"], strict=True)]
    for column in ("params_core", "params_total", "width"):
        if column in rows:
            table[column] = rows[column].values
    return table.reset_index(drop=True)
