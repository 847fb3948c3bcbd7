"""What a suite will cost, predicted from measured per-step times before it runs.

`measure(configs)` times, for each distinct (task, variant, model) of a list of runs, the
training loop's own step (bench.run.step.train_step) at the run's budget and batch, after a
warm-up, and one validation pass: milliseconds per step and per validation, on this machine
at the current thread count (a suite's pool gives each worker cpus // jobs threads: measure
at that). `estimate(runs, times)` sums steps x step time + validations x validation time per
run, assuming every run uses its whole step cap: an upper bound (runs that solve stop early).
`bench run --suite NAME --dry-run` prints it for the first stage, for the confirmations the
suite will add, and for the worst case of its grid extensions.
"""
from __future__ import annotations

import time
from typing import Iterable

import pandas as pd
import torch

from bench.run.config import RunConfig
from bench.run.step import DeviceSplit, build_model, evaluate, make_optimizer, train_step
from tasks.base import TASKS

KEY = ["task", "variant", "model", "budget_params", "batch_size"]


def _key(config: RunConfig) -> tuple:
    return (config.task, repr(sorted(config.variant.items())), config.model, config.budget_params,
            config.batch_size)


def step_time(config: RunConfig, steps: int = 8, warmup: int = 3) -> dict[str, float]:
    """Milliseconds per training step and per validation pass of one config (seed 0 data)."""
    task = TASKS[config.task]
    data = task.build(task.variant(config.variant), 0)
    torch.manual_seed(0)
    model, _ = build_model(config, data)
    device = torch.device(config.device)
    model.to(device)
    train = DeviceSplit.of(data.train, device)
    val = DeviceSplit.of(data.val, device)
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    index = torch.arange(config.batch_size) % len(train)
    for _ in range(warmup):
        train_step(model, optimizer, train.batch(index), data.output, config.clip_norm, data.tolerance)
    tick = time.perf_counter()
    for _ in range(steps):
        loss, _ = train_step(model, optimizer, train.batch(index), data.output, config.clip_norm, data.tolerance)
    loss.item()
    per_step = (time.perf_counter() - tick) / steps
    tick = time.perf_counter()
    evaluate(model, val, data, 4 * config.batch_size)
    return {"ms_per_step": 1000 * per_step, "ms_per_eval": 1000 * (time.perf_counter() - tick),
            "length": int(data.train.seq_len), "threads": torch.get_num_threads()}


def measure(configs: Iterable[RunConfig], progress=None) -> pd.DataFrame:
    """One row per distinct (task, variant, model, budget, batch) of `configs`."""
    seen: dict[tuple, RunConfig] = {}
    for config in configs:
        seen.setdefault(_key(config), config)
    rows = []
    for key, config in seen.items():
        if progress is not None:
            progress(f"timing {config.task} {config.model} {dict(config.variant)}")
        rows.append({**dict(zip(KEY, key, strict=True)), **step_time(config)})
    return pd.DataFrame(rows)


def estimate(runs: Iterable[RunConfig], times: pd.DataFrame) -> float:
    """Seconds of single-worker time for `runs`, each to its step cap (an upper bound)."""
    table = {tuple(row[k] for k in KEY): row for row in times.to_dict("records")}
    total = 0.0
    for config in runs:
        row = table.get(_key(config))
        if row is None:
            raise ValueError(f"no measured step time for {config.task} {config.model} {dict(config.variant)}")
        evals = -(-config.steps // config.eval_every)
        total += (config.steps * row["ms_per_step"] + evals * row["ms_per_eval"]) / 1000
    return total
