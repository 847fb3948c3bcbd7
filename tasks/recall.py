"""recall (long-range dependency): a fact at the start, recalled after `distance` tokens.

The synthetic form of "Jane was born in Kerala ... (many words) ... Jane speaks ___".
Each sequence holds `n_pairs` key/value pairs, then exactly `distance` distractor tokens
drawn from their own noise vocabulary, then a QUERY marker and one of the keys; the model
must answer that key's value at the position of that key. Where the fact sits is random:
`slack` more noise tokens are split at random between the start (before the pairs) and the
end (after the query), so every sequence of a variant has the same length
(2 n_pairs + distance + 2 + slack) and the same exact distance, but neither the fact nor the
query sits at a fixed position: a model with absolute positions cannot read a fixed slot.

Worked example (n_pairs=2, distance=4, slack=3; tokens written by role):

    input:  n5 n1 k3 v5 k1 v2  n0 n7 n2 n2  QUERY  k3  n4
    target at the position of the queried key (11): v5

Two abilities, two variants. n_pairs=1 is a pure memory task (nothing to match: the key is
redundant), the form of the textbook claim "a plain RNN forgets over distance"; its trivial
baseline is the best guess without memory, the most frequent training value (1 / n_values
= 0.125 at n_values=8). n_pairs >= 2 is associative recall (the key must be matched); its
trivial baseline is the best guess that ignores the key, i.e. the most frequent value among
the context's pairs, computed on the test split (about 0.56 at n_pairs=2, 0.41 at the
default n_pairs=4). Both are recorded with every run: `trivial_baseline` (the one for the
variant) and `no_memory_baseline`.
Token ids: 0 pad, 1 QUERY, then keys, values, noise.
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, constant_guess_share, generated_splits, register_task, require

VERSION = 3  # 3: the fact at a random position (`slack` noise split around it); 2: n_pairs 4, key-blind baseline
DEFAULTS = {"distance": 32, "n_pairs": 4, "n_keys": 8, "n_values": 8, "n_noise": 16, "slack": 16,
            "n_train": 8000, "n_val": 500, "n_test": 1000}
PAD, QUERY = 0, 1


def _validate(v: dict) -> None:
    require(v["distance"] >= 0, "recall: distance must be >= 0")
    require(v["slack"] >= 0, "recall: slack must be >= 0")
    require(1 <= v["n_pairs"] <= v["n_keys"], "recall: need 1 <= n_pairs <= n_keys")
    require(v["n_values"] >= 2 and v["n_noise"] >= 1, "recall: need n_values >= 2, n_noise >= 1")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "recall: every split needs >= 1 example")


def _split(v: dict, n: int, gen: torch.Generator) -> Split:
    p, d, slack = v["n_pairs"], v["distance"], v["slack"]
    key0, val0 = 2, 2 + v["n_keys"]
    noise0 = val0 + v["n_values"]
    # distinct keys per sequence: the first p of a random permutation
    keys = torch.rand(n, v["n_keys"], generator=gen).argsort(dim=1)[:, :p] + key0  # (N, p)
    values = torch.randint(0, v["n_values"], (n, p), generator=gen) + val0  # (N, p)
    asked = torch.randint(0, p, (n, 1), generator=gen)  # (N, 1) which pair is queried
    pairs = torch.stack([keys, values], dim=2).reshape(n, 2 * p)  # k0 v0 k1 v1 ...
    query = torch.cat([torch.full((n, 1), QUERY), keys.gather(1, asked)], dim=1)  # (N, 2)
    body = 2 * p + d + 2  # pairs, the distance, QUERY key
    length = body + slack
    inputs = torch.randint(0, v["n_noise"], (n, length), generator=gen) + noise0  # (N, T) all noise first
    start = torch.randint(0, slack + 1, (n, 1), generator=gen)  # (N, 1) noise tokens before the pairs
    columns = start + torch.arange(body)[None, :]  # (N, body) where the body lands in each row
    middle = inputs.gather(1, columns)[:, 2 * p: 2 * p + d]  # (N, d) the distractors (noise already)
    inputs.scatter_(1, columns, torch.cat([pairs, middle, query], dim=1))
    return Split(inputs=inputs, lengths=torch.full((n,), length),
                 targets=values.gather(1, asked) - val0,  # (N, 1) value class
                 positions=start + body - 1)  # (N, 1) the queried key's position


@register_task("recall", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    splits = generated_splits("recall", variant, seed, _split)
    no_memory = constant_guess_share(splits["train"].targets, splits["test"].targets)
    return TaskData(
        **splits, output="token", n_classes=variant["n_values"],
        vocab_size=2 + variant["n_keys"] + variant["n_values"] + variant["n_noise"],
        trivial_baseline=no_memory if variant["n_pairs"] == 1 else key_blind_share(splits["test"], variant),
        baselines={"no_memory_baseline": no_memory},
    )


def key_blind_share(split: Split, variant: dict) -> float:
    """Expected accuracy of answering the most frequent value among the context's pairs
    (ignoring the key): the asked pair is uniform, so it is right with probability
    count(mode) / n_pairs."""
    p = variant["n_pairs"]
    first = split.positions - (2 * p + variant["distance"] + 1)  # (N, 1) where k0 sits
    values = split.inputs.gather(1, first + torch.arange(1, 2 * p, 2)[None, :])  # (N, p) v0 v1 ...
    counts = (values[:, :, None] == values[:, None, :]).sum(-1)  # (N, p) how often each value occurs
    return float((counts.max(dim=1).values.float() / p).mean())


build.__doc__ = __doc__
