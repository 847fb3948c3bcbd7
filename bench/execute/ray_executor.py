"""The Ray executor: each pending run a Ray task asking for its CPUs and 1/runs_per_gpu of a
GPU, on a local Ray instance (``address=None``) or a cluster (``address="auto"`` or
"host:port"; bench/ and tasks/ are shipped to the workers). Records are written by this
driver process only, as with the local executor."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from bench.execute.plan import RunHooks, Tally, failed, pending, validate_runs
from bench.execute.store import open_store, rebuild
from bench.run.config import RunConfig
from bench.run.determinism import set_determinism
from bench.run.loop import train_run


def _ray_train(config: RunConfig, threads: int, deterministic: bool) -> dict[str, Any]:
    torch.set_num_threads(threads)
    set_determinism(deterministic, config.device)
    return train_run(config)


def run_ray(runs: list[RunConfig], out: Path, progress: bool = True, *, address: str | None = None,
            runs_per_gpu: int = 1, threads: int = 0, deterministic: bool = False,
            hooks: RunHooks | None = None) -> dict[str, int]:
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
    tally = Tally(runs, todo, out, hooks)
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
                raise failed(config, getattr(error, "cause", None) or error) from error
            bar.update()
    finally:
        bar.close()
        if started:
            ray.shutdown()
    rebuild(out)
    return tally.counts
