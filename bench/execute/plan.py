"""What to run: validate a list of run configs before any work, drop the finished ones, and
write each finished record the moment it arrives (shared by the local and Ray executors)."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
from tqdm import tqdm

from bench.execute.store import StoreError, finished_ids, keep_unsaved, record_path, write_run
from bench.run.budget import solve
from bench.run.config import RunConfig
from tasks.base import TASKS

TIMING_METRICS = ("wall_s", "train_tokens_per_s", "run_tokens_per_s")  # differ between identical runs


def pending(runs: list[RunConfig], out: Path) -> list[RunConfig]:
    done = finished_ids(out)
    unique: dict[str, RunConfig] = {}
    for config in runs:
        run_id = config.run_id(TASKS[config.task].version)
        if run_id not in done:
            unique.setdefault(run_id, config)
    return list(unique.values())


def validate_runs(runs: list[RunConfig]) -> None:
    """Fail before any work: unknown task, a model that cannot exist at its budget, no GPU."""
    for key in {(c.model, c.budget_params, c.d_embed, c.layers, c.heads) for c in runs}:
        model, budget, d_embed, layers, heads = key
        solve(model, budget, d_embed, layers, heads, d_embed)  # raises BudgetError
    for config in runs:
        TASKS[config.task]  # noqa: B018 - loud lookup
    if any(c.device == "cuda" for c in runs) and not torch.cuda.is_available():
        raise ValueError("these runs ask for cuda but torch sees no CUDA device; pass --device cpu")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class RunFailed(RuntimeError):
    """A run that raised (in this process, a pool worker or a Ray task), or a pool whose
    worker died; str() is one line naming the run and the error. The CLI prints it and
    exits 1 (2 when the run's error is a ValueError: bad input, e.g. a task's data check)."""


def run_label(config: RunConfig) -> str:
    return f"{config.task} {config.model} seed={config.seed} lr={config.lr:g}"


def one_line(error: BaseException) -> str:
    """`Type: first line of the message`."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def failed(config: RunConfig, error: BaseException, count: int = 1) -> RunFailed:
    more = f" ({count} failed in all)" if count > 1 else ""
    return RunFailed(f"run failed: {run_label(config)}: {one_line(error)}{more}")


class RunHooks(Protocol):
    """What a caller watches or keeps of each run (bench/watch.py implements it); optional.

    start: the run's on_eval callback (bench.run.loop.train_run), for runs trained in this
    process only (a pool's workers report finished records alone); checkpoint: where to save
    its best weights, or None; finish: called with every finished record, any executor."""

    def start(self, config: RunConfig) -> Callable[[dict[str, Any]], None] | None: ...

    def checkpoint(self, config: RunConfig) -> Path | None: ...

    def finish(self, record: dict[str, Any]) -> None: ...


LIBRARIES = ("transformers", "numpy", "scipy", "pandas", "tokenizers", "datasets")  # besides torch (in the env)


@functools.cache  # installed versions do not change within a process; every record asks
def library_versions() -> dict[str, str]:
    """Versions of the libraries whose code can move a number (the Transformer is a
    `transformers` BertEncoder; data and statistics use the rest), recorded with every run by
    the process that writes it (the workers share its environment). Callers get a copy."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


class Tally:
    """Writes each finished record at once, counts it, and tells the hooks."""

    def __init__(self, runs: list[RunConfig], todo: list[RunConfig], out: Path,
                 hooks: RunHooks | None = None):
        self.out, self.hooks = out, hooks
        self.counts = {"asked": len(runs), "skipped": len(runs) - len(todo), "ok": 0, "diverged": 0}

    def add(self, record: dict[str, Any]) -> None:
        record.setdefault("environment", {}).setdefault("libraries", dict(library_versions()))
        try:
            write_run(self.out, record)
        except OSError as error:  # disk full, folder gone or made read-only mid-sweep
            kept = keep_unsaved(record)
            where = (f"its record is kept in {kept} (copy it into {Path(self.out) / 'runs'} to keep it)"
                     if kept is not None else "its record could not be kept anywhere")
            raise StoreError(f"could not write {record_path(self.out, record['run_id'])} "
                             f"({error.strerror or error}); {where}") from error
        self.counts[record["status"]] += 1
        if self.hooks is not None:
            self.hooks.finish(record)  # its line says "diverged" too
        elif record["status"] == "diverged":
            c = record["config"]
            tqdm.write(f"diverged: {c['task']} {c['model']} seed={c['seed']} lr={c['lr']}")
