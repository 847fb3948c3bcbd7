"""Run a list of configs, skipping those already finished in the store.

The local executor trains in this process, one run at a time, with a progress bar; each
finished run is written atomically at once, so a killed sweep loses only the run in flight.
"""
from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from bench.config import RunConfig
from bench.store import finished_ids, rebuild_table, write_run
from bench.train import train_run
from tasks.base import TASKS


def pending(runs: list[RunConfig], out: Path) -> list[RunConfig]:
    done = finished_ids(out)
    unique: dict[str, RunConfig] = {}
    for config in runs:
        run_id = config.run_id(TASKS[config.task].version)
        if run_id not in done:
            unique.setdefault(run_id, config)
    return list(unique.values())


def run_local(runs: list[RunConfig], out: Path, progress: bool = True) -> dict[str, int]:
    todo = pending(runs, out)
    counts = {"asked": len(runs), "skipped": len(runs) - len(todo), "ok": 0, "diverged": 0}
    bar = tqdm(todo, desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    for config in bar:
        bar.set_postfix_str(f"{config.task} {config.model} seed={config.seed}")
        record = train_run(config)
        write_run(out, record)
        counts[record["status"]] += 1
        if record["status"] == "diverged":
            tqdm.write(f"diverged: {config.task} {config.model} seed={config.seed} lr={config.lr}")
    rebuild_table(out)
    return counts
