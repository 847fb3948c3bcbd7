"""adding (long-range regression): the adding problem (Hochreiter & Schmidhuber 1997; TCN).

Each step carries two features: a value drawn from U[0, 1] and a marker that is 1 at exactly
two positions and 0 elsewhere. The target, read from the pooled state at the end, is the sum
of the two marked values. Loss and primary metric: MSE. `accuracy` is the share of answers
within `TaskData.tolerance` (0.04) of the target.

Where the markers go (`markers`):
- "halves" (default): one marker uniformly in the first half, one in the second half
  (positions [0, length // 2) and [length // 2, length)), the form of Arjovsky et al. 2016
  and many later papers: the first marked value always lies at least ~length / 2 back.
- "uniform": two distinct positions anywhere, which is what TCN's released generator does
  (`adding_problem/utils.py`: `np.random.choice(seq_length, 2, replace=False)`). Use it for
  the TCN anchor (length 600, 50K train / 1K test).

Worked example (length=6, halves; each step is (value, marker)):

    input:  (0.31, 0) (0.72, 1) (0.05, 0) (0.44, 0) (0.90, 1) (0.18, 0)
    target: 0.72 + 0.90 = 1.62

Trivial baseline: always predicting 1 (the mean) gives MSE = Var(U1 + U2) = 1/6 = 0.1667
(the literature quotes 0.1767, from Le et al. 2015); its accuracy, P(|U1 + U2 - 1| < 0.04)
= 2(0.04) - 0.04^2 = 0.0784, is the best constant guess's (1 is the mode of the sum).
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, generated_splits, register_task, require

VERSION = 1
DEFAULTS = {"length": 200, "markers": "halves", "n_train": 10000, "n_val": 1000, "n_test": 1000}
MARKERS = ("halves", "uniform")
TOLERANCE = 0.04
TRIVIAL_MSE = 1.0 / 6.0  # always predicting 1
MAX_LENGTH = 1 << 16


def _validate(v: dict) -> None:
    require(2 <= v["length"] <= MAX_LENGTH, f"adding: length must be in [2, {MAX_LENGTH}], got {v['length']}")
    require(v["markers"] in MARKERS,
            f"adding: markers must be one of {', '.join(MARKERS)}, got {v['markers']!r}")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "adding: every split needs >= 1 example")


def _marker_positions(v: dict, n: int, gen: torch.Generator) -> torch.Tensor:
    """(N, 2) distinct marked positions."""
    length = v["length"]
    if v["markers"] == "halves":
        half = length // 2
        first = torch.randint(0, half, (n,), generator=gen)
        second = torch.randint(half, length, (n,), generator=gen)
        return torch.stack([first, second], dim=1)
    # two distinct positions, every pair equally likely
    first = torch.randint(0, length, (n,), generator=gen)
    second = torch.randint(0, length - 1, (n,), generator=gen)
    second = second + (second >= first).long()  # skip over the first
    return torch.stack([first, second], dim=1)


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    length = v["length"]
    values = torch.rand(n, length, generator=gen)  # (N, T) in [0, 1)
    marked = _marker_positions(v, n, gen)  # (N, 2)
    marker = torch.zeros(n, length)
    marker.scatter_(1, marked, 1.0)
    inputs = torch.stack([values, marker], dim=2)  # (N, T, 2)
    targets = values.gather(1, marked).sum(dim=1)  # (N,)
    return Split(inputs=inputs, lengths=torch.full((n,), length), targets=targets)


@register_task("adding", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    return TaskData(
        **generated_splits("adding", variant, seed, _split),
        output="regression", n_classes=1, vocab_size=None, n_features=2,
        tolerance=TOLERANCE, trivial_baseline=2 * TOLERANCE - TOLERANCE ** 2,
    )


def describe(split: Split, i: int, variant: dict) -> dict:
    """One example: the (value, marker) steps, the marked positions and the target sum."""
    steps = split.inputs[i].tolist()  # (T, 2)
    return {"input": [[value, int(mark)] for value, mark in steps],
            "target": float(split.targets[i]),
            "marked": [t for t, (_, mark) in enumerate(steps) if mark == 1.0]}


build.__doc__ = __doc__
