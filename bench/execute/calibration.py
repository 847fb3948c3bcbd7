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


RECALL_MODELS = (("transformer", "standard"), ("transformer_causal", "standard"), ("gru", "standard"),
                 ("gru", "chrono"), ("rnn", "standard"), ("rnn", "orthogonal"), ("lstm", "standard"),
                 ("lstm", "chrono"))


def calibrate_recall() -> list[RunConfig]:
    """The memory task at its longest standard distance (d=128, one pair, slack 16: 148
    tokens), every model and init at two lrs on seed 0, 3,000 steps with no early stop but
    at a perfect validation score: when does each model-init solve, if at all (the recall
    step cap), and does chrono init change the answer (claim 9)."""
    loop = {"steps": 3000, "eval_every": 100, "patience": 3000, "min_steps": 3000}
    variant = {"distance": 128, "n_pairs": 1}
    return [_config("recall", model, variant, lr, init=init, **loop)
            for lr in (1e-2, 3e-3) for model, init in RECALL_MODELS]


def calibrate_mqar() -> list[RunConfig]:
    """MQAR settings where the Transformer (the reference model for associative recall) can
    reach 0.9 on 2 CPU cores: Zoology's blank filler (random_non_queries=False), a small
    vocabulary, 4 or 2 pairs, 4,000 steps, no early stop but at a perfect validation score."""
    loop = {"steps": 4000, "eval_every": 200, "patience": 4000, "min_steps": 4000}
    settings = [{"seq_len": 64, "n_kv": 4, "vocab": 64, "random_non_queries": False},
                {"seq_len": 64, "n_kv": 4, "vocab": 256, "random_non_queries": False},
                {"seq_len": 32, "n_kv": 2, "vocab": 64, "random_non_queries": False},
                {"seq_len": 64, "n_kv": 4, "vocab": 64, "random_non_queries": True}]
    return [_config("mqar", "transformer_causal", variant, lr, **loop)
            for variant in settings for lr in (3e-3, 1e-3)]


def calibrate_cloze() -> list[RunConfig]:
    """Cloze at a setting where a bidirectional model beats the bigram baseline by 0.05: the
    100 most frequent words as answers in 16-word windows, 8 windows per training review
    (about 170k), 4,000 steps (0.75 epoch), never stopped early."""
    loop = {"steps": 4000, "eval_every": 400, "min_steps": 4000}
    variant = {"k": 100, "window": 16, "per_review": 8, "n_val": 2000, "n_test": 5000}
    return [_config("cloze", model, variant, lr, **loop)
            for model in ("transformer", "bilstm") for lr in (3e-3, 1e-2)]
