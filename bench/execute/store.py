"""The result store: the only code that knows a results folder's layout.

Layout of DIR:
- ``runs/<run_id>.json``: one record per run (config, environment, status, curve, metrics),
  written atomically (temp file, fsync, rename) the moment the run finishes;
- ``results.csv`` + ``results.parquet``: the tidy table, one row per (run, metric) of every
  usable record, always rebuildable from runs/; its column ``counted`` says which rows a
  table counts (below), so a pandas user filters ``counted`` and never counts a seed twice;
- ``store.json``: the store version; a folder of another version is refused untouched;
- ``speed.csv``, ``gradflow.csv``, ``structure.csv``: the probes' tidy rows, when present;
- ``checkpoints/<run_id>.safetensors``: best weights, when a run was asked to keep them;
- ``.lock``: serializes table rebuilds across processes (``filelock``: every OS).

Run ids are content hashes (bench.run.config: config + task version + the hash of the code
the run executes), so resuming never duplicates a run and changed code never reuses a stale
one. Every table a reader gets (`load_folder`, `load_table`, the report, bench.load) counts
one record per config (bench/execute/records.py): ``code="current"`` (the default) the
record the code on disk now computed, ``code="any"`` that one where it exists, else the
newest; what was left out is in the folder's notes. A record that is unreadable,
incomplete or of the wrong shape is warned about once (path and reason), never counted,
and retrained by a rerun. Every write is atomic and umask-readable (bench/execute/atomic.py);
`open_store` checks the folder is writable before any training. Imports no torch.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from filelock import FileLock

from bench.analysis.variants import variant_label
from bench.execute.atomic import TMP_SUFFIX, atomic_path, atomic_write, clean_temporary
from bench.execute.atomic import keep_unsaved as keep_unsaved  # re-exported: the store's API
from bench.execute.records import CODES as CODES
from bench.execute.records import Scan, check_code, scan, select
from bench.execute.records import Selection as Selection
from bench.execute.records import config_key as config_key
from bench.execute.records import record_problem as record_problem

STORE_VERSION = 2  # 2: run ids carry the harness code hash
ID_COLUMNS = ["task", "task_version", "family", "variant", "length", "model", "seed", "lr", "init",
              "budget_params", "steps", "batch_size", "device", "threads", "status", "run_id"]
COLUMNS = ID_COLUMNS + ["metric", "value", "counted"]
PROBE_FILES = ("speed.csv", "gradflow.csv", "structure.csv")
TABLES = ("results.csv", "results.parquet")
OPTIONAL = {"threads", "init", "counted"}  # columns a table written before they existed may lack


class StoreError(ValueError):
    """A results folder this version cannot safely read or write (one line, exit 2)."""


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


def check_writable(out: Path) -> None:
    """StoreError (one line) unless a file can be created in DIR/runs: called before any
    training, so a read-only or full folder never costs a trained run."""
    runs = Path(out) / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=runs, prefix=".write-check.", suffix=TMP_SUFFIX)
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        raise StoreError(f"results folder {out} is not writable ({error.strerror or error}); "
                         "nothing trained") from None


def open_store(out: Path) -> None:
    """check_store, then create the folder and its store.json if missing, and check that a
    run record can be written there (check_writable)."""
    check_store(out)
    meta = Path(out) / "store.json"
    check_writable(out)
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
    path = record_path(out, record["run_id"])
    atomic_write(path, json.dumps(record, indent=1, sort_keys=True).encode())
    return path


def load_runs(out: Path, warn: bool = True) -> list[dict[str, Any]]:
    """Every usable run record of DIR (all of them, counted or not); an unusable file is
    named in one warning per process and skipped."""
    return list(scan(Path(out) / "runs", warn).records.values())


def finished_ids(out: Path) -> set[str]:
    """The run ids that need no training: every usable record's (an unusable one is retrained)."""
    return {record["run_id"] for record in load_runs(out)}


# ----------------------------------------------------------------------------- the tidy table
def tidy_rows(record: dict[str, Any], counted: bool = True) -> list[dict[str, Any]]:
    config = record["config"]
    ids = {"task": config["task"], "task_version": record["task_version"],
           "family": record.get("family", ""), "variant": variant_label(config["variant"]),
           "length": record.get("length"), "model": config["model"], "seed": config["seed"],
           "lr": config["lr"], "init": config.get("init", "standard"),  # records before `init`: standard
           "budget_params": config["budget_params"], "steps": config["steps"], "batch_size": config["batch_size"],
           "device": config["device"], "threads": (record.get("environment") or {}).get("threads"),
           "status": record["status"], "run_id": record["run_id"]}
    return [{**ids, "metric": name, "value": value, "counted": counted}
            for name, value in sorted(record["metrics"].items())]


def table_of(records: list[dict[str, Any]], counted: set[str] | None = None) -> pd.DataFrame:
    """The tidy table (COLUMNS) of a list of run records, sorted; `counted`: the run ids the
    column `counted` marks True (None: every one)."""
    rows = [row for record in records
            for row in tidy_rows(record, counted is None or record["run_id"] in counted)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["counted"] = table["counted"].astype(bool)
    return table.sort_values(["task", "variant", "model", "seed", "metric"], kind="stable")


def _write_tables(out: Path, table: pd.DataFrame) -> None:
    """results.parquet, then results.csv, each atomically; leftovers of killed writers removed
    first (the tables' own at once: only a rebuild, under the lock, writes them)."""
    out = Path(out)
    clean_temporary([out, out / "runs"], now_names=TABLES)
    for legacy in out.glob(f"tmp*.parquet{TMP_SUFFIX}"):  # what an older harness's rebuild left
        legacy.unlink(missing_ok=True)
    with atomic_path(out / "results.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    atomic_write(out / "results.csv", table.to_csv(index=False).encode())


def rebuild_table(out: Path) -> pd.DataFrame:
    """Rebuild results.csv and results.parquet from runs/ (every usable record, `counted`
    for the current code's selection) and return that table. The caller holds the lock."""
    records = load_runs(out)
    table = table_of(records, select(records, "current").counted_ids)
    _write_tables(out, table)
    return table


def rebuild(out: Path) -> pd.DataFrame:
    """rebuild_table under the store lock, so a slower process never writes a stale table last."""
    with store_lock(out):
        return rebuild_table(out)


# ----------------------------------------------------------------------------- reading a folder
def _table_state(path: Path) -> tuple[set[str], set[str]] | None:
    """(run ids, counted run ids) one table file lists; None when missing or unreadable."""
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path, columns=["run_id", "counted"])
        else:
            frame = pd.read_csv(path, usecols=["run_id", "counted"], dtype={"run_id": str})
        counted = frame["counted"].astype(str).str.lower() == "true"
        return set(frame["run_id"].astype(str)), set(frame.loc[counted, "run_id"].astype(str))
    except (OSError, ValueError, KeyError, TypeError):  # missing, cut short, lacking a column
        return None


def _stale(out: Path, found: Scan, counted: set[str]) -> bool:
    """Is either table file missing, older than a usable record, or listing other runs or
    another counted set than runs/ gives now? Each file judged on its own state."""
    if not found.records:
        return any((Path(out) / name).exists() for name in TABLES)  # a table of runs now gone
    ids = {record["run_id"] for record in found.records.values()}
    newest = max(path.stat().st_mtime for path in found.records)
    for name in TABLES:
        path = Path(out) / name
        state = _table_state(path)
        if state is None or state != (ids, counted) or path.stat().st_mtime < newest:
            return True
    return False


def is_stale(out: Path) -> bool:
    """True when results.csv or results.parquet is missing or disagrees with runs/."""
    found = scan(Path(out) / "runs")
    if not found.records and not found.unusable:
        return False
    return _stale(out, found, select(list(found.records.values()), "current").counted_ids)


@dataclass
class Folder:
    """What a results folder gives a reader: the counted tidy rows, their records, and what
    was left out (notes)."""

    table: pd.DataFrame
    records: list[dict[str, Any]]
    notes: list[str]
    usable: int = 0  # usable records in runs/, counted or not


def check_folder(out: Path) -> None:
    """ValueError (one line) unless `out` is an existing folder."""
    out = Path(out)
    if not out.exists():
        raise ValueError(f"results folder {out} does not exist")
    if not out.is_dir():
        raise ValueError(f"results folder {out} is not a folder (give the folder holding runs/ and results.csv)")


def load_folder(out: Path, code: str = "current") -> Folder:
    """The counted rows and records of DIR (one record per config, `code` as in the module
    docstring), rewriting results.csv/.parquet first when stale (a folder that cannot be
    written is read all the same, with one warning). A folder without runs/ is read from
    results.csv alone, counting its rows marked `counted` (every row of a table older than
    that column)."""
    out = Path(out)
    check_folder(out)
    check_code(code)
    found = scan(Path(out) / "runs")
    if not found.records and not found.unusable:
        return _csv_only(out, code)
    records = list(found.records.values())
    current = select(records, "current")
    chosen = current if code == "current" else select(records, code)
    chosen.unusable = found.unusable
    if _stale(out, found, current.counted_ids):
        try:
            rebuild(out)
        except OSError as error:
            print(f"warning: could not update the tables in {out} ({error.strerror or error}); "
                  "read from runs/ instead", file=sys.stderr)
    table = table_of(chosen.counted).reset_index(drop=True)
    table.attrs["notes"] = chosen.notes()
    return Folder(table, chosen.counted, chosen.notes(), len(records))


def _csv_only(out: Path, code: str) -> Folder:
    """A folder holding results.csv without run records (a copy of the tables)."""
    path = out / "results.csv"
    if not path.exists():
        return Folder(pd.DataFrame(columns=COLUMNS), [], [])
    try:
        table = pd.read_csv(path, dtype={"variant": str, "run_id": str, "device": str})
    except (OSError, ValueError) as error:
        raise StoreError(f"{path} is unreadable ({' '.join(str(error).split())}) and there is no "
                         f"runs/ folder to rebuild it from") from None
    missing = sorted(set(COLUMNS) - set(table.columns))
    if set(missing) - OPTIONAL:
        raise StoreError(f"{path} lacks columns {', '.join(sorted(set(missing) - OPTIONAL))} and there "
                         f"is no runs/ folder to rebuild it from")
    for column in missing:
        table[column] = {"counted": True, "init": "standard"}.get(column, float("nan"))
    table["variant"] = table["variant"].fillna("")
    table["counted"] = table["counted"].astype(str).str.lower() == "true"
    counted = table[table["counted"]]
    left = table[~table["counted"]]
    notes = []
    if code == "any" and not left.empty:  # one run per config: a config with no counted run keeps one
        config = [c for c in ID_COLUMNS if c not in ("run_id", "status", "threads", "length", "family")]
        have = set(map(tuple, counted[config].astype(str).values))
        extra = left[[tuple(row) not in have for row in left[config].astype(str).values]]
        keep = extra.drop_duplicates(config)["run_id"]
        extra = extra[extra["run_id"].isin(set(keep))]
        counted = pd.concat([counted, extra])
        left = left[~left["run_id"].isin(set(keep))]
    if left["run_id"].nunique():
        k = left["run_id"].nunique()
        notes.append(f"{k} record{'s' if k != 1 else ''} from other harness code not counted: "
                     "rerun or `bench report --code any`" if code == "current" else
                     f"{k} record{'s' if k != 1 else ''} of a config that has a counted record not counted")
    counted = counted.assign(counted=True).reset_index(drop=True)
    counted.attrs["notes"] = notes
    return Folder(counted, [], notes)


def load_table(out: Path, code: str = "current") -> pd.DataFrame:
    """The counted tidy rows of DIR (load_folder); ``table.attrs["notes"]`` says what was
    left out. Empty when the folder holds no runs at all (a folder of probe results only)."""
    return load_folder(out, code).table


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


DESIGN_FILE = "design.md"  # what a suite fixed before running (bench run --suite writes it)


def write_design(out: Path, text: str) -> Path:
    """The suite's design section, beside its runs, for the report."""
    path = Path(out) / DESIGN_FILE
    atomic_write(path, text.encode())
    return path


def read_design(out: Path) -> str:
    """The design a suite wrote into DIR ('' when none)."""
    path = Path(out) / DESIGN_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def record_path(out: Path, run_id: str) -> Path:
    return Path(out) / "runs" / f"{run_id}.json"


def checkpoint_path(out: Path, run_id: str) -> Path:
    return Path(out) / "checkpoints" / f"{run_id}.safetensors"
