"""copy (long-range memory): the copy-memory task of the TCN benchmark (Bai et al. 2018).

`n_memory` symbols drawn from 1..`n_alphabet` (TCN: 10 symbols from 1-8), then `lag - 1`
blanks, then a run of `n_memory + 1` delimiters; during the last `n_memory` delimiters the
model must output the symbols in order. Total length `lag + 2 * n_memory` (TCN: T + 20).
This is TCN's `copy_memory/utils.py` layout exactly, with its blank 0 and delimiter 9 moved
to their own ids because id 0 is padding here.

Worked example (n_memory=3, n_alphabet=8, lag=4; `_` blank, `:` delimiter):

    input:  5 2 7 _ _ _ : : : :
    target at positions 7, 8, 9: 5 2 7

Scoring (`score`):
- "answers" (default): only the `n_memory` answer positions are scored, K = n_memory, classes
  are the symbols 1..n_alphabet. Accuracy = share of answer symbols right. Trivial baseline:
  guessing one symbol scores 1 / n_alphabet (0.125 for TCN's 8).
- "all": every position is scored, as TCN's loss is (cross-entropy over all T + 20 outputs);
  the target is "blank" (class 0) everywhere except the answers (classes 1..n_alphabet). Use
  it for the TCN anchor, comparing `test_loss`. Trivial baseline: blank everywhere, uniform
  at the answers: CE = n_memory * ln(n_alphabet) / (lag + 2 n_memory) = 10 ln 8 / (T + 20),
  0.0204 at T = 1000 (where TCN's LSTM/GRU/RNN all sat); its accuracy, (T + 10 + 10/8) /
  (T + 20), is near 1 and says little: read the loss.

Token ids: 0 pad, 1 blank, 2 delimiter, then the symbols 1..n_alphabet as 3..n_alphabet+2.
"""
from __future__ import annotations

import math

import torch

from tasks.base import Split, TaskData, generated_splits, register_task, require

VERSION = 1
DEFAULTS = {"lag": 100, "n_memory": 10, "n_alphabet": 8, "score": "answers",
            "n_train": 10000, "n_val": 1000, "n_test": 1000}
PAD, BLANK, DELIM = 0, 1, 2
SYMBOL0 = 3  # id of symbol 1
SCORES = ("answers", "all")
MAX_LENGTH = 1 << 16


def _validate(v: dict) -> None:
    require(v["lag"] >= 1, f"copy: lag must be >= 1, got {v['lag']}")
    require(v["n_memory"] >= 1, f"copy: n_memory must be >= 1, got {v['n_memory']}")
    require(v["n_alphabet"] >= 2, f"copy: n_alphabet must be >= 2, got {v['n_alphabet']}")
    require(v["lag"] + 2 * v["n_memory"] <= MAX_LENGTH,
            f"copy: lag + 2 * n_memory must be <= {MAX_LENGTH}")
    require(v["score"] in SCORES, f"copy: score must be one of {', '.join(SCORES)}, got {v['score']!r}")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "copy: every split needs >= 1 example")


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    m, lag = v["n_memory"], v["lag"]
    length = lag + 2 * m
    symbols = torch.randint(1, v["n_alphabet"] + 1, (n, m), generator=gen)  # (N, m) in 1..A
    inputs = torch.full((n, length), BLANK)
    inputs[:, :m] = symbols + SYMBOL0 - 1
    inputs[:, m + lag - 1:] = DELIM  # the delimiter run: m + 1 tokens
    if v["score"] == "answers":
        positions = torch.arange(length - m, length).expand(n, m).clone()  # (N, m)
        targets = symbols - 1  # (N, m) symbol class 0..A-1
    else:
        positions = torch.arange(length).expand(n, length).clone()  # (N, T + 2m)
        targets = torch.zeros(n, length, dtype=torch.long)  # class 0 = blank
        targets[:, length - m:] = symbols  # classes 1..A
    return Split(inputs=inputs, lengths=torch.full((n,), length), targets=targets,
                 positions=positions)


def trivial_loss(v: dict) -> float:
    """Cross-entropy of the best input-blind guess (uniform over the symbols at the answers)."""
    if v["score"] == "answers":
        return math.log(v["n_alphabet"])
    return v["n_memory"] * math.log(v["n_alphabet"]) / (v["lag"] + 2 * v["n_memory"])


@register_task("copy", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    m, length = variant["n_memory"], variant["lag"] + 2 * variant["n_memory"]
    if variant["score"] == "answers":
        n_classes, baseline = variant["n_alphabet"], 1.0 / variant["n_alphabet"]
    else:
        n_classes = variant["n_alphabet"] + 1
        baseline = (length - m + m / variant["n_alphabet"]) / length
    return TaskData(
        **generated_splits("copy", variant, seed, _split),
        output="token", n_classes=n_classes, vocab_size=SYMBOL0 + variant["n_alphabet"],
        trivial_baseline=baseline,
    )


def readable(ids) -> list[str]:
    """Token ids -> names: symbols as their digit (1..n_alphabet), '_' blank, ':' delimiter."""
    names = {PAD: "<pad>", BLANK: "_", DELIM: ":"}
    return [names.get(int(i), str(int(i) - SYMBOL0 + 1)) for i in ids]


def describe(split: Split, i: int, variant: dict) -> dict:
    """One example as JSON-ready values: the input tokens, the answers and where they go."""
    length = int(split.lengths[i])
    targets = split.targets[i].tolist()
    if variant["score"] == "answers":
        target = [str(t + 1) for t in targets]
    else:
        target = ["_" if t == 0 else str(t) for t in targets]
    return {"input": " ".join(readable(split.inputs[i, :length])), "target": target,
            "positions": split.positions[i].tolist()}


build.__doc__ = __doc__
