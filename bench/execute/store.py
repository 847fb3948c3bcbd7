"""The result store: the only code that knows a results folder's layout.

Layout of DIR:
- ``runs/<run_id>.json``: one record per run (config, environment, status, curve, metrics),
  written atomically (temp file, fsync, rename) the moment the run finishes;
- ``results.csv`` + ``results.parquet``: the tidy table, one row per (run, metric), always
  rebuildable from runs/ (a corrupt run file is named in one warning and skipped);
- ``store.json``: the store version; a folder of another version is refused untouched;
- ``speed.csv``, ``gradflow.csv``, ``structure.csv``: the probes' tidy rows, when present;
- ``checkpoints/<run_id>.safetensors``: best weights, when a run was asked to keep them;
- ``.lock``: serializes table rebuilds across processes (``filelock``: every OS).

Run ids are content hashes (bench.run.config: config + task version + harness code hash),
so resuming never duplicates a run and changed code never reuses a stale one.
Imports no torch: a results folder can be read on any machine.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from filelock import FileLock

from bench.analysis.variants import variant_label

STORE_VERSION = 2  # 2: run ids carry the harness code hash
ID_COLUMNS = ["task", "task_version", "family", "variant", "length", "model", "seed", "lr",
              "budget_params", "steps", "batch_size", "device", "threads", "status", "run_id"]
COLUMNS = ID_COLUMNS + ["metric", "value"]
REQUIRED = {"run_id", "config", "status", "task_version"}  # keys every run record has
PROBE_FILES = ("speed.csv", "gradflow.csv", "structure.csv")
OPTIONAL = {"threads"}  # columns a table written before they existed may lack (filled with NaN)


class StoreError(ValueError):
    """A results folder this version cannot safely write to (one line, exit 2)."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
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


# ----------------------------------------------------------------------------- version and lock
def check_store(out: Path) -> None:
    """Raise StoreError if `out` holds a store of another version; reads only, writes nothing.
    A missing or empty folder is accepted as the current version."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StoreError(f"results folder {out} exists and is not a folder")
    meta = out / "store.json"
    if not meta.exists():
        if any((out / "runs").glob("*.json")):
            raise StoreError(f"results folder {out} holds runs from a store without a version "
                             f"(before {STORE_VERSION}); nothing touched (use another --out)")
        return
    try:
        version = json.loads(meta.read_text())["store_version"]
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise StoreError(f"{meta} is unreadable ({error}); not touching {out}") from None
    if version != STORE_VERSION:
        raise StoreError(f"results folder {out} has store_version {version!r}, this harness "
                         f"writes {STORE_VERSION}; nothing touched (use another --out)")


def open_store(out: Path) -> None:
    """check_store, then create the folder and its store.json if missing."""
    check_store(out)
    meta = Path(out) / "store.json"
    if not meta.exists():
        atomic_write(meta, json.dumps({"store_version": STORE_VERSION}).encode())


@contextlib.contextmanager
def store_lock(out: Path) -> Iterator[None]:
    """An exclusive lock on DIR/.lock across processes and operating systems."""
    Path(out).mkdir(parents=True, exist_ok=True)
    with FileLock(str(Path(out) / ".lock")):
        yield


# ----------------------------------------------------------------------------- runs
def write_run(out: Path, record: dict[str, Any]) -> Path:
    path = Path(out) / "runs" / f"{record['run_id']}.json"
    atomic_write(path, json.dumps(record, indent=1, sort_keys=True).encode())
    return path


def load_runs(out: Path, warn: bool = True) -> list[dict[str, Any]]:
    """Every readable run record of DIR; a corrupt file is named in a warning and skipped."""
    records = []
    for path in sorted((Path(out) / "runs").glob("*.json")):
        try:
            record = json.loads(path.read_text())
            # valid JSON that is not a run record (a list, a record missing its keys) is corrupt too
            if not isinstance(record, dict) or not REQUIRED <= record.keys():
                raise ValueError(f"not a run record (needs {', '.join(sorted(REQUIRED))})")
        except (ValueError, OSError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            if warn:
                print(f"warning: skipping corrupt run file {path}: {error}", file=sys.stderr)
            continue
        records.append(record)
    return records


def finished_ids(out: Path) -> set[str]:
    return {r["run_id"] for r in load_runs(out, warn=False) if r.get("status") in ("ok", "diverged")}


def tidy_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    config = record["config"]
    ids = {"task": config["task"], "task_version": record["task_version"],
           "family": record.get("family", ""), "variant": variant_label(config["variant"]),
           "length": record.get("length"), "model": config["model"], "seed": config["seed"],
           "lr": config["lr"], "budget_params": config["budget_params"],
           "steps": config["steps"], "batch_size": config["batch_size"],
           "device": config["device"], "threads": record.get("environment", {}).get("threads"),
           "status": record["status"], "run_id": record["run_id"]}
    return [{**ids, "metric": name, "value": value}
            for name, value in sorted(record.get("metrics", {}).items())]


def table_of(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The tidy table (COLUMNS) of a list of run records, sorted."""
    rows = [row for record in records for row in tidy_rows(record)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["task", "variant", "model", "seed", "metric"], kind="stable")


def rebuild_table(out: Path) -> pd.DataFrame:
    """Rebuild results.csv and results.parquet from runs/ and return the table (no lock)."""
    table = table_of(load_runs(out))
    atomic_write(Path(out) / "results.csv", table.to_csv(index=False).encode())
    with tempfile.NamedTemporaryFile(dir=out, suffix=".parquet.tmp", delete=False) as handle:
        tmp = Path(handle.name)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, Path(out) / "results.parquet")
    finally:
        tmp.unlink(missing_ok=True)
    return table


def rebuild(out: Path) -> pd.DataFrame:
    """rebuild_table under the store lock, so a slower process never writes a stale table last."""
    with store_lock(out):
        return rebuild_table(out)


# ----------------------------------------------------------------------------- reading a folder
def is_stale(out: Path) -> bool:
    """True when results.csv is missing or older than / disagrees with runs/."""
    out = Path(out)
    table, runs = out / "results.csv", sorted((out / "runs").glob("*.json"))
    if not table.exists():
        return bool(runs)
    if not runs:
        return False
    if max(p.stat().st_mtime for p in runs) > table.stat().st_mtime:
        return True
    listed = set(pd.read_csv(table, usecols=["run_id"], dtype=str)["run_id"])
    return listed != {p.stem for p in runs}


def load_table(out: Path) -> pd.DataFrame:
    """The tidy table of DIR (rebuilt from runs/ first when missing or stale); empty when the
    folder holds no runs at all (a folder of probe results only)."""
    out = Path(out)
    if not out.is_dir():
        raise ValueError(f"results folder {out} does not exist")
    if is_stale(out):
        return rebuild(out)
    path = out / "results.csv"
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    table = pd.read_csv(path, dtype={"variant": str, "run_id": str, "device": str})
    missing = sorted(set(COLUMNS) - set(table.columns))
    if missing and any((out / "runs").glob("*.json")):
        return rebuild(out)  # a table written by an older harness: rebuilt from the records
    if set(missing) - OPTIONAL:
        raise ValueError(f"{path} lacks columns {', '.join(missing)}")
    for column in missing:
        table[column] = float("nan")
    table["variant"] = table["variant"].fillna("")
    return table


def read_probe(out: Path, name: str) -> pd.DataFrame:
    """A probe's tidy rows (one of PROBE_FILES) beside the results, or an empty frame."""
    if name not in PROBE_FILES:
        raise ValueError(f"unknown probe file {name!r}; valid: {', '.join(PROBE_FILES)}")
    path = Path(out) / name
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def write_probe(out: Path, name: str, frame: pd.DataFrame) -> Path:
    if name not in PROBE_FILES:
        raise ValueError(f"unknown probe file {name!r}; valid: {', '.join(PROBE_FILES)}")
    path = Path(out) / name
    atomic_write(path, frame.to_csv(index=False).encode())
    return path


def record_path(out: Path, run_id: str) -> Path:
    return Path(out) / "runs" / f"{run_id}.json"


def checkpoint_path(out: Path, run_id: str) -> Path:
    return Path(out) / "checkpoints" / f"{run_id}.safetensors"
