"""What to run: validate a list of run configs before any work, drop the finished ones, and
write each finished record the moment it arrives (shared by the local and Ray executors)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
from tqdm import tqdm

from bench.execute.store import finished_ids, write_run
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


class RunHooks(Protocol):
    """What a caller watches or keeps of each run (bench/watch.py implements it); optional.

    start: the run's on_eval callback (bench.run.loop.train_run), for runs trained in this
    process only (a pool's workers report finished records alone); checkpoint: where to save
    its best weights, or None; finish: called with every finished record, any executor."""

    def start(self, config: RunConfig) -> Callable[[dict[str, Any]], None] | None: ...

    def checkpoint(self, config: RunConfig) -> Path | None: ...

    def finish(self, record: dict[str, Any]) -> None: ...


class Tally:
    """Writes each finished record at once, counts it, and tells the hooks."""

    def __init__(self, runs: list[RunConfig], todo: list[RunConfig], out: Path,
                 hooks: RunHooks | None = None):
        self.out, self.hooks = out, hooks
        self.counts = {"asked": len(runs), "skipped": len(runs) - len(todo), "ok": 0, "diverged": 0}

    def add(self, record: dict[str, Any]) -> None:
        write_run(self.out, record)
        self.counts[record["status"]] += 1
        if self.hooks is not None:
            self.hooks.finish(record)  # its line says "diverged" too
        elif record["status"] == "diverged":
            c = record["config"]
            tqdm.write(f"diverged: {c['task']} {c['model']} seed={c['seed']} lr={c['lr']}")
