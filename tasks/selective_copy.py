"""selective_copy (long-range memory, content-aware): MAD's selective copying (Poli et al. 2024).

`n_copy` data tokens (symbols drawn with replacement from `n_symbols`) are scattered among
filler tokens over the first `seq_len - n_copy - 1` positions; then a COPY delimiter and
`n_copy` blanks, during which the model must output the data tokens in their order. Unlike
`copy`, where the symbols are always at the start, the model must notice *which* tokens are
data. Total length `seq_len`; only the last `n_copy` positions are scored (K = n_copy).

This follows MAD's `generate_copying_instance(selective=True)` layout (data + blanks, copy
token, n_copy blanks; MAD's vocab 16 = 14 symbols + blank + copy, so `n_symbols` = 14),
with two documented differences: the data positions are a uniformly random `n_copy`-subset
of the filler region (MAD inserts blanks with an unseeded `np.random.randint` that never puts
one after the last data token), and `n_noise` > 1 draws the filler from that many noise
tokens instead of MAD's single blank (default 1: MAD's form).

Worked example (seq_len=12, n_copy=3; data a..n, `_` blank filler, `>` COPY):

    input:  _ c _ _ a _ _ a > _ _ _
    target at positions 9, 10, 11: c a a

Trivial baseline: a constant guess scores 1 / n_symbols (0.0714 at 14 symbols).
MAD's variants: (seq_len 256, copy 16), harder (512, 32), (1024, 64). Token ids: 0 pad,
1 COPY, 2 blank (also the first noise token), then noise tokens, then the symbols.
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, generated_splits, register_task, require

VERSION = 1
DEFAULTS = {"seq_len": 256, "n_copy": 16, "n_symbols": 14, "n_noise": 1,
            "n_train": 12800, "n_val": 1280, "n_test": 1280}
PAD, COPY, BLANK = 0, 1, 2
MAX_LENGTH = 1 << 16


def _validate(v: dict) -> None:
    require(v["n_copy"] >= 1, f"selective_copy: n_copy must be >= 1, got {v['n_copy']}")
    require(2 * v["n_copy"] + 1 < v["seq_len"] <= MAX_LENGTH,
            f"selective_copy: need 2 * n_copy + 1 < seq_len <= {MAX_LENGTH} "
            f"(some filler between the data), got seq_len={v['seq_len']}, n_copy={v['n_copy']}")
    require(v["n_symbols"] >= 2, f"selective_copy: n_symbols must be >= 2, got {v['n_symbols']}")
    require(v["n_noise"] >= 1, f"selective_copy: n_noise must be >= 1, got {v['n_noise']}")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1,
            "selective_copy: every split needs >= 1 example")


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    length, m = v["seq_len"], v["n_copy"]
    region = length - m - 1  # positions that hold data or filler
    symbol0 = BLANK + v["n_noise"]
    symbols = torch.randint(0, v["n_symbols"], (n, m), generator=gen)  # (N, m) classes
    # data positions: a uniform m-subset of the region, in increasing order
    where = torch.rand(n, region, generator=gen).topk(m, dim=1).indices.sort(dim=1).values
    inputs = torch.randint(0, v["n_noise"], (n, length), generator=gen) + BLANK  # filler
    inputs.scatter_(1, where, symbols + symbol0)
    inputs[:, region] = COPY
    inputs[:, region + 1:] = BLANK
    positions = torch.arange(region + 1, length).expand(n, m).clone()
    return Split(inputs=inputs, lengths=torch.full((n,), length), targets=symbols,
                 positions=positions)


@register_task("selective_copy", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    return TaskData(
        **generated_splits("selective_copy", variant, seed, _split),
        output="token", n_classes=variant["n_symbols"],
        vocab_size=BLANK + variant["n_noise"] + variant["n_symbols"],
        trivial_baseline=1.0 / variant["n_symbols"],
    )


def symbol_name(c: int) -> str:
    """Symbol class -> name: a..z, then s26, s27, ..."""
    return chr(ord("a") + c) if c < 26 else f"s{c}"


def readable(ids, variant: dict) -> list[str]:
    """Token ids -> names: '_' blank, 'n<k>' other noise, '>' COPY, symbols a, b, c, ..."""
    symbol0 = BLANK + variant["n_noise"]
    names = []
    for i in map(int, ids):
        if i == PAD:
            names.append("<pad>")
        elif i == COPY:
            names.append(">")
        elif i == BLANK:
            names.append("_")
        elif i < symbol0:
            names.append(f"n{i - BLANK}")
        else:
            names.append(symbol_name(i - symbol0))
    return names


def describe(split: Split, i: int, variant: dict) -> dict:
    length = int(split.lengths[i])
    return {"input": " ".join(readable(split.inputs[i, :length], variant)),
            "target": [symbol_name(int(c)) for c in split.targets[i]],
            "positions": split.positions[i].tolist()}


build.__doc__ = __doc__
