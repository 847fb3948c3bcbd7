"""Run a list of configs, skipping those already finished in the store.

Executors (the same runs give the same records on each, timing fields aside):
- ``local``, in-process (jobs=1, the default): one run at a time in this process.
- ``local``, process pool: ``jobs=N`` spawned workers, each with max(1, cpus // N) torch
  threads; on GPUs, ``runs_per_gpu=K`` packs K small runs per device at once (K workers
  per visible GPU, worker i pinned to GPU i % n_gpus).
- ``ray`` (bench/execute/ray_executor.py): each run a Ray task, laptop to cluster.

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

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Sequence

import torch
from tqdm import tqdm

from bench.execute.plan import RunFailed, RunHooks, Tally, cpu_count, failed, pending, validate_runs
from bench.execute.store import open_store, rebuild
from bench.plugins import load_plugins
from bench.run.config import RunConfig
from bench.run.determinism import set_determinism
from bench.run.loop import train_run


def _watch_parent(parent: int) -> None:
    """A pool worker whose parent was killed (-9) exits instead of idling forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(threads: int, deterministic: bool, device: str, counter, n_gpus: int,
                 plugins: Sequence[str] = ()) -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    # Ctrl-C reaches the whole process group: the parent alone handles it (one line) and
    # terminates the workers; a worker's own KeyboardInterrupt traceback would only be noise
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load_plugins(plugins)  # the parent's --import plugins (and installed ones): same models, tasks
    torch.set_num_threads(threads)
    set_determinism(deterministic, device)
    if n_gpus:
        with counter.get_lock():
            index, counter.value = counter.value, counter.value + 1
        torch.cuda.set_device(index % n_gpus)  # "cuda" in a config means this device


def run_local(runs: list[RunConfig], out: Path, progress: bool = True, *, jobs: int = 1,
              runs_per_gpu: int = 1, threads: int = 0, deterministic: bool = False,
              hooks: RunHooks | None = None, plugins: Sequence[str] = ()) -> dict[str, int]:
    """Run what is not finished yet; returns counts (asked, skipped, ok, diverged).

    jobs=1 and runs_per_gpu=1 train in this process; otherwise a spawned pool of
    max(jobs, runs_per_gpu x GPUs) workers. threads=0: torch's choice in-process,
    max(1, cpus // workers) in a pool. A script calling this with a pool needs the
    ``if __name__ == "__main__":`` guard (spawn); ``python -m bench`` is safe.
    hooks (plan.RunHooks): progress, finished-run lines, checkpoints; plugins: modules each
    pool worker imports first (bench.plugins.loaded() in the parent).
    """
    if jobs < 1 or runs_per_gpu < 1 or threads < 0:
        raise ValueError(f"need jobs >= 1, runs_per_gpu >= 1, threads >= 0; "
                         f"got {jobs}, {runs_per_gpu}, {threads}")
    out = Path(out)
    validate_runs(runs)
    open_store(out)
    todo = pending(runs, out)
    tally = Tally(runs, todo, out, hooks)
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
            try:
                record = train_run(config, on_eval=hooks.start(config) if hooks else None,
                                   checkpoint=hooks.checkpoint(config) if hooks else None)
            except Exception as error:  # noqa: BLE001 - one line naming the run; the cause is kept
                raise failed(config, error) from error
            tally.add(record)
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        threads = threads or max(1, cpu_count() // workers)
        counter = context.Value("i", 0)
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                   initargs=(threads, deterministic, device, counter, n_gpus, tuple(plugins)))
        try:
            _collect({pool.submit(train_run, config, checkpoint=hooks.checkpoint(config) if hooks else None): config
                      for config in todo}, tally, bar)
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


def _collect(futures: dict, tally: Tally, bar) -> None:
    """Write records as they finish; on a failed run, cancel what has not started, keep
    what finishes, then raise the first error."""
    errors: list[tuple[RunConfig, BaseException]] = []
    for future in as_completed(futures):
        try:
            record = future.result()
        except CancelledError:
            continue
        except BrokenProcessPool as error:  # a worker died (killed, out of memory): no run to blame
            raise RunFailed("a worker process died (killed, or out of memory?) while running "
                            f"{len(futures)} runs; finished runs are kept, the same command resumes") from error
        except Exception as error:  # noqa: BLE001 - re-raised below, after saving the rest
            if not errors:
                for other in futures:
                    other.cancel()
            errors.append((futures[future], error))
            continue
        tally.add(record)
        bar.update()
    if errors:
        config, error = errors[0]
        raise failed(config, error, len(errors)) from error
