"""Run records: which are usable, and which one of each config a table counts.

Usable: a JSON object with a config (task, model, variant, seed, lr, budget, steps, batch
size, device), a finished status, numeric metrics and a run id matching its file name
(`record_problem` says why not). `scan` reads a folder's runs/ and warns once per process
about each file it cannot use (path and reason): never counted, and not finished, so a
rerun of its config trains it again.

One record per config (`select`): records are grouped by RunConfig.config_key (the config
and task version, without the code) and judged by bench.run.version.is_current (the record's
code hash against its listed files as they are on disk now). code="current": the current
record of each config, nothing where there is none; code="any": the current one where it
exists, else the newest by finished_at. `Selection.notes()` says what was left out.
Imports no torch.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.run.config import RunConfig
from bench.run.version import is_current

REQUIRED = ("run_id", "config", "status", "task_version", "metrics")  # keys every run record has
CONFIG_REQUIRED = ("task", "model", "variant", "seed", "lr", "budget_params", "steps", "batch_size", "device")
STATUSES = ("ok", "diverged")  # what a finished run is
CODES = ("current", "any")  # which record of a config a table counts


def record_problem(record: Any, path: Path | None = None) -> str | None:
    """Why a parsed run file cannot be counted (None: a usable record)."""
    if not isinstance(record, dict):
        return f"not a run record (a JSON {type(record).__name__}, not an object)"
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        return f"incomplete run record (no {', '.join(missing)})"
    config, metrics = record["config"], record["metrics"]
    if not isinstance(config, dict):
        return f"config is a {type(config).__name__}, not an object"
    missing = [key for key in CONFIG_REQUIRED if key not in config]
    if missing:
        return f"incomplete config (no {', '.join(missing)})"
    if not isinstance(config["variant"], dict):
        return f"config variant is a {type(config['variant']).__name__}, not an object"
    if not isinstance(metrics, dict):
        return f"metrics is {'null' if metrics is None else 'a ' + type(metrics).__name__}, not an object"
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"metric {name!r} is {value!r}, not a number"
    if record["status"] not in STATUSES:
        return f"status {record['status']!r} is not a finished run's ({', '.join(STATUSES)})"
    if not isinstance(record.get("environment", {}), dict):
        return "environment is not an object"
    if not isinstance(record["run_id"], str) or (path is not None and path.stem != record["run_id"]):
        return f"run_id {record['run_id']!r} does not match its file name"
    return None


_WARNED: set[tuple[str, str]] = set()  # (path, reason) already warned about in this process


def warn_once(path: Path, reason: str) -> None:
    key = (str(path), reason)
    if key not in _WARNED:
        _WARNED.add(key)
        print(f"warning: skipping run file {path}: {reason}; not counted, and a rerun of its "
              "config trains it again", file=sys.stderr)


@dataclass
class Scan:
    """Every run file of a folder: the usable records (by path) and the others with why."""

    records: dict[Path, dict[str, Any]] = field(default_factory=dict)
    unusable: dict[Path, str] = field(default_factory=dict)


def scan(runs: Path, warn: bool = True) -> Scan:
    """Read every runs/*.json; `warn`: name each unusable one (once per process)."""
    found = Scan()
    for path in sorted(Path(runs).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            problem = record_problem(record, path)
        except (ValueError, OSError) as error:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            problem = f"unreadable ({' '.join(str(error).split())})"
        if problem is None:
            found.records[path] = record
            continue
        found.unusable[path] = problem
        if warn:
            warn_once(path, problem)
    return found


def config_key(record: dict[str, Any]) -> str:
    """The record's RunConfig.config_key (defaults filled, so a record written before a
    setting existed meets its twin); the raw config's hash when it no longer parses."""
    try:
        return RunConfig.from_dict(dict(record["config"])).config_key(record["task_version"])
    except (ValueError, TypeError):
        blob = json.dumps({"config": record["config"], "task_version": record["task_version"]},
                          sort_keys=True, default=str)
        return "raw-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def _newest(records: list[dict[str, Any]]) -> dict[str, Any]:
    return max(records, key=lambda r: (str(r.get("finished_at") or ""), r["run_id"]))


@dataclass
class Selection:
    """Which usable records a table counts: one per config key (module docstring)."""

    code: str
    counted: list[dict[str, Any]]
    other_code: list[dict[str, Any]]  # not counted: no current twin, computed by other code (code="current")
    superseded: list[dict[str, Any]]  # not counted: a twin of a counted record
    counted_other_code: int = 0  # code="any": counted records computed by other code
    unusable: dict[Path, str] = field(default_factory=dict)

    @property
    def counted_ids(self) -> set[str]:
        return {record["run_id"] for record in self.counted}

    def notes(self) -> list[str]:
        """One sentence per thing a reader of the tables should know was left out."""
        notes = []
        if self.other_code:
            k = len(self.other_code)
            notes.append(f"{k} record{'s' if k != 1 else ''} from other harness code not counted: "
                         "rerun or `bench report --code any`")
        if self.superseded:
            k = len(self.superseded)
            notes.append(f"{k} record{'s' if k != 1 else ''} of a config that has a "
                         f"{'current or ' if self.code == 'any' else ''}newer record not counted "
                         "(one record per config)")
        if self.counted_other_code:
            notes.append(f"--code any: {self.counted_other_code} of {len(self.counted)} counted records "
                         "were computed by other harness code (no current record of their config)")
        if self.unusable:
            k, names = len(self.unusable), ", ".join(p.name for p in list(self.unusable)[:3])
            notes.append(f"{k} unreadable or incomplete run file{'s' if k != 1 else ''} not counted "
                         f"({names}{', ...' if k > 3 else ''}): a rerun trains {'them' if k != 1 else 'it'} again")
        return notes


def check_code(code: str) -> None:
    if code not in CODES:
        raise ValueError(f"unknown code selection {code!r}; valid: {', '.join(CODES)}")


def select(records: list[dict[str, Any]], code: str = "current") -> Selection:
    """One record per config key: the current one (code="current": only those), or with
    code="any" the current one where it exists, else the newest by finished_at."""
    check_code(code)
    judged: dict[tuple[str, tuple[str, ...]], bool] = {}

    def current(record: dict[str, Any]) -> bool:
        env = record.get("environment") or {}
        files = env.get("code_files") or []
        listed = isinstance(files, list) and all(isinstance(f, str) for f in files)
        key = (str(env.get("harness_code")), tuple(files) if listed else ())
        if key not in judged:
            judged[key] = bool(key[1]) and is_current(key[0], key[1])
        return judged[key]

    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(config_key(record), []).append(record)
    selection = Selection(code, [], [], [])
    for group in groups.values():
        now = [r for r in group if current(r)]
        if now:
            chosen = _newest(now)
        elif code == "any":
            chosen = _newest(group)
            selection.counted_other_code += 1
        else:
            selection.other_code += group
            continue
        selection.counted.append(chosen)
        for record in group:
            if record is not chosen:  # code="current": an older current twin is superseded, the rest other code
                (selection.superseded if code == "any" or current(record) else selection.other_code).append(record)
    return selection
