"""Run a list of configs, skipping those already finished in the store.

Executors (the same runs give the same records on each, timing fields aside):
- ``local``, in-process (jobs=1, the default): one run at a time in this process.
- ``local``, process pool: ``jobs=N`` spawned workers, each with max(1, cpus // N) torch
  threads; on GPUs, ``runs_per_gpu=K`` packs K small runs per device at once (K workers
  per visible GPU, worker i pinned to GPU i % n_gpus).
- ``ray``: each run a Ray task asking for its CPUs and 1/runs_per_gpu of a GPU, on a
  local Ray instance (``address=None``) or a cluster (``address="auto"`` or "host:port";
  bench/ and tasks/ are shipped to the workers), so one command scales from laptop to cluster.

A store that loses nothing: only this process (the parent or Ray driver) writes, and each
run file is written atomically (temp file, fsync, rename) the moment its run finishes, so a
``kill -9`` loses only the runs in flight and a rerun skips every finished one. Run ids are
content hashes, so nothing is ever duplicated, even with several ``bench run`` processes
sharing a folder; their table rebuilds are serialized by a lock file. DIR/store.json holds
the store version; a folder from another version is refused before anything is touched.

On CPU a run's numbers are bit-identical for the same config, seed and torch thread count
(a different thread count can change float summation order, e.g. in attention); pass
``threads`` to compare executors exactly.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Iterator

import torch
from tqdm import tqdm

from bench.run.budget import solve
from bench.run.config import RunConfig
from bench.run.determinism import set_determinism
from bench.execute.store import atomic_write, finished_ids, rebuild_table, write_run
from bench.run.loop import train_run
from tasks.base import TASKS

STORE_VERSION = 1
EXECUTORS = ("local", "ray")
TIMING_METRICS = ("wall_s", "train_tokens_per_s")  # differ between identical runs


class StoreError(ValueError):
    """A results folder this version cannot safely write to (one line, exit 2)."""


# ---- the store folder: version check, lock, table rebuild ----

def check_store(out: Path) -> None:
    """Raise StoreError if `out` holds a store of another version; reads only, writes nothing.

    A missing folder, an empty one, or one with runs/ but no store.json (written before
    store versions existed) is accepted as the current version.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StoreError(f"results folder {out} exists and is not a folder")
    meta = out / "store.json"
    if not meta.exists():
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
    """An exclusive lock on DIR/.lock across processes (POSIX flock; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: rebuilds may race, runs/ stays the source of truth
        yield
        return
    Path(out).mkdir(parents=True, exist_ok=True)
    with open(Path(out) / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def rebuild(out: Path):
    """rebuild_table under the store lock, so a slower process never writes a stale table last."""
    with store_lock(out):
        return rebuild_table(out)


# ---- what to run ----

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


# ---- local: in-process or a spawned process pool ----

def _watch_parent(parent: int) -> None:
    """A pool worker whose parent was killed (-9) exits instead of idling forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(threads: int, deterministic: bool, device: str, counter, n_gpus: int) -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    torch.set_num_threads(threads)
    set_determinism(deterministic, device)
    if n_gpus:
        with counter.get_lock():
            index, counter.value = counter.value, counter.value + 1
        torch.cuda.set_device(index % n_gpus)  # "cuda" in a config means this device


class _Tally:
    """Writes each finished record at once and counts it."""

    def __init__(self, runs: list[RunConfig], todo: list[RunConfig], out: Path):
        self.out = out
        self.counts = {"asked": len(runs), "skipped": len(runs) - len(todo), "ok": 0, "diverged": 0}

    def add(self, record: dict[str, Any]) -> None:
        write_run(self.out, record)
        self.counts[record["status"]] += 1
        if record["status"] == "diverged":
            c = record["config"]
            tqdm.write(f"diverged: {c['task']} {c['model']} seed={c['seed']} lr={c['lr']}")


def run_local(runs: list[RunConfig], out: Path, progress: bool = True, *, jobs: int = 1,
              runs_per_gpu: int = 1, threads: int = 0, deterministic: bool = False) -> dict[str, int]:
    """Run what is not finished yet; returns counts (asked, skipped, ok, diverged).

    jobs=1 and runs_per_gpu=1 train in this process; otherwise a spawned pool of
    max(jobs, runs_per_gpu x GPUs) workers. threads=0: torch's choice in-process,
    max(1, cpus // workers) in a pool. A script calling this with a pool needs the
    ``if __name__ == "__main__":`` guard (spawn); ``python -m bench`` is safe.
    """
    if jobs < 1 or runs_per_gpu < 1 or threads < 0:
        raise ValueError(f"need jobs >= 1, runs_per_gpu >= 1, threads >= 0; "
                         f"got {jobs}, {runs_per_gpu}, {threads}")
    out = Path(out)
    validate_runs(runs)
    open_store(out)
    todo = pending(runs, out)
    tally = _Tally(runs, todo, out)
    device = "cuda" if any(c.device == "cuda" for c in todo) else "cpu"
    n_gpus = torch.cuda.device_count() if device == "cuda" else 0
    workers = max(jobs, runs_per_gpu * n_gpus)
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    if workers == 1:
        if threads:
            torch.set_num_threads(threads)
        if deterministic:
            set_determinism(True, device)
        for config in todo:
            bar.set_postfix_str(f"{config.task} {config.model} seed={config.seed}")
            tally.add(train_run(config))
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        threads = threads or max(1, cpu_count() // workers)
        counter = context.Value("i", 0)
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                   initargs=(threads, deterministic, device, counter, n_gpus))
        try:
            _collect({pool.submit(train_run, config): config for config in todo}, tally, bar)
        except BaseException:  # Ctrl-C or a failed run: drop the queue, stop this pool's workers
            workers_now = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in workers_now:  # queued calls cannot be cancelled; they would still run
                process.terminate()
            raise
        pool.shutdown()
    bar.close()
    rebuild(out)
    return tally.counts


def _collect(futures: dict, tally: _Tally, bar) -> None:
    """Write records as they finish; on a failed run, cancel what has not started, keep
    what finishes, then raise the first error."""
    failed: list[tuple[RunConfig, BaseException]] = []
    for future in as_completed(futures):
        try:
            record = future.result()
        except CancelledError:
            continue
        except BrokenProcessPool:  # a worker died (killed, out of memory): no run to blame
            raise
        except Exception as error:  # noqa: BLE001 - re-raised below, after saving the rest
            if not failed:
                for other in futures:
                    other.cancel()
            failed.append((futures[future], error))
            continue
        tally.add(record)
        bar.update()
    if failed:
        config, error = failed[0]
        raise RuntimeError(f"run failed: {config.task} {config.model} seed={config.seed} "
                           f"lr={config.lr}: {error!r} ({len(failed)} failed in all)") from error


# ---- ray ----

def _ray_train(config: RunConfig, threads: int, deterministic: bool) -> dict[str, Any]:
    torch.set_num_threads(threads)
    set_determinism(deterministic, config.device)
    return train_run(config)


def run_ray(runs: list[RunConfig], out: Path, progress: bool = True, *, address: str | None = None,
            runs_per_gpu: int = 1, threads: int = 0, deterministic: bool = False) -> dict[str, int]:
    """Each pending run a Ray task (threads CPUs, default 1; 1/runs_per_gpu GPU for cuda
    runs). Uses a running ray.init() if there is one, else starts or joins `address`."""
    try:
        import ray
    except ImportError:
        raise ValueError("--executor ray needs ray: pip install '.[ray]'") from None
    if runs_per_gpu < 1 or threads < 0:
        raise ValueError(f"need runs_per_gpu >= 1, threads >= 0; got {runs_per_gpu}, {threads}")
    out = Path(out)
    validate_runs(runs)
    open_store(out)
    todo = pending(runs, out)
    tally = _Tally(runs, todo, out)
    started = False
    if todo and not ray.is_initialized():
        import bench
        import tasks
        env = {"py_modules": [bench, tasks]} if address is not None else None
        ray.init(address=address, include_dashboard=False, runtime_env=env)
        started = True
    threads = threads or 1
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    try:
        remote = ray.remote(_ray_train)
        refs = {remote.options(num_cpus=threads,
                               num_gpus=1.0 / runs_per_gpu if c.device == "cuda" else 0,
                               ).remote(c, threads, deterministic): c for c in todo}
        while refs:
            (ready,), _ = ray.wait(list(refs), num_returns=1)
            config = refs.pop(ready)
            try:
                tally.add(ray.get(ready))
            except ray.exceptions.RayError as error:
                for ref in refs:
                    ray.cancel(ref)
                raise RuntimeError(f"run failed: {config.task} {config.model} seed={config.seed} "
                                   f"lr={config.lr}: {error}") from error
            bar.update()
    finally:
        bar.close()
        if started:
            ray.shutdown()
    rebuild(out)
    return tally.counts


# ---- the `bench run` flags ----

def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"not an integer: {text!r}") from None
    if value < 1:
        raise ValueError(f"must be >= 1, got {value}")
    return value


_positive.__name__ = "positive integer"  # argparse names the type in its one-line error


def add_executor_arguments(parser) -> None:
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local (in-process or a process pool) or ray (a local Ray or a cluster)")
    parser.add_argument("--jobs", type=_positive, default=1,
                        help="local: worker processes (1: in this process)")
    parser.add_argument("--runs-per-gpu", type=_positive, default=1,
                        help="pack K small runs on each GPU at once (local workers, or 1/K GPU per Ray task)")
    parser.add_argument("--address", default=None,
                        help="ray: cluster address ('auto' joins a running cluster; "
                             "default: start a local Ray)")


def run_from_args(runs: list[RunConfig], out: Path, args) -> dict[str, int]:
    """Dispatch to the executor the flags ask for (see add_executor_arguments)."""
    executor = getattr(args, "executor", "local")
    common = {"progress": not getattr(args, "no_progress", False),
              "runs_per_gpu": getattr(args, "runs_per_gpu", 1),
              "threads": getattr(args, "threads", 0) or 0,
              "deterministic": bool(getattr(args, "deterministic", False))}
    if executor == "ray":
        if getattr(args, "jobs", 1) != 1:
            raise ValueError("--jobs is for --executor local; Ray schedules by its CPU count")
        return run_ray(runs, out, address=getattr(args, "address", None), **common)
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if getattr(args, "address", None) is not None:
        raise ValueError("--address goes with --executor ray")
    return run_local(runs, out, jobs=getattr(args, "jobs", 1), **common)

