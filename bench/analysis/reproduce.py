"""Reproduction check: does a new result table land inside the committed one's intervals,
and when a cell differs, why?

`compare(table_new, table_committed, records_new, records_committed)` takes two tidy result
tables (results.csv frames, loaded by the store in bench/commands) and, optionally, their
run records; applies the report's LR selection to each, and says per cell (task, variant,
model, budget_params) whether the new mean test accuracy falls inside the committed 95% CI
(one committed seed: within ±MARGIN), whether it is identical to the digit, and, for every
cell that is not identical, what differs between the two environments that produced it:
CPU or GPU model, torch threads, torch version, harness code (the hash in every run id).
Same everything and still different means nondeterminism: named as such.

`compare_runs(...)` is the finer check: per run present in both folders (same run id: same
config and harness code), is every recorded score (test/val accuracy and loss, steps done,
best step) identical, and where not, by how much and why.
"""
from __future__ import annotations

import pandas as pd

from bench.analysis.tables import CELL, latest_versions, select_lr, solved, summarize, wide_runs
from bench.analysis.variants import variant_label

MARGIN = 0.1  # with one committed seed (no interval), a new mean within ±0.1 counts as the same
KEEP, MOVED, NEW_ONLY, MISSING = "within", "moved", "new only", "missing in new"


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    runs, _ = latest_versions(wide_runs(table))
    selected, _ = select_lr(runs)
    return summarize(selected) if not selected.empty else pd.DataFrame(columns=CELL)


ENVIRONMENT = ("device_name", "threads", "torch", "harness_code")  # what can make a rerun differ


def _environment_rows(records: list[dict] | None) -> pd.DataFrame:
    """One row per record: its run id, cell and environment."""
    rows = []
    for record in records or []:
        config, env = record["config"], record.get("environment", {})
        rows.append({"run_id": record.get("run_id", ""), "task": config["task"],
                     "variant": variant_label(config["variant"]), "model": config["model"],
                     "budget_params": config["budget_params"], **{k: str(env.get(k, "unknown")) for k in ENVIRONMENT}})
    return pd.DataFrame(rows, columns=["run_id", *CELL, *ENVIRONMENT])


def environments(records: list[dict] | None) -> pd.DataFrame:
    """Per cell, the environments its runs were computed in: one row per (cell, environment)."""
    return _environment_rows(records).drop(columns="run_id").drop_duplicates()


def why_different(new_env: pd.DataFrame, old_env: pd.DataFrame) -> str:
    """What differs between the environments of one cell's new and committed runs."""
    if new_env.empty or old_env.empty:
        return "no run records on one side: environment unknown"
    changes = []
    for key in ENVIRONMENT:
        a, b = sorted(set(old_env[key])), sorted(set(new_env[key]))
        if a != b:
            changes.append(f"{key} {'/'.join(a)} -> {'/'.join(b)}")
    return "; ".join(changes) if changes else "same CPU, threads, torch and harness code: nondeterminism"


def compare(table_new: pd.DataFrame, table_committed: pd.DataFrame, records_new: list[dict] | None = None,
            records_committed: list[dict] | None = None) -> pd.DataFrame:
    """One row per cell of either table: committed mean and interval, new mean, the status
    `within` / `moved` / `new only` / `missing in new`, `identical` (to the digit) and `why`
    (for a cell that is not identical: what differs between the two environments)."""
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
    frame = pd.DataFrame(rows, columns=columns)
    frame["identical"] = frame["committed"] == frame["new"]
    env_new, env_old = environments(records_new), environments(records_committed)
    frame["why"] = [
        "" if same or status in (NEW_ONLY, MISSING)
        else why_different(_of(env_new, row), _of(env_old, row))
        for same, status, row in zip(frame["identical"], frame["status"], frame[CELL].to_dict("records"),
                                     strict=True)]
    return frame


def _of(env: pd.DataFrame, cell: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=env.index)
    for key, value in cell.items():
        mask &= env[key].astype(str) == str(value)
    return env[mask]


SCORES = ("test_accuracy", "val_accuracy", "test_loss", "val_loss", "steps_done", "best_step")


def compare_runs(table_new: pd.DataFrame, table_committed: pd.DataFrame, records_new: list[dict] | None = None,
                 records_committed: list[dict] | None = None) -> pd.DataFrame:
    """One row per run id in both tables: the absolute difference per score (NaN where a side
    lacks it), `identical` (every score equal to the digit), `outcome_changed` (solved on one
    side, not on the other) and `why` (what differs between the two runs' environments, for a
    run that is not identical)."""
    new, old = wide_runs(table_new), wide_runs(table_committed)
    if new.empty or old.empty:
        return pd.DataFrame(columns=["run_id", "identical", "outcome_changed", "why"])
    new["solved"], old["solved"] = solved(new), solved(old)
    keys = ["run_id", "task", "variant", "model", "init", "seed", "lr"]
    keys = [k for k in keys if k in new.columns and k in old.columns]
    scores = [s for s in SCORES if s in new.columns and s in old.columns]
    both = old[keys + scores + ["solved"]].merge(new[["run_id", "solved"] + scores], on="run_id",
                                                   suffixes=("_committed", "_new"))
    frame = both[keys].copy()
    for score in scores:
        frame[f"diff_{score}"] = (both[f"{score}_new"] - both[f"{score}_committed"]).abs()
    diffs = frame[[f"diff_{s}" for s in scores]]
    frame["identical"] = (diffs.fillna(0) == 0).all(axis=1) if scores else True
    frame["outcome_changed"] = both["solved_new"] != both["solved_committed"]
    env_new, env_old = _environment_rows(records_new), _environment_rows(records_committed)
    frame["why"] = ["" if same else why_different(env_new[env_new["run_id"] == rid], env_old[env_old["run_id"] == rid])
                    for rid, same in zip(frame["run_id"], frame["identical"], strict=True)]
    return frame


def moved(comparison: pd.DataFrame) -> pd.DataFrame:
    """Only the cells that moved or are missing."""
    return comparison[comparison["status"].isin([MOVED, MISSING])]


def differing(comparison: pd.DataFrame) -> pd.DataFrame:
    """Every cell on both sides that is not identical to the digit (moved or within)."""
    return comparison[comparison["status"].isin([MOVED, KEEP]) & ~comparison["identical"]]
