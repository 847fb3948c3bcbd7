"""Result tables: one row per run, learning-rate selection, one row per cell, the environment.

Summaries are per cell = (task, variant, model, budget_params). When a cell holds several
learning rates (an LR grid), the lr with the best mean val_accuracy is selected, over the
seeds every lr of the cell has run (all seeds for a full grid; the tuning seed for a cell
tuned on one seed and then confirmed with more seeds at the chosen lr, bench/execute/suites.py);
a diverged seed counts as val_accuracy 0; ties go to the smaller lr. Only that lr's test
scores are reported, over all its seeds. Test is never used for a choice. A choice at the smallest or
largest lr of the grid is flagged (`lr_edge`): the best lr may lie outside the grid. Means
carry a 95% Student-t interval over seeds; n = 1 has no interval and is shown as such.
Pure pandas (no torch).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

import pandas as pd

from bench.analysis.convergence import converged_text
from bench.analysis.labels import short_variant, sort_cells, sort_models
from bench.analysis.stats import mean_ci

CELL = ["task", "variant", "model", "budget_params"]
DIVERGED_VAL = 0.0  # a diverged seed's val_accuracy in LR selection
MIN_GRID = 3  # a verdict needs an LR grid of at least this many values per cell
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


# ----------------------------------------------------------------------------- LR selection
def select_lr(runs: pd.DataFrame, order: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cell, the lr with the best mean val_accuracy over the seeds every lr of the cell
    has run (validation only; a cell tuned on seed 0 chooses on seed 0, then reports all
    the seeds of its chosen lr).

    Returns (the runs at the selected lr, with columns `lr_grid` = how many lrs the cell
    tried and `lr_edge` = the choice is the grid's smallest or largest lr; the grid: one row
    per cell and lr with mean_val_accuracy over the compared seeds `tuned_on`, seeds (how
    many it ran), diverged, grid_size, selected, edge)."""
    if runs.empty:
        return runs.assign(lr_grid=pd.Series(dtype=float), lr_edge=pd.Series(dtype=bool)), pd.DataFrame()
    frame = runs.copy()
    val = frame["val_accuracy"] if "val_accuracy" in frame else pd.Series(float("nan"), index=frame.index)
    frame["_val"] = val.where(frame["status"] != "diverged", DIVERGED_VAL)
    shared = _shared_seeds(frame)
    frame = frame.merge(shared[CELL + ["_shared"]], on=CELL, how="left")
    # no seed shared by every lr (a grid stopped half-way): compare every seed (tuned_on says so)
    frame["_common"] = [seed in seeds or not seeds for seed, seeds in zip(frame["seed"], frame["_shared"], strict=True)]
    chosen_on = frame[frame["_common"]].groupby(CELL + ["lr"], dropna=False)["_val"].mean().rename("_key")
    grid = (frame.groupby(CELL + ["lr"], dropna=False)
            .agg(seeds=("seed", "nunique"), diverged=("status", lambda s: int((s == "diverged").sum())))
            .reset_index())
    grid = grid.merge(shared[CELL + ["tuned_on"]], on=CELL, how="left")
    cells = grid.groupby(CELL, dropna=False)["lr"]
    grid["grid_size"] = cells.transform("nunique")
    at_edge = (grid["lr"] == cells.transform("min")) | (grid["lr"] == cells.transform("max"))
    grid = grid.merge(chosen_on.reset_index(), on=CELL + ["lr"], how="left")
    grid["mean_val_accuracy"] = grid["_key"]  # what the choice compared
    grid["_key"] = grid["_key"].fillna(-1.0)
    best = grid.sort_values(["_key", "lr"], ascending=[False, True]).drop_duplicates(CELL)
    grid["selected"] = grid.set_index(CELL + ["lr"]).index.isin(best.set_index(CELL + ["lr"]).index)
    grid["edge"] = grid["selected"] & at_edge & (grid["grid_size"] >= 2)
    chosen = grid.loc[grid["selected"], CELL + ["lr", "grid_size", "edge"]]
    chosen = chosen.rename(columns={"grid_size": "lr_grid", "edge": "lr_edge"})
    selected = frame.merge(chosen, on=CELL + ["lr"]).drop(columns=["_val", "_shared", "_common"])
    return selected, sort_cells(grid.drop(columns="_key"), order)


def _seed_list(seeds: pd.Series) -> str:
    return ",".join(str(x) for x in sorted(set(seeds)))


def _shared_seeds(frame: pd.DataFrame) -> pd.DataFrame:
    """Per cell, `_shared`: the seeds every lr of the cell ran (an lr choice compares only
    those, so an lr does not win by simply having more, or luckier, seeds), and `tuned_on`:
    them as text, or every seed with a note when no seed is shared by every lr."""
    per_lr = frame.groupby(CELL + ["lr"], dropna=False)["seed"].agg(frozenset)
    shared = per_lr.groupby(CELL, dropna=False).agg(lambda sets: frozenset.intersection(*sets))
    every = frame.groupby(CELL, dropna=False)["seed"].agg(frozenset)  # the same cells, same order
    labels = [_seed_list(common) if common else _seed_list(seeds) + " (no seed shared by every lr)"
              for common, seeds in zip(shared, every, strict=True)]
    return shared.rename("_shared").reset_index().assign(tuned_on=labels)


def lr_grid_table(grid: pd.DataFrame, order: Sequence[str] = ()) -> pd.DataFrame:
    """The grid for the report: cell, lr, mean val accuracy, n seeds, chosen, and a flag for a
    choice at the grid's edge or a grid too small for a verdict."""
    if grid is None or grid.empty:
        return pd.DataFrame()
    table = sort_cells(grid, order)
    flags = []
    for row in table.itertuples(index=False):
        flag = []
        if row.selected and row.grid_size < MIN_GRID:
            flag.append(f"grid of {row.grid_size} < {MIN_GRID}: preliminary")
        if row.edge:
            flag.append("at the grid's edge")
        flags.append("; ".join(flag))
    return pd.DataFrame({"task": table["task"], "variant": short_variant(table), "model": table["model"],
                         "lr": [f"{v:g}" for v in table["lr"]],
                         "mean val acc (chosen-on seeds)": table["mean_val_accuracy"], "n": table["seeds"],
                         "chosen on seeds": table["tuned_on"] if "tuned_on" in table else "",
                         "diverged": table["diverged"], "chosen": table["selected"].map({True: "yes", False: ""}),
                         "flag": flags})


# ----------------------------------------------------------------------------- summaries
def summarize(selected: pd.DataFrame, order: Sequence[str] = ()) -> pd.DataFrame:
    """One row per cell: lr (and grid size, edge flag), n ok, n diverged, converged seeds,
    mean test accuracy ± CI, test mse (regression), baselines (with `at_baseline` when the
    mean is at or below the trivial baseline), params_core/params_total, width, wall time."""
    rows = []
    for key, group in selected.groupby(CELL, sort=True, dropna=False):
        ok = group[group["status"] == "ok"]
        acc = mean_ci(ok.get("test_accuracy", pd.Series(dtype=float)))
        row = dict(zip(CELL, key, strict=True))
        row.update({"lr": group["lr"].iloc[0], "lr_grid": group["lr_grid"].iloc[0] if "lr_grid" in group else 1,
                    "lr_edge": bool(group["lr_edge"].iloc[0]) if "lr_edge" in group else False,
                    "n": acc.n, "diverged": int((group["status"] == "diverged").sum()),
                    "converged": converged_text(ok), "test_accuracy": acc.mean, "ci95": acc.half})
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
             "variant": ",".join(f"{k}={v}" for k, v in sorted(r["config"]["variant"].items())),
             "seed": r["config"]["seed"], **point}
            for r in records if r["run_id"] in keep for point in r.get("curve", [])]
    return pd.DataFrame(rows)
