"""Reproduction check: does a new result table land inside the committed one's intervals?

`compare(table_new, table_committed)` takes two tidy result tables (results.csv frames, loaded
by the store in bench/commands),
applies the report's LR selection to each, and says per cell (task, variant, model,
budget_params) whether the new mean test accuracy falls inside the committed 95% CI. With
one committed seed there is no interval: the new mean must be within ±MARGIN (0.1).
"""
from __future__ import annotations

import pandas as pd

from bench.analysis.tables import CELL, latest_versions, select_lr, summarize, wide_runs

MARGIN = 0.1  # with one committed seed (no interval), a new mean within ±0.1 counts as the same
KEEP, MOVED, NEW_ONLY, MISSING = "within", "moved", "new only", "missing in new"


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    runs, _ = latest_versions(wide_runs(table))
    selected, _ = select_lr(runs)
    return summarize(selected) if not selected.empty else pd.DataFrame(columns=CELL)


def compare(table_new: pd.DataFrame, table_committed: pd.DataFrame) -> pd.DataFrame:
    """One row per cell of either table: committed mean and interval, new mean, and the
    status `within` / `moved` / `new only` / `missing in new`."""
    new, old = _cells(table_new), _cells(table_committed)
    merged = old.merge(new, on=CELL, how="outer", suffixes=("_committed", "_new"), indicator=True)
    rows = []
    for row in merged.to_dict("records"):
        out = {key: row[key] for key in CELL}
        mean_old, half = row.get("test_accuracy_committed"), row.get("ci95_committed")
        n_old = row.get("n_committed")
        mean_new, n_new = row.get("test_accuracy_new"), row.get("n_new")
        if row["_merge"] == "right_only" or pd.isna(mean_old):
            lo = hi = float("nan")
            status = NEW_ONLY
        else:
            if n_old is not None and n_old >= 2 and not pd.isna(half):
                lo, hi = mean_old - half, mean_old + half
            else:
                lo, hi = mean_old - MARGIN, mean_old + MARGIN
            if row["_merge"] == "left_only" or pd.isna(mean_new):
                status = MISSING
            else:
                status = KEEP if lo <= mean_new <= hi else MOVED
        out.update({"committed": mean_old, "low": lo, "high": hi, "n_committed": n_old,
                    "new": mean_new, "n_new": n_new, "status": status})
        rows.append(out)
    columns = CELL + ["committed", "low", "high", "n_committed", "new", "n_new", "status"]
    return pd.DataFrame(rows, columns=columns)


def moved(comparison: pd.DataFrame) -> pd.DataFrame:
    """Only the cells that moved or are missing."""
    return comparison[comparison["status"].isin([MOVED, MISSING])]
