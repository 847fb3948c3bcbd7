"""mqar (associative recall): multi-query associative recall as in Zoology (Arora et al. 2023).

`n_kv` key-value pairs open the sequence (keys from the lower half of the vocabulary, values
from the upper half, keys distinct and values distinct within a sequence); every key is then
queried once, later in the sequence, and the model must answer the paired value at the query
position. Everything else is filler drawn uniformly from the whole vocabulary. Only the
`n_kv` answer positions are scored (K = n_kv). This follows Zoology's `_mqar` generator:

- the gap from the start of the query region to each query is drawn without replacement from
  a power law p(g) ~ (g + 1)^(power_a - 1), g = 0, 1, ... (Zoology's default power_a 0.01:
  most queries come soon after the context), and queries sit at even offsets;
- Zoology's `vocab_size > input_seq_len` assert is not needed here and not enforced;
- `random_non_queries` (Zoology's knob of that name): True fills the query region's other
  positions with random tokens from the whole vocabulary (harder: a filler can look like a
  key); False fills them with token 0, Zoology's blank (the easier form the standard CPU
  suite calibrates at; results/calibration).

Worked example (seq_len=16, n_kv=2, vocab=16; keys k1..k7, values v8..v15, filler `.`):

    input:  k2 v8 k4 v15 .  .  k4 .  .  .  .  .  k2 .  .  .
    target at position 6: v15, at position 12: v8

Trivial baseline: guessing one of the n_kv values seen in the context (without matching the
key) scores exactly 1 / n_kv (0.25 at the default n_kv=4), far above a constant guess
(1 / (vocab - vocab // 2) = 0.0078 at vocab 256); TaskData.trivial_baseline holds the larger.

Vocabulary: Zoology uses 8192; the default here is 256 so that small CPU tests train (the
embedding table is the same for every model and outside the parameter budget). Token ids:
0 pad (in a sequence only as the blank filler of random_non_queries=False), keys
1..vocab//2 - 1, values vocab//2..vocab - 1. Classes are
value ids minus vocab // 2.

Zoology's Figure 2 points, as variants: (seq_len, n_kv) = (64, 4), (128, 8), (256, 16), and
(512, 64) from its larger sweep.
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, constant_guess_share, generated_splits, register_task, require

VERSION = 3  # 3: random_non_queries; 2: trivial baseline = a guess among the context values
DEFAULTS = {"seq_len": 64, "n_kv": 4, "vocab": 256, "power_a": 0.01, "random_non_queries": True,
            "n_train": 20000, "n_val": 1000, "n_test": 3000}
PAD = 0
MAX_LENGTH = 1 << 16


def _validate(v: dict) -> None:
    require(v["seq_len"] % 2 == 0 and 4 <= v["seq_len"] <= MAX_LENGTH,
            f"mqar: seq_len must be even and in [4, {MAX_LENGTH}], got {v['seq_len']}")
    require(v["n_kv"] >= 1, f"mqar: n_kv must be >= 1, got {v['n_kv']}")
    require(4 * v["n_kv"] <= v["seq_len"],
            f"mqar: need 4 * n_kv <= seq_len (context plus a query slot per key), "
            f"got n_kv={v['n_kv']}, seq_len={v['seq_len']}")
    require(v["vocab"] >= 4 and v["n_kv"] <= v["vocab"] // 2 - 1,
            f"mqar: vocab {v['vocab']} has {v['vocab'] // 2 - 1} keys, fewer than n_kv={v['n_kv']}")
    require(0.0 < v["power_a"] <= 1.0, f"mqar: power_a must be in (0, 1], got {v['power_a']}")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "mqar: every split needs >= 1 example")


def _distinct(n: int, pool: int, k: int, gen: torch.Generator) -> torch.Tensor:
    """(N, k) distinct draws from range(pool) per row, every ordered k-subset equally likely.

    Small k against a large pool (Zoology's vocab 8192): draw rows with replacement and redraw
    every row that has a repeat (exact rejection sampling, cheap). Otherwise the top k of
    uniform noise, chunked to keep memory small.
    """
    if k * k <= 2 * pool:  # a row has no repeat with probability >= ~exp(-1)
        out = torch.randint(0, pool, (n, k), generator=gen)
        pending = torch.arange(n)  # rows still to check
        while len(pending):
            ordered = out[pending].sort(dim=1).values
            pending = pending[(ordered[:, 1:] == ordered[:, :-1]).any(dim=1)]
            out[pending] = torch.randint(0, pool, (len(pending), k), generator=gen)
        return out
    rows = max(1, (1 << 22) // pool)
    return torch.cat([torch.rand(min(rows, n - start), pool, generator=gen).topk(k, dim=1).indices
                      for start in range(0, n, rows)])


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    length, kv, vocab = v["seq_len"], v["n_kv"], v["vocab"]
    half = vocab // 2
    context = 2 * kv
    keys = _distinct(n, half - 1, kv, gen) + 1  # (N, kv) in [1, half)
    values = _distinct(n, vocab - half, kv, gen) + half  # (N, kv) in [half, vocab)
    # query gaps: distinct, power-law distributed, at even offsets of the query region
    space = (length - context) // 2
    weights = v["power_a"] * torch.arange(1, space + 1, dtype=torch.float64) ** (v["power_a"] - 1)
    rows = max(1, (1 << 22) // space)
    gaps = torch.cat([torch.multinomial(weights.expand(min(rows, n - start), space), kv,
                                        replacement=False, generator=gen)
                      for start in range(0, n, rows)])  # (N, kv)
    query_pos = context + 2 * gaps  # (N, kv) query positions; key i is asked at query_pos[:, i]

    inputs = torch.randint(1, vocab, (n, length), generator=gen)  # filler from the whole vocab
    if not v["random_non_queries"]:
        inputs[:, context:] = PAD  # Zoology's blank filler (token 0) between the queries
    inputs[:, 0:context:2] = keys
    inputs[:, 1:context:2] = values
    inputs.scatter_(1, query_pos, keys)
    order = query_pos.argsort(dim=1)  # score in sequence order
    positions = query_pos.gather(1, order)
    targets = (values - half).gather(1, order)  # (N, kv) value classes
    return Split(inputs=inputs, lengths=torch.full((n,), length), targets=targets,
                 positions=positions)


@register_task("mqar", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    n_values = variant["vocab"] - variant["vocab"] // 2
    splits = generated_splits("mqar", variant, seed, _split)
    # values are distinct within a sequence, so a uniform guess among the context's n_kv
    # values is right with probability 1 / n_kv at every query
    context_guess = 1.0 / variant["n_kv"]
    return TaskData(
        **splits, output="token", n_classes=n_values, vocab_size=variant["vocab"],
        trivial_baseline=max(context_guess, constant_guess_share(splits["train"].targets,
                                                                 splits["test"].targets)),
    )


def readable(ids, vocab: int) -> list[str]:
    """Token ids -> names: keys 'k<id>', values 'v<id>' (filler uses the same names)."""
    half = vocab // 2
    return ["<pad>" if int(i) == PAD else (f"k{int(i)}" if int(i) < half else f"v{int(i)}")
            for i in ids]


def describe(split: Split, i: int, variant: dict) -> dict:
    half = variant["vocab"] // 2
    length = int(split.lengths[i])
    return {"input": " ".join(readable(split.inputs[i, :length], variant["vocab"])),
            "target": [f"v{int(t) + half}" for t in split.targets[i]],
            "positions": split.positions[i].tolist()}


build.__doc__ = __doc__
