"""Named suites: each is a Python list of run configs (a sweep is a list, nothing more).

- quick: 2 CPU cores, about 5 minutes; `make bench` runs it. One seed and one learning rate,
  so its verdicts read `preliminary` by the rules (bench/analysis/stats.py).
- standard: 2 CPU cores, the committed evidence: every family at CPU scale, the core models,
  3 seeds x a 3-value learning-rate grid, early stopping under one step cap.
- standard_gpu, full, anchors: the GPU/cluster scale-ups (1M parameters, lengths to 4096).
Model lists come from the model registry (bench/models/spec.py), never written out here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tasks  # noqa: F401  (registers tasks)
from bench.models import MODELS
from bench.registry import Registry
from bench.run.config import RunConfig
from tasks.base import TASKS


def core_models() -> list[str]:
    """The models every standard comparison trains (ModelSpec.core), in registry order."""
    return [name for name in MODELS if MODELS[name].core]


def every_model() -> list[str]:
    return MODELS.names()


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    runs: Callable[[], list[RunConfig]]


SUITES: Registry[Suite] = Registry("suite")


def grid(task: str, variants: list[dict], models: list[str], seeds: list[int],
         lrs: tuple[float, ...] | None = None, **settings) -> list[RunConfig]:
    """Every (variant, model, lr, seed) of one task with shared settings (lrs None: the
    settings' own lr)."""
    spec = TASKS[task]
    rates = lrs if lrs is not None else (settings.pop("lr", RunConfig.lr),)
    settings.pop("lr", None)
    return [RunConfig(task=task, model=model, variant=spec.variant(variant), seed=seed, lr=lr, **settings)
            for variant in variants for model in models for lr in rates for seed in seeds]


def slowest_first(models: list[str]) -> list[str]:
    """Registry order reversed puts the attention and bidirectional models first, so two
    workers finish together instead of one waiting on a long last run."""
    return list(reversed(models))


QUICK = {"budget_params": 100_000, "d_embed": 64, "steps": 400, "batch_size": 32, "lr": 5e-3,
         "eval_every": 100, "patience": 2, "min_steps": 200, "device": "cpu"}


def quick() -> list[RunConfig]:
    """Every family at CPU scale; `make bench` runs it with two workers in about five minutes.
    Recall as a memory task (one pair) at distances 4/16/32 for claims 1 and 8, fill-in for
    claim 2, a 3,000-review IMDB slice and real-text cloze."""
    small = {"n_train": 4000, "n_val": 300, "n_test": 500}
    imdb = {"n_train": 3000, "max_len": 128, "n_val": 300, "n_test": 600}
    cloze = {"k": 100, "window": 16, "n_train": 6000, "n_val": 300, "n_test": 600}
    models = slowest_first(core_models())
    return (grid("imdb", [imdb], models, [0], **{**QUICK, "steps": 160, "eval_every": 80, "min_steps": 80})
            + grid("recall", [{"distance": d, "n_pairs": 1, **small} for d in (32, 16, 4)], models, [0], **QUICK)
            + grid("fill_in", [{"length": 24, **small}], models, [0], **QUICK)
            + grid("cloze", [cloze], models, [0], **{**QUICK, "steps": 200}))


SEEDS = [0, 1, 2]
CPU_LRS = (1e-3, 3e-3, 1e-2)
# equal for every model: 100k core parameters, one step cap, validation every 100 steps,
# early stopping after 5 validations (500 steps) without a new best, never before step 500
STANDARD_CPU = {"budget_params": 100_000, "d_embed": 64, "steps": 1500, "batch_size": 32,
                "eval_every": 100, "patience": 5, "min_steps": 500, "device": "cpu"}
CLAIM_1_MODELS = ("rnn", "lstm", "gru", "transformer")  # what claims 1 and 8 compare


def standard() -> list[RunConfig]:
    """2 CPU cores, the committed evidence, in the order it is computed (most decisive first,
    so a suite stopped early still answers claims 1, 2 and 8): recall as a memory task over a
    distance sweep (claims 1, 8), fill-in (claim 2), associative recall (MQAR; recall with 2
    pairs), copy and adding at CPU lengths, then cloze and IMDB on the full data; 3 seeds x
    CPU_LRS for every cell."""
    core = slowest_first(core_models())
    claim_1 = slowest_first([m for m in core_models() if m in CLAIM_1_MODELS])

    def sweep(task: str, variants: list[dict], models, **changes) -> list[RunConfig]:
        return grid(task, variants, list(models), SEEDS, CPU_LRS, **{**STANDARD_CPU, **changes})

    return (sweep("recall", [{"distance": d, "n_pairs": 1} for d in (8, 32, 128)], claim_1)
            + sweep("fill_in", [{"length": 32}], core)
            + sweep("mqar", [{"seq_len": 64, "n_kv": 4}], core)
            + sweep("recall", [{"distance": d, "n_pairs": 2} for d in (8, 32)], claim_1)
            + sweep("copy", [{"lag": 32}], core)
            + sweep("adding", [{"length": 50}], core)
            + sweep("cloze", [{"k": 100, "window": 16, "n_train": 50_000}], core, steps=2000)
            + sweep("imdb", [{"max_len": 256}], core, steps=1400, eval_every=175, patience=4))


STANDARD_GPU = {"budget_params": 1_000_000, "d_embed": 128, "steps": 4000, "batch_size": 64,
                "eval_every": 250, "patience": 6, "min_steps": 1000, "device": "cuda"}
GPU_LRS = (3e-4, 1e-3, 3e-3)


def standard_gpu() -> list[RunConfig]:
    """One GPU: every family at full data and length sweeps up to 4096, 3 seeds x GPU_LRS, ~1M core params."""
    def sweep(task: str, variants: list[dict]) -> list[RunConfig]:
        return grid(task, variants, every_model(), SEEDS, GPU_LRS, **STANDARD_GPU)

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


SUITES.add("quick", Suite("quick", "2 CPU cores, ~5 min: recall x3, fill_in, imdb slice, cloze; 6 models, "
                          "1 seed, 1 LR (preliminary verdicts)", quick))
SUITES.add("standard", Suite("standard", "2 CPU cores, the committed evidence: 3 seeds x 3 LRs; recall "
                              "sweep, fill_in, mqar, copy, adding, cloze, imdb", standard))
SUITES.add("standard_gpu", Suite("standard_gpu", "one GPU: every family, length sweeps to 4096, 8 models, "
                                  "3 seeds, 1M params", standard_gpu))
SUITES.add("anchors", Suite("anchors", "one GPU: published settings (TCN adding/copy, LRA ListOps/Text)", anchors))


LR_GRID = (3e-4, 1e-3, 3e-3, 1e-2)


def full() -> list[RunConfig]:
    """A cluster: standard_gpu()'s distinct (variant, model) configs x LR_GRID x SEEDS; the report
    picks each model's learning rate on validation, then reports mean +- CI over the seeds."""
    bases: dict[str, RunConfig] = {}
    for config in standard_gpu():
        base = config.replace(seed=0, lr=LR_GRID[0])
        bases.setdefault(base.run_id(0), base)  # the id only serves as a content key here
    return [base.replace(lr=lr, seed=seed) for base in bases.values() for lr in LR_GRID for seed in SEEDS]


SUITES.add("full", Suite("full", "a cluster: the standard_gpu runs x LR grid (3e-4, 1e-3, 3e-3, 1e-2) x 3 seeds",
                         full))
