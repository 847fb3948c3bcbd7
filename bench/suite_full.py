"""The `full` suite: every `standard` (task variant, model) x a shared LR grid x seeds.

Every model gets the same four learning rates, log-spaced around the standard 1e-3, and
the same three seeds; the report picks each model's learning rate on validation (never
test), then reports mean +- CI over the seeds at that rate. Meant for a cluster:
`bench run --suite full --executor ray --address auto`.
"""
from __future__ import annotations

from bench.config import RunConfig
from bench.suites import SUITES, Suite, standard

LR_GRID = (3e-4, 1e-3, 3e-3, 1e-2)
SEEDS = (0, 1, 2)


def full() -> list[RunConfig]:
    """standard()'s distinct (variant, model) configs x LR_GRID x SEEDS."""
    bases: dict[str, RunConfig] = {}
    for config in standard():
        base = config.replace(seed=0, lr=LR_GRID[0])
        bases.setdefault(base.run_id(0), base)  # the id only serves as a content key here
    return [base.replace(lr=lr, seed=seed) for base in bases.values() for lr in LR_GRID for seed in SEEDS]


SUITES.add("full", Suite("full", "a cluster: the standard runs x LR grid (3e-4, 1e-3, 3e-3, 1e-2) x 3 seeds",
                         full))
