"""fill_in (bidirectional fill-in): a masked middle token fixed only by what follows it.

A sequence of random value tokens with a MASK at position `length // 2`. The left context
is independent noise; the answer is the token `offset` places to the right of the mask.
A left-to-right model reading up to the mask has seen nothing that carries information
about the answer, so it can do no better than chance; a model that also reads right to
left (BiLSTM, the bidirectional Transformer) can be perfect.

Worked example (length=8, offset=1, tokens written by value):

    input:  v4 v1 v7 v0 MASK v6 v2 v3
    target at position 4 (the mask): v6

Trivial baseline (and the ceiling of any left-only model): 1 / n_values = 0.125 at the
default n_values=8. Computed from the data and recorded with every run: `left_only_ceiling`,
the test score of the best left-only predictor, which by construction (the left context is
independent of the answer) is the most frequent training answer; and `bigram_baseline`, the
answer read from the token just left of the mask (counted on train): both chance up to
sampling noise. Token ids: 0 pad, 1 MASK, then values.
"""
from __future__ import annotations

import torch

from tasks.base import (
    Split,
    TaskData,
    constant_guess_share,
    generated_splits,
    next_token_baseline,
    register_task,
    require,
)

VERSION = 2  # 2: records left_only_ceiling and bigram_baseline
DEFAULTS = {"length": 32, "offset": 1, "n_values": 8,
            "n_train": 8000, "n_val": 500, "n_test": 1000}
PAD, MASK = 0, 1


def _validate(v: dict) -> None:
    require(v["length"] >= 4, "fill_in: length must be >= 4")
    require(1 <= v["offset"] < v["length"] - v["length"] // 2,
            "fill_in: offset must point inside the sequence, right of the mask")
    require(v["n_values"] >= 2, "fill_in: n_values must be >= 2")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "fill_in: every split needs >= 1 example")


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    length, middle = v["length"], v["length"] // 2
    inputs = torch.randint(0, v["n_values"], (n, length), generator=gen) + 2  # (N, T)
    targets = inputs[:, middle + v["offset"]] - 2  # (N,) class of the answer
    inputs[:, middle] = MASK
    return Split(inputs=inputs, lengths=torch.full((n,), length),
                 targets=targets[:, None], positions=torch.full((n, 1), middle))


@register_task("fill_in", family="bidirectional", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    splits = generated_splits("fill_in", variant, seed, _split)
    train, test = splits["train"], splits["test"]
    return TaskData(
        **splits, output="token", n_classes=variant["n_values"], vocab_size=2 + variant["n_values"],
        trivial_baseline=1.0 / variant["n_values"],
        baselines={"left_only_ceiling": constant_guess_share(train.targets, test.targets),
                   "bigram_baseline": next_token_baseline(train, test)},
    )


build.__doc__ = __doc__
