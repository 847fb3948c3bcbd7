"""The result store: one JSON file per run, written atomically; a tidy table rebuilt from them.

Layout: DIR/runs/<run_id>.json and DIR/results.csv + DIR/results.parquet (one row per
(run, metric)). The table is always rebuildable from runs/, so a crash can lose at most
the run in flight. A corrupt run file is reported by name and skipped.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

ID_COLUMNS = ["task", "task_version", "family", "variant", "length", "model", "seed", "lr",
              "budget_params", "steps", "batch_size", "device", "status", "run_id"]
COLUMNS = ID_COLUMNS + ["metric", "value"]
REQUIRED = {"run_id", "config", "status", "task_version"}  # keys every run record has


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(out: Path, record: dict[str, Any]) -> Path:
    path = Path(out) / "runs" / f"{record['run_id']}.json"
    atomic_write(path, json.dumps(record, indent=1, sort_keys=True).encode())
    return path


def load_runs(out: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((Path(out) / "runs").glob("*.json")):
        try:
            record = json.loads(path.read_text())
            # valid JSON that is not a run record (a list, a record missing its keys) is corrupt too
            if not isinstance(record, dict) or not REQUIRED <= record.keys():
                raise ValueError(f"not a run record (needs {', '.join(sorted(REQUIRED))})")
        except (ValueError, OSError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            print(f"warning: skipping corrupt run file {path}: {error}", file=sys.stderr)
            continue
        records.append(record)
    return records


def finished_ids(out: Path) -> set[str]:
    return {r["run_id"] for r in load_runs(out) if r.get("status") in ("ok", "diverged")}


def variant_label(variant: dict[str, Any]) -> str:
    return ",".join(f"{k}={variant[k]}" for k in sorted(variant))


def tidy_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    config = record["config"]
    ids = {"task": config["task"], "task_version": record["task_version"],
           "family": record.get("family", ""), "variant": variant_label(config["variant"]),
           "length": record.get("length"), "model": config["model"], "seed": config["seed"],
           "lr": config["lr"], "budget_params": config["budget_params"],
           "steps": config["steps"], "batch_size": config["batch_size"],
           "device": config["device"], "status": record["status"], "run_id": record["run_id"]}
    return [{**ids, "metric": name, "value": value}
            for name, value in sorted(record.get("metrics", {}).items())]


def rebuild_table(out: Path) -> pd.DataFrame:
    """Rebuild results.csv and results.parquet from runs/ and return the table."""
    rows = [row for record in load_runs(out) for row in tidy_rows(record)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table = table.sort_values(["task", "variant", "model", "seed", "metric"], kind="stable")
    atomic_write(Path(out) / "results.csv", table.to_csv(index=False).encode())
    with tempfile.NamedTemporaryFile(dir=out, suffix=".parquet.tmp", delete=False) as handle:
        tmp = Path(handle.name)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, Path(out) / "results.parquet")
    finally:
        tmp.unlink(missing_ok=True)
    return table


def variant_values(variant: str) -> dict[str, str]:
    """Inverse of variant_label: 'distance=32,n_values=8' -> {'distance': '32', ...}."""
    return dict(part.split("=", 1) for part in variant.split(",") if part)
