"""Named suites: each is a Python list of run configs (a sweep is a list, nothing more).

- quick: CPU, minutes; `make bench` runs it.
- standard: one GPU; every family at full data, three seeds, about 1M core parameters.
More suites register themselves the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tasks  # noqa: F401  (registers tasks)
from bench.registry import Registry
from bench.run.config import RunConfig
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


QUICK = {"budget_params": 100_000, "d_embed": 64, "steps": 400, "batch_size": 32, "lr": 5e-3,
         "eval_every": 200, "device": "cpu"}


def quick() -> list[RunConfig]:
    """Every family at CPU scale; `make bench` runs it with two workers in under five minutes.

    Listed longest first (the IMDB BiLSTM packs its batches and is the slowest run), so two
    workers finish together instead of one waiting on a long last run."""
    small = {"n_train": 4000, "n_val": 300, "n_test": 500}
    imdb = {"n_train": 3000, "max_len": 128, "n_val": 300, "n_test": 600}
    cloze = {"k": 100, "window": 16, "n_train": 6000, "n_val": 300, "n_test": 600}
    slowest_first = ["bilstm", "transformer", "transformer_causal", "gru", "rnn", "lstm"]
    return (grid("imdb", [imdb], slowest_first, [0], **{**QUICK, "steps": 160})
            + grid("recall", [{"distance": d, **small} for d in (32, 16, 4)], slowest_first, [0], **QUICK)
            + grid("fill_in", [{"length": 24, **small}], slowest_first, [0], **QUICK)
            + grid("cloze", [cloze], slowest_first, [0], **{**QUICK, "steps": 200}))


STANDARD = {"budget_params": 1_000_000, "d_embed": 128, "steps": 4000, "batch_size": 64,
            "lr": 1e-3, "eval_every": 250, "device": "cuda"}
EVERY_MODEL = ALL_MODELS + ["mingru", "minlstm"]
SEEDS = [0, 1, 2]


def standard() -> list[RunConfig]:
    """One GPU: every family at full data and length sweeps up to 4096, three seeds, ~1M core params."""
    def sweep(task: str, variants: list[dict]) -> list[RunConfig]:
        return grid(task, variants, EVERY_MODEL, SEEDS, **STANDARD)

    return (sweep("recall", [{"distance": d} for d in (16, 64, 256, 1024, 4096)])
            + sweep("copy", [{"lag": lag} for lag in (16, 64, 256, 1024, 4096)])
            + sweep("mqar", [{"seq_len": n, "n_kv": kv, "vocab": 8192, "n_train": 100_000}
                             for n, kv in ((64, 4), (128, 8), (256, 16), (512, 64))])
            + sweep("selective_copy", [{"seq_len": n, "n_copy": c}
                                       for n, c in ((256, 16), (512, 32), (1024, 64), (4096, 64))])
            + sweep("fill_in", [{"length": 64}])
            + sweep("imdb", [{"max_len": 256}])
            + sweep("imdb_bytes", [{"max_len": 1000}, {"max_len": 4000}])
            + sweep("cloze", [{}]))


def anchors() -> list[RunConfig]:
    """Published settings (shared/ANCHORS.md), for results/anchors.md: TCN adding T=600 (~70K
    params) and copy memory T=1000 (~16K params), LRA ListOps and Text (byte-level IMDB)."""
    recurrent = ["rnn", "lstm", "gru"]
    tcn = {"layers": 1, "steps": 15_000, "batch_size": 32, "lr": 1e-3, "eval_every": 500, "device": "cuda"}
    lra = {"layers": 4, "steps": 5000, "batch_size": 32, "lr": 1e-3, "weight_decay": 0.1,
           "eval_every": 500, "device": "cuda"}
    tcn_adding = {"length": 600, "markers": "uniform", "n_train": 50_000}
    return (grid("adding", [tcn_adding],
                 recurrent + ["transformer"], [0], budget_params=70_000, d_embed=64, **tcn)
            + grid("copy", [{"lag": 1000, "score": "all"}], recurrent + ["transformer"], [0],
                   budget_params=16_000, d_embed=16, **tcn)
            + grid("listops", [{}], ["transformer", "rnn", "lstm", "gru", "bilstm"], [0],
                   budget_params=8_400_000, d_embed=512, heads=8, warmup_frac=0.2, **lra)
            + grid("imdb_bytes", [{"max_len": 1000}], ["transformer", "rnn", "lstm", "gru", "bilstm"],
                   [0],
                   budget_params=3_150_000, d_embed=256, warmup_frac=0.4,
                   **{**lra, "steps": 20_000}))


SUITES.add("quick", Suite("quick", "CPU, ~5 min: recall x3, fill_in, imdb slice, cloze; 6 models, 1 seed, 100k",
                          quick))
SUITES.add("standard", Suite("standard", "one GPU: every family, length sweeps to 4096, 8 models, 3 seeds, 1M params",
                              standard))
SUITES.add("anchors", Suite("anchors", "one GPU: published settings (TCN adding/copy, LRA ListOps/Text)", anchors))


LR_GRID = (3e-4, 1e-3, 3e-3, 1e-2)


def full() -> list[RunConfig]:
    """A cluster: standard()'s distinct (variant, model) configs x LR_GRID x SEEDS; the report
    picks each model's learning rate on validation, then reports mean +- CI over the seeds."""
    bases: dict[str, RunConfig] = {}
    for config in standard():
        base = config.replace(seed=0, lr=LR_GRID[0])
        bases.setdefault(base.run_id(0), base)  # the id only serves as a content key here
    return [base.replace(lr=lr, seed=seed) for base in bases.values() for lr in LR_GRID for seed in SEEDS]


SUITES.add("full", Suite("full", "a cluster: the standard runs x LR grid (3e-4, 1e-3, 3e-3, 1e-2) x 3 seeds",
                         full))
