"""majority (counting): are most of the `length` bits ones? One label per sequence.

Register it from outside the package and train any model on it:

    bench --import examples/my_task.py run --task majority --model lstm --model transformer
    bench --import examples/my_task.py sample majority --n 3

Worked example (length=7):

    bits:   1 0 1 1 0 0 1          (token ids 2 1 2 2 1 1 2: 1 = a zero bit, 2 = a one bit, 0 = pad)
    label:  1 (four ones out of seven; 0 would mean most bits are zeros)

`length` is odd, so there is never a tie. Trivial baseline: always answering the more
frequent training label scores its share of test, about 0.5 (TaskData.trivial_baseline holds
the exact share). Doing better needs a count over the whole sequence: a model that reads only
the last R tokens (examples/my_model.py) sees a majority of a window, which agrees with the
whole-sequence answer less often as `length` grows past R.

A task is one small file: a seeded generator per split (tasks.base.generated_splits gives
each split its own stream), the output kind, a version and this docstring.
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, constant_guess_share, generated_splits, register_task, require

VERSION = 1
DEFAULTS = {"length": 15, "n_train": 2000, "n_val": 200, "n_test": 400}
PAD, ZERO, ONE = 0, 1, 2


def _validate(v: dict) -> None:
    require(v["length"] >= 1 and v["length"] % 2 == 1, "majority: length must be odd and >= 1 (no ties)")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "majority: every split needs >= 1 example")


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    bits = torch.randint(0, 2, (n, v["length"]), generator=gen)  # (N, T)
    labels = (2 * bits.sum(dim=1) > v["length"]).long()  # (N,) 1 when ones are the majority
    return Split(inputs=bits + ZERO, lengths=torch.full((n,), v["length"]), targets=labels)


@register_task("majority", family="counting", version=VERSION, defaults=DEFAULTS, validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    splits = generated_splits("majority", variant, seed, _split)
    return TaskData(**splits, output="sequence", n_classes=2, vocab_size=3,
                    trivial_baseline=constant_guess_share(splits["train"].targets, splits["test"].targets))


def describe(split: Split, i: int, variant: dict) -> dict:
    """`bench sample majority`: the bits as text, the label as a word."""
    bits = (split.inputs[i] - ZERO).tolist()
    return {"input": " ".join(map(str, bits)), "target": int(split.targets[i]),
            "ones": sum(bits), "answer": "mostly ones" if int(split.targets[i]) else "mostly zeros"}


build.__doc__ = __doc__
