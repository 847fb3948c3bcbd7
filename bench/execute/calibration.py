"""Calibration suites: the measurements that set the standard suite's task settings and step
caps before it runs (results/calibration/, README "Calibration"). Each is a plain list of
run configs, like every suite; `bench run --suite calibrate_<name>` reruns one.

- calibrate_imdb: IMDB on the full data for two epochs, one seed per model, every run to its
  cap (no early stop): which truncation (a long review's head or tail) and which learning
  rates reach the 0.85 anchor (Keras IMDB examples: 0.84-0.87 in 2 epochs).
"""
from __future__ import annotations

from bench.run.config import RunConfig
from tasks.base import TASKS

IMDB_EPOCH = 695  # steps per epoch: 22,232 training reviews / batch 32
CPU = {"budget_params": 100_000, "d_embed": 64, "batch_size": 32, "device": "cpu"}


def _config(task: str, model: str, variant: dict, lr: float, seed: int = 0, **settings) -> RunConfig:
    return RunConfig(task=task, model=model, variant=TASKS[task].variant(variant), seed=seed, lr=lr,
                     **{**CPU, **settings})


def calibrate_imdb() -> list[RunConfig]:
    """Two epochs (1,390 steps), validation every 139 steps, never stopped early; the slowest
    runs first so two workers end together."""
    steps = 2 * IMDB_EPOCH
    loop = {"steps": steps, "eval_every": steps // 10, "min_steps": steps}
    tail, head = {"max_len": 256, "truncate": "tail"}, {"max_len": 256, "truncate": "head"}
    plan = [("transformer", tail, 3e-3), ("gru", tail, 1e-2), ("bilstm", tail, 1e-2),
            ("lstm", tail, 1e-2), ("lstm", head, 1e-2),
            ("gru", tail, 3e-2), ("bilstm", tail, 3e-2), ("lstm", tail, 3e-2)]
    return [_config("imdb", model, variant, lr, **loop) for model, variant, lr in plan]
