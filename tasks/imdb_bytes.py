"""imdb_bytes (sentiment): IMDB review polarity read one UTF-8 byte at a time.

Like Long Range Arena's Text task: no tokenizer, long inputs, so the model must build
words and sentiment from bytes across up to `max_len` steps. Same cleaned, de-duplicated,
fixed split as `imdb` (no original train/test split exists in the source; ours is
seed-independent, about half test, val from the training half). Each review's UTF-8 bytes
are cut to the first `max_len`, id = byte + 1 (so 0 stays padding), right-padded with 0.

Worked example (max_len=8):

    text:   "Great!"  -> bytes 71 114 101 97 116 33
    input:  72 115 102 98 117 34 0 0      lengths: 6
    label:  1 (positive; negative is 0)

Trivial baseline: always answering the majority class of test scores its share, about
0.50; TaskData.trivial_baseline holds the exact share.

Knobs: `max_len` (1000; LRA also uses 2000 and 4000), `n_train` (0 = all; else a random
subset that the seed picks), `n_val` / `n_test` (0 = all; else the first n of the fixed
order, the same for every seed), `source` (wheel, hub, csv).
"""
from __future__ import annotations

import numpy as np
import torch

from tasks.base import Split, TaskData, register_task, require
from tasks.data.imdb import SOURCES, load_imdb
from tasks.imdb import sentiment_data

VERSION = 1
DEFAULTS = {"max_len": 1000, "n_train": 0, "n_val": 0, "n_test": 0, "source": "wheel"}
VOCAB = 257  # 0 pad, then byte b -> b + 1


def _validate(v: dict) -> None:
    require(8 <= v["max_len"] <= 16384, "imdb_bytes: max_len must be in [8, 16384] (1000, 2000, 4000 usual)")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 0,
            "imdb_bytes: n_train/n_val/n_test must be >= 0 (0 = all)")
    require(v["source"] in SOURCES, f"imdb_bytes: source must be one of {', '.join(SOURCES)}")


def byte_ids(texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """texts -> (inputs (N, max_len) int64 = byte + 1, 0-padded on the right; lengths (N,))."""
    inputs = np.zeros((len(texts), max_len), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        raw = np.frombuffer(text.encode("utf-8")[:max_len], dtype=np.uint8)
        inputs[row, : len(raw)] = raw.astype(np.int64) + 1
        lengths[row] = len(raw)
    if (lengths < 1).any():
        raise ValueError("imdb_bytes: an empty review; every review must keep >= 1 byte")
    return torch.from_numpy(inputs), torch.from_numpy(lengths)


@register_task("imdb_bytes", family="sentiment", version=VERSION, defaults=DEFAULTS,
               validate=_validate, needs_data=True)
def build(variant: dict, seed: int) -> TaskData:
    prepared = load_imdb(variant["source"])

    def to_split(name: str) -> Split:
        table = prepared.splits[name].with_format("arrow")[:]
        inputs, lengths = byte_ids(table.column("text").to_pylist(), variant["max_len"])
        labels = torch.from_numpy(table.column("label").to_numpy().astype("int64"))
        return Split(inputs=inputs, lengths=lengths, targets=labels)

    return sentiment_data(to_split, variant, seed, "imdb_bytes", VOCAB)


build.__doc__ = __doc__
