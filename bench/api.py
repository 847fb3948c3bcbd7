"""The Python API: ``bench.run``, ``bench.load`` and ``bench.report`` (exported by bench/__init__).

    import bench
    rows = bench.run(task="recall", model=["lstm", "transformer"], seeds=(0, 1),
                     variant={"distance": 16}, steps=400, budget_params=1e5)
    rows[rows.metric == "test_accuracy"].groupby("model").value.mean()

``bench run`` (bench/commands/run.py) is a thin layer over the same two steps: build the
configs with bench.grid (same validation, same messages) and hand them to ``execute``.
Results land in a folder like any CLI run (resumable: a finished twin is never re-trained);
without ``out`` that is the user's cache ($BENCH_CACHE/runs, tasks/data/cache.py), never the clone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from bench.execute.local import run_local
from bench.execute.ray_executor import run_ray
from bench.execute.store import load_folder, load_table
from bench.grid import grid, grid_from_file
from bench.logs import get
from bench.plugins import load_plugins, loaded
from bench.run.config import RunConfig
from bench.trackers import PROJECT, TensorBoard, Tracker, WandB
from bench.watch import Watch
from tasks.base import TASKS
from tasks.data.cache import cache_root

EXECUTORS = ("local", "ray")
log = get("api")


def trackers(out: Path, tensorboard: str | Path | None = None, wandb: str | bool | None = None) -> list[Tracker]:
    """The optional trackers asked for (each fails in one line when its package is missing)."""
    chosen: list[Tracker] = []
    if tensorboard is not None:
        chosen.append(TensorBoard(tensorboard))
    if wandb:
        chosen.append(WandB(Path(out), wandb if isinstance(wandb, str) else PROJECT))
    return chosen


def execute(runs: list[RunConfig], out: str | Path, *, executor: str = "local", jobs: int = 1,
            runs_per_gpu: int = 1, threads: int = 0, deterministic: bool = False,
            address: str | None = None, progress: bool = True, checkpoints: bool = False,
            tensorboard: str | Path | None = None, wandb: str | bool | None = None) -> dict[str, int]:
    """Run what is not finished yet on the executor asked for; returns the counts (asked,
    skipped, ok, diverged). Every inconsistency fails before anything is written."""
    out = Path(out)
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if executor == "ray":
        if jobs != 1:
            raise ValueError("--jobs is for --executor local; Ray schedules by its CPU count")
        if checkpoints or tensorboard is not None or wandb:
            raise ValueError("--checkpoints, --tensorboard and --wandb need --executor local")
        return run_ray(runs, out, progress, address=address, runs_per_gpu=runs_per_gpu, threads=threads,
                       deterministic=deterministic, hooks=Watch(out, progress=progress))
    if address is not None:
        raise ValueError("--address goes with --executor ray")
    hooks = Watch(out, progress=progress, checkpoints=checkpoints, trackers=trackers(out, tensorboard, wandb))
    try:
        return run_local(runs, out, progress, jobs=jobs, runs_per_gpu=runs_per_gpu, threads=threads,
                         deterministic=deterministic, hooks=hooks, plugins=loaded())
    finally:
        hooks.close()


def default_out() -> Path:
    """The API's results folder when none is given: the user's cache ($BENCH_CACHE/runs), never
    the clone; resumable like any results folder."""
    return cache_root() / "runs"


def rows_of(out: str | Path, runs: list[RunConfig]) -> pd.DataFrame:
    """The tidy rows of exactly these runs (the folder may hold others)."""
    ids = {config.run_id(TASKS[config.task].version) for config in runs}
    table = load_table(Path(out))
    frame = table[table["run_id"].isin(ids)].reset_index(drop=True)
    frame.attrs["out"] = str(out)  # where the records, the table and any checkpoints are
    return frame


def run(task: str | None = None, model: str | Sequence[str] | None = None,
        seeds: int | Sequence[int] = (0,), variant: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        out: str | Path | None = None, jobs: int = 1, *, lrs: Sequence[float] | None = None,
        config: str | Path | None = None, plugins: Sequence[str] = (), progress: bool = True,
        checkpoints: bool = False, tensorboard: str | Path | None = None, wandb: str | bool | None = None,
        executor: str = "local", threads: int = 0, deterministic: bool = False,
        allow_plugins: bool = False, yes: bool = False, **settings: Any) -> pd.DataFrame:
    """Train every (variant, model, seed, lr) of `task` and return their tidy rows (one per
    run x metric; ``frame.attrs["out"]`` names the results folder).

    model: a name, a list, or None for every registered model; variant: the task's knobs, a
    dict or a list of dicts; lrs: a learning-rate grid (default: the `lr` setting);
    settings: RunConfig fields (steps=400, budget_params=1e5, device="cpu", ...), typed and
    checked as ``bench run --set`` checks them; config: a grid file instead of task/model/
    variant/seeds/lrs (bench/grid.py); allow_plugins: import the plugins such a file lists
    (they run code). plugins: modules or .py files that register models and tasks (installed
    ``bench.plugins`` entry points load by themselves). yes: allow a grid of more than
    bench.grid.MAX_RUNS runs. jobs > 1 runs a process pool: call it under
    ``if __name__ == "__main__":`` in a script.
    """
    load_plugins(plugins)
    if (task is None) == (config is None):
        raise ValueError("give task=... or config=FILE (one of them)")
    if config is not None:
        if model is not None or variant is not None or lrs is not None or seeds not in (0, (0,), [0]):
            raise ValueError("config=FILE holds the models, variants, seeds and lrs; give settings only")
        runs = grid_from_file(config, settings, allow_plugins=allow_plugins, yes=yes)
    else:
        runs = grid(task, variant, model, seeds, lrs, settings, yes=yes)
    folder = Path(out) if out is not None else default_out()
    execute(runs, folder, executor=executor, jobs=jobs, threads=threads, deterministic=deterministic,
            progress=progress, checkpoints=checkpoints, tensorboard=tensorboard, wandb=wandb)
    return rows_of(folder, runs)


def load(folder: str | Path, code: str = "current") -> pd.DataFrame:
    """A results folder's counted tidy rows, one record per config (the store's table,
    rebuilt from runs/ when stale): code="current" the records the code on disk now computed,
    "any" the current one where it exists, else the newest. What was left out is logged as a
    warning and kept in ``frame.attrs["notes"]``."""
    folder = load_folder(Path(folder), code)
    for note in folder.notes:
        log.warning("%s", note)
    return folder.table


def report(folder: str | Path, **options: Any) -> Path:
    """Write the folder's report as `bench report FOLDER` does; returns the report's path.
    options: what bench.commands.report.write takes (compare=..., formats=..., plots=...)."""
    from bench.commands.report import write

    return Path(write(Path(folder), **options))
