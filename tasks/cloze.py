"""cloze (bidirectional): the hidden middle word of a window of a real IMDB review.

A window of `window` words (word-level tokens, see tasks/data/tokenize.py) is cut from a
review; its middle word, at position window // 2, is replaced by MASK and must be named
among the `k` most frequent whole (alphabetic) words of the training split. Only windows
whose middle word is one of those k are used (the middle is drawn among the eligible
positions). Words on both sides help: a left-only model reads the
mask having seen only the words before it; BiLSTM and the bidirectional Transformer also
read the words after it.

Worked example (window=8; a real test review: "... I enjoy watching bad movies like
"Plan 9 from Outer Space" but, this thing doesn't even fall into that category."):

    input:  like " plan 9 MASK outer space "      (8 word-level ids; MASK at position 4)
    target at position 4: "from" (its class: its rank among the k answer words)

Words are lower-cased; contractions stay whole ("doesn't"), punctuation runs are tokens.
Trivial baseline: always answering the most frequent training target ("the") scores its
share of the test targets: 0.080 at the defaults (0.118 at k=100);
TaskData.trivial_baseline holds it. A bigram baseline (the answer from the word just left of
the mask, counted on train) is recorded as `bigram_baseline`: a model below it has learned
less than a word-pair table.

Data: the fixed, seed-independent IMDB split (no original train/test split exists in the
source; see tasks/data/imdb.py). The vocabulary (`vocab_size` entries: PAD 0, UNK 1,
MASK 2, then words by training frequency) and the k answer words come from the training
split only. The seed picks the training windows (`per_review` per review, then `n_train`
of them, 0 = all); val and test take one fixed window per review (the same for every
seed), the first `n_val` / `n_test` (0 = all). Reviews shorter than `window` are skipped.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import torch
from tqdm import tqdm

from tasks.base import Split, TaskData, constant_guess_share, next_token_baseline, register_task, require, seeded
from tasks.data.imdb import SOURCES, load_imdb
from tasks.data.tokenize import MASK, token_ids
from tasks.imdb import take

VERSION = 2  # 2: records bigram_baseline
DEFAULTS = {"window": 32, "k": 1000, "vocab_size": 20000, "per_review": 2,
            "n_train": 0, "n_val": 0, "n_test": 0, "source": "wheel"}


def _validate(v: dict) -> None:
    require(4 <= v["window"] <= 1024, "cloze: window must be in [4, 1024]")
    require(2 <= v["k"] <= v["vocab_size"] - 3, "cloze: need 2 <= k <= vocab_size - 3")
    require(16 <= v["vocab_size"] <= 200_000, "cloze: vocab_size must be in [16, 200000]")
    require(v["per_review"] >= 1, "cloze: per_review must be >= 1")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 0,
            "cloze: n_train/n_val/n_test must be >= 0 (0 = all)")
    require(v["source"] in SOURCES, f"cloze: source must be one of {', '.join(SOURCES)}")


def answer_classes(tokenizer, k: int) -> tuple[np.ndarray, list[str]]:
    """(class of each token id, -1 if not an answer; the k answer words, most frequent first).

    The word-level vocabulary is in training-frequency order, so the first k alphabetic
    entries are the k most frequent whole words of the training split.
    """
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    words = [(token, i) for token, i in by_id if token.isalpha() and not token.startswith("[")][:k]
    if len(words) < k:
        raise ValueError(f"cloze: the training split has only {len(words)} whole words in the "
                         f"vocabulary, k={k} asked; lower k or raise vocab_size")
    classes = np.full(len(tokenizer), -1, dtype=np.int64)
    for rank, (_, i) in enumerate(words):
        classes[i] = rank
    return classes, [w for w, _ in words]


def windows(column: pa.ChunkedArray, classes: np.ndarray, window: int, per_review: int,
            rng: np.random.Generator, desc: str) -> Split:
    """Up to per_review masked windows from each review (a list-of-ids column)."""
    half = window // 2
    rows, targets = [], []
    for ids in tqdm(column.to_numpy(zero_copy_only=False), desc=desc, mininterval=2, leave=False):
        if len(ids) < window:
            continue
        middle = np.arange(half, len(ids) - (window - half) + 1)  # middles with a full window
        middle = middle[classes[ids[middle]] >= 0]  # whose word is one of the k answers
        if len(middle) == 0:
            continue
        for p in rng.choice(middle, size=min(per_review, len(middle)), replace=False):
            row = ids[p - half: p - half + window].astype(np.int64)
            targets.append(classes[row[half]])
            row[half] = MASK
            rows.append(row)
    if not rows:
        raise ValueError(f"cloze: no window of {window} words in {desc}; lower window")
    n = len(rows)
    return Split(inputs=torch.from_numpy(np.stack(rows)), lengths=torch.full((n,), window),
                 targets=torch.tensor(targets, dtype=torch.int64)[:, None],
                 positions=torch.full((n, 1), half))


def _rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng(seeded(seed, salt).initial_seed())


@register_task("cloze", family="bidirectional", version=VERSION, defaults=DEFAULTS,
               validate=_validate, needs_data=True)
def build(variant: dict, seed: int) -> TaskData:
    prepared = load_imdb(variant["source"])
    tokenizer, ids = token_ids(prepared, "word", variant["vocab_size"])
    classes, _ = answer_classes(tokenizer, variant["k"])
    w = variant["window"]

    def cut(name: str, per_review: int, rng: np.random.Generator) -> Split:
        column = ids[name].with_format("arrow")[:].column("input_ids")
        return windows(column, classes, w, per_review, rng, f"cloze windows {name}")

    # the seed picks training windows; val/test windows are fixed (salted with seed 0)
    train = take(cut("train", variant["per_review"], _rng(seed, "cloze/train")),
                 variant["n_train"], seeded(seed, "cloze/take"))
    val = take(cut("val", 1, _rng(0, "cloze/val")), variant["n_val"], None)
    test = take(cut("test", 1, _rng(0, "cloze/test")), variant["n_test"], None)
    # the best constant guess and the bigram table are fitted on train, scored on test
    return TaskData(train=train, val=val, test=test, output="token", n_classes=variant["k"],
                    vocab_size=len(tokenizer),
                    trivial_baseline=constant_guess_share(train.targets, test.targets),
                    baselines={"bigram_baseline": next_token_baseline(train, test)})


build.__doc__ = __doc__
