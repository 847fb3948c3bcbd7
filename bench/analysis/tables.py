"""Result tables: one row per run, one row per cell, the environment.

Summaries are per cell = (task, variant, model, budget_params), at the (init, lr) chosen on
validation (bench/analysis/selection.py; test is never used for a choice), or per (cell,
init) at that init's own best lr. Means carry a 95% Student-t interval over seeds, clipped to
[0, 1] (`ci_low`, `ci_high`: clipping to the range a mean can take never lowers coverage);
n = 1 has no interval and is shown as such. On tasks whose runs solve or fail (SOLVE_TASKS)
a cell also reports its solve rate: k of n seeds whose test accuracy reached the solve bar
(halfway between the trivial baseline and 1), with the exact (Clopper-Pearson) interval, and
the median validation step at which its solved runs first reached the bar.
Pure pandas (no torch).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

import pandas as pd

from bench.analysis.convergence import converged_text
from bench.analysis.labels import short_variant, sort_cells, sort_models
from bench.analysis.outcome import bar_of
from bench.analysis.rates import rate_of
from bench.analysis.selection import CELL, DIVERGED_VAL, MIN_GRID, lr_grid_table, select_lr, with_init
from bench.analysis.stats import mean_ci

__all__ = ["CELL", "DIVERGED_VAL", "MIN_GRID", "accuracy_matrix", "curve_frame", "environment", "latest_versions",
           "lr_grid_table", "select_lr", "solved", "summarize", "wide_runs", "with_init"]
SOLVE_TASKS = ("recall", "copy", "fill_in")  # outcomes are solved-or-not: solve rates are reported
BASELINES = ("trivial_baseline", "bigram_baseline", "left_only_ceiling")  # per-run reference scores
TIMESTAMP_KEYS = ("finished_at", "started_at", "timestamp", "written_at")  # in a record or its environment


def wide_runs(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the id columns (every column but metric/value) plus one column per metric."""
    ids = [c for c in table.columns if c not in ("metric", "value")]
    if table.empty:
        return pd.DataFrame(columns=ids)
    frame = table[ids].drop_duplicates("run_id").set_index("run_id")
    metrics = table.pivot_table(index="run_id", columns="metric", values="value", aggfunc="first")
    runs = frame.join(metrics).reset_index()
    runs.columns.name = None
    runs["variant"] = runs["variant"].fillna("")
    return runs


def latest_versions(runs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep each task's newest task_version; also return how many older runs were set aside."""
    if runs.empty or "task_version" not in runs:
        return runs, 0
    newest = runs.groupby("task")["task_version"].transform("max")
    keep = runs["task_version"] == newest
    return runs[keep].copy(), int((~keep).sum())


# ----------------------------------------------------------------------------- summaries
def solved(runs: pd.DataFrame) -> pd.Series:
    """Per run: did its test accuracy reach the solve bar (its `solve_bar` metric, else halfway
    between its trivial baseline and 1)? False without a score or a baseline."""
    if runs.empty or "test_accuracy" not in runs or "trivial_baseline" not in runs:
        return pd.Series(False, index=runs.index)
    bar = runs["solve_bar"] if "solve_bar" in runs else pd.Series(float("nan"), index=runs.index)
    bar = bar.fillna(runs["trivial_baseline"].map(bar_of))
    return ((runs["status"] == "ok") & (runs["test_accuracy"] >= bar - 1e-12)).fillna(False).astype(bool)


def summarize(selected: pd.DataFrame, order: Sequence[str] = (), per_init: bool = False) -> pd.DataFrame:
    """One row per cell (per cell and init with per_init): init, lr (grid size, edge, limit
    flags), n ok, n diverged, converged seeds, mean test accuracy ± CI (ci_low/ci_high within
    [0, 1]), solve rate with its exact interval and median steps to the bar (SOLVE_TASKS),
    test mse (regression), baselines (`at_baseline` when the mean is at or below the trivial
    baseline), params_core/params_total, width, wall time."""
    rows = []
    selected = with_init(selected)
    keys = CELL + (["init"] if per_init else [])
    for key, group in selected.groupby(keys, sort=True, dropna=False):
        ok = group[group["status"] == "ok"]
        acc = mean_ci(ok.get("test_accuracy", pd.Series(dtype=float)))
        row = dict(zip(keys, key, strict=True))
        row.update({"init": group["init"].iloc[0], "lr": group["lr"].iloc[0],
                    "lr_grid": group["lr_grid"].iloc[0] if "lr_grid" in group else 1,
                    "lr_edge": bool(group["lr_edge"].iloc[0]) if "lr_edge" in group else False,
                    "lr_at_limit": bool(group["lr_at_limit"].iloc[0]) if "lr_at_limit" in group else False,
                    "n": acc.n, "diverged": int((group["status"] == "diverged").sum()),
                    "outcomes": converged_text(group), "test_accuracy": acc.mean, "ci95": acc.half,
                    "ci_low": max(0.0, acc.lo) if acc.n else float("nan"),
                    "ci_high": min(1.0, acc.hi) if acc.n else float("nan")})
        if row["task"] in SOLVE_TASKS:
            rate = rate_of(solved(group))
            lo, hi = rate.interval
            steps = ok.loc[solved(ok), "steps_to_bar"] if "steps_to_bar" in ok else pd.Series(dtype=float)
            row.update({"n_solved": rate.k, "solve_rate": rate.rate, "solve_lo": lo, "solve_hi": hi,
                        "median_steps_to_bar": float(steps.median()) if steps.notna().any() else float("nan")})
            if "tuning" in group and group["tuning"].any() and (~group["tuning"].astype(bool)).any():
                held = group[~group["tuning"].astype(bool)]  # what the claims count
                held_rate = rate_of(solved(held))
                row.update({"held_out_solved": held_rate.k, "held_out_n": held_rate.n})
        if "test_mse" in ok and ok["test_mse"].notna().any():
            mse = mean_ci(ok["test_mse"])
            row.update({"test_mse": mse.mean, "test_mse_ci95": mse.half})
        for metric in (*BASELINES, "params_core", "params_total", "width", "wall_s", "best_step", "step_cap"):
            if metric in group and group[metric].notna().any():
                row[metric] = float(group[metric].median())
        if "trivial_baseline" in row and acc.n:
            row["at_baseline"] = bool(acc.mean <= row["trivial_baseline"])
        rows.append(row)
    return sort_cells(pd.DataFrame(rows), order)


def _cell_text(mean: float, n: int, diverged: int, at_baseline) -> str:
    text = "–" if n == 0 else f"{mean:.3f} (n={n})"
    text += " ≤ baseline" if at_baseline is True else ""
    return text + (f", {diverged} diverged" if diverged else "")


def accuracy_matrix(summary: pd.DataFrame, order: Sequence[str] = ()) -> pd.DataFrame:
    """Mean test accuracy per (task, variant) x model, each cell 'mean (n=k)', marked
    '≤ baseline' at or below the trivial baseline, with the baseline in its own column."""
    if summary.empty:
        return summary
    summary = summary.copy()
    summary["variant"] = short_variant(summary)
    marks = summary["at_baseline"] if "at_baseline" in summary else pd.Series(None, index=summary.index)
    summary["cell"] = [_cell_text(m, n, d, b) for m, n, d, b in
                       zip(summary["test_accuracy"], summary["n"], summary["diverged"], marks, strict=True)]
    matrix = summary.pivot_table(index=["task", "variant"], columns="model", values="cell",
                                 aggfunc="first", sort=False).reset_index()
    matrix.columns.name = None
    models = sort_models([c for c in matrix.columns if c not in ("task", "variant")], order)
    matrix = matrix[["task", "variant", *models]].fillna("–")
    if "trivial_baseline" in summary:
        base = summary.groupby(["task", "variant"], sort=False)["trivial_baseline"].median()
        matrix.insert(2, "trivial baseline", [base.get((t, v)) for t, v in
                                              zip(matrix["task"], matrix["variant"], strict=True)])
    return matrix


# ----------------------------------------------------------------------------- records
def record_time(record: dict[str, Any]) -> _dt.datetime | None:
    """When a run was recorded, from the record itself (never from file times); None if it
    carries no timestamp. Accepts ISO strings and POSIX seconds."""
    env = record.get("environment") or {}
    for source in (record, env):
        for key in TIMESTAMP_KEYS:
            value = source.get(key)
            if value in (None, ""):
                continue
            try:
                stamp = (pd.Timestamp(float(value), unit="s") if isinstance(value, (int, float))
                         else pd.Timestamp(value))
            except (ValueError, TypeError):
                continue
            return stamp.to_pydatetime().replace(tzinfo=None)
    return None


def environment(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Device, torch, git commit, python, threads per distinct environment of the run records,
    with the run count and the first/last time the records state ('unknown' when they state none)."""
    rows = []
    for record in records:
        env = record.get("environment") or {}
        rows.append({"device": env.get("device", (record.get("config") or {}).get("device", "")),
                     "device_name": env.get("device_name", ""), "torch": env.get("torch", ""),
                     "python": env.get("python", ""), "git_commit": env.get("git_commit", ""),
                     "threads": env.get("threads", ""), "when": record_time(record)})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    keys = ["device", "device_name", "torch", "python", "git_commit", "threads"]
    frame[keys] = frame[keys].fillna("").astype(str)
    return (frame.groupby(keys, dropna=False)
            .agg(runs=("when", "size"), first=("when", _first), last=("when", _last))
            .reset_index())


def _stamp(values: pd.Series, pick) -> str:
    known = [v for v in values if isinstance(v, _dt.datetime) and not pd.isna(v)]
    return pick(known).strftime("%Y-%m-%d %H:%M") if known else "unknown"


def _first(values: pd.Series) -> str:
    return _stamp(values, min)


def _last(values: pd.Series) -> str:
    return _stamp(values, max)


def curve_frame(records: list[dict[str, Any]], selected: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, validation point) for the selected runs."""
    keep = set(selected["run_id"]) if not selected.empty and "run_id" in selected else set()
    rows = [{"run_id": r["run_id"], "task": r["config"]["task"], "model": r["config"]["model"],
             "init": r["config"].get("init", "standard"),
             "variant": ",".join(f"{k}={v}" for k, v in sorted(r["config"]["variant"].items())),
             "seed": r["config"]["seed"], **point}
            for r in records if r["run_id"] in keep for point in r.get("curve", [])]
    return pd.DataFrame(rows)
