"""Named suites: each is a Python list of run configs (a sweep is a list, nothing more).

- quick: CPU, minutes; `make bench` runs it.
- standard: one GPU; every family at full data, three seeds, about 1M core parameters.
More suites register themselves the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tasks  # noqa: F401  (registers tasks)
from bench.config import RunConfig
from bench.registry import Registry
from tasks.base import TASKS

ALL_MODELS = ["rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    runs: Callable[[], list[RunConfig]]


SUITES: Registry[Suite] = Registry("suite")


def grid(task: str, variants: list[dict], models: list[str], seeds: list[int],
         **settings) -> list[RunConfig]:
    """Every (variant, model, seed) of one task with shared settings."""
    spec = TASKS[task]
    return [RunConfig(task=task, model=model, variant=spec.variant(variant), seed=seed, **settings)
            for variant in variants for model in models for seed in seeds]


QUICK = {"budget_params": 100_000, "d_embed": 64, "steps": 600, "batch_size": 32, "lr": 3e-3,
         "eval_every": 100, "device": "cpu"}


def quick() -> list[RunConfig]:
    small = {"n_train": 4000, "n_val": 500, "n_test": 1000}
    return (grid("recall", [{"distance": d, **small} for d in (8, 32, 96)], ALL_MODELS, [0], **QUICK)
            + grid("fill_in", [{"length": 32, **small}], ALL_MODELS, [0], **QUICK))


STANDARD = {"budget_params": 1_000_000, "d_embed": 128, "steps": 4000, "batch_size": 64,
            "lr": 1e-3, "eval_every": 250, "device": "cuda"}


def standard() -> list[RunConfig]:
    return (grid("recall", [{"distance": d} for d in (16, 64, 256, 1024, 4096)], ALL_MODELS,
                 [0, 1, 2], **STANDARD)
            + grid("fill_in", [{"length": 64}], ALL_MODELS, [0, 1, 2], **STANDARD))


SUITES.add("quick", Suite("quick", "CPU in minutes: recall at 3 distances + fill_in, 6 models, 1 seed, 100k params", quick))
SUITES.add("standard", Suite("standard", "one GPU: every family at full size, 3 seeds, 1M params", standard))


import bench.suite_full  # noqa: E402,F401  (registers the full suite)
