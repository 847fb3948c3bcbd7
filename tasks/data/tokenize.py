"""Tokenizers trained on the training split only, and token ids cached per split.

Two kinds, both lower-cased and accent-stripped, both with [PAD]=0, [UNK]=1, [MASK]=2:

- ``bpe``: subword BPE (imdb); a word-start marker keeps word boundaries.
  "Unwatchable, a waste!" -> ["▁unwatchable", ",", "▁a", "▁waste", "!"] (rare words split
  further, e.g. "▁un", "watch", "able").
- ``word``: one id per whole word (contractions kept whole) or punctuation run, the most
  frequent training words first, ties by spelling (cloze, where the hidden word must be
  exactly one position). "Don't stop..." -> ["don't", "stop", "..."].

Why BPE and not WordPiece: `tokenizers`' WordPiece trainer is not deterministic (the same
text gives slightly different vocabularies from run to run, huggingface/tokenizers#1794:
its '##' pieces get ids in hash-map order, which then break count ties). BPE without a
continuing-subword prefix and the word-level trainer are deterministic; tests check it.

Both are ``transformers.PreTrainedTokenizerFast`` saved under the prepared split folder,
keyed by the training split's content hash and the settings; ids of every split are made
once with ``datasets.map(batched=True)`` and cached as Arrow files beside the tokenizer.
Val and test text never reaches the trainer, so a word seen only in test is not in the
vocabulary.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from tasks.base import LazyModule
from tasks.data.imdb import SPLITS, Prepared

datasets = LazyModule("datasets")
transformers = LazyModule("transformers")

TOKENIZER_VERSION = 2  # bump when the tokenizer recipe changes: the cache key includes it
KINDS = ("bpe", "word")
PAD, UNK, MASK = 0, 1, 2
SPECIALS = ["[PAD]", "[UNK]", "[MASK]"]


def _untrained(kind: str) -> tuple[Tokenizer, trainers.Trainer]:
    if kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
        # split at spaces with a '▁' word-start marker, then split off punctuation
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(),
                                                           pre_tokenizers.Punctuation()])
        tokenizer.decoder = decoders.Metaspace()
        make = trainers.BpeTrainer
    elif kind == "word":
        tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
        # words with their apostrophes ("doesn't" is one word, not "doesn ' t": the clitic
        # "t" would be a trivially guessed cloze answer), or runs of punctuation
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex(r"\w+(?:['\u2019]\w+)*|[^\w\s]+"), "isolated")])
        make = trainers.WordLevelTrainer
    else:
        raise ValueError(f"unknown tokenizer kind {kind!r}; valid: {', '.join(KINDS)}")
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(),
                                                 normalizers.StripAccents()])
    return tokenizer, make


def _folder(prepared: Prepared, kind: str, vocab_size: int) -> Path:
    train_hash = prepared.meta["hashes"]["train"]
    return prepared.path / f"tok-{kind}-{vocab_size}-{train_hash}-v{TOKENIZER_VERSION}"


def get_tokenizer(prepared: Prepared, kind: str = "bpe", vocab_size: int = 16000,
                  progress: bool = True) -> "transformers.PreTrainedTokenizerFast":
    """The tokenizer trained on prepared's train split (cached; trained on first use).

    vocab_size counts the three special tokens; a small training set may give fewer.
    """
    if vocab_size < 16:
        raise ValueError(f"vocab_size must be >= 16, got {vocab_size}")
    folder = _folder(prepared, kind, vocab_size)
    if not (folder / "tokenizer.json").exists():
        tokenizer, make = _untrained(kind)
        # the trainer's own bar writes to stdout, which carries the CLI's hashes: tty only
        trainer = make(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=2,
                       show_progress=progress and sys.stdout.isatty())
        texts = prepared.splits["train"]["text"]  # the training split only
        tokenizer.train_from_iterator((texts[i: i + 1000] for i in range(0, len(texts), 1000)),
                                      trainer, length=len(texts))
        if [tokenizer.token_to_id(s) for s in SPECIALS] != [PAD, UNK, MASK]:
            raise RuntimeError("tokenizer special ids moved; pad must stay 0")
        wrapped = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]",
                                          unk_token="[UNK]", mask_token="[MASK]")
        tmp = Path(tempfile.mkdtemp(dir=prepared.path, prefix=".tok-"))
        try:
            wrapped.save_pretrained(str(tmp))
            os.replace(tmp, folder)  # atomic: a half-written tokenizer is never found
        except OSError:
            if not (folder / "tokenizer.json").exists():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return transformers.PreTrainedTokenizerFast.from_pretrained(str(folder))


def token_ids(prepared: Prepared, kind: str = "bpe", vocab_size: int = 16000,
              progress: bool = True) -> tuple["transformers.PreTrainedTokenizerFast", "datasets.DatasetDict"]:
    """(tokenizer, splits with columns input_ids (all tokens, untruncated) and label)."""
    tokenizer = get_tokenizer(prepared, kind, vocab_size, progress)
    folder = _folder(prepared, kind, vocab_size)

    def encode(batch):
        # the Rust backend without offsets: the same ids as tokenizer(...), ~30% faster
        done = tokenizer.backend_tokenizer.encode_batch_fast(batch["text"], add_special_tokens=False)
        return {"input_ids": [e.ids for e in done]}

    if not progress:
        datasets.disable_progress_bars()
    try:
        out = datasets.DatasetDict({
            name: prepared.splits[name].map(
                encode, batched=True, batch_size=1000, remove_columns=["text"],
                cache_file_name=str(folder / f"ids-{name}.arrow"), load_from_cache_file=True,
                desc=f"tokenize {name} ({kind})")
            for name in SPLITS})
    finally:
        if not progress:
            datasets.enable_progress_bars()
    return tokenizer, out


def tokenizer_hash(tokenizer: "transformers.PreTrainedTokenizerFast") -> str:
    """sha256 of the tokenizer's full definition (vocabulary, merges, settings), 16 hex digits."""
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()[:16]


def pad_ids(column: pa.ChunkedArray | pa.ListArray, max_len: int,
            keep: str = "head") -> tuple[torch.Tensor, torch.Tensor]:
    """A list-of-ids Arrow column -> (inputs (N, max_len) int64 right-padded with 0, lengths
    (N,) int64). A longer sequence keeps its first max_len ids (keep="head") or its last
    (keep="tail": a review's verdict often comes at its end). Vectorized over the offsets."""
    if keep not in ("head", "tail"):
        raise ValueError(f"keep must be 'head' or 'tail', got {keep!r}")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    offsets = column.offsets.to_numpy().astype(np.int64)  # (N + 1,)
    values = column.flatten().to_numpy().astype(np.int64)
    full = offsets[1:] - offsets[:-1]  # (N,) ids per sequence before truncation
    lengths = np.minimum(full, max_len)  # (N,)
    starts = offsets[:-1] - offsets[0] + (full - lengths if keep == "tail" else 0)
    if (lengths < 1).any():
        raise ValueError("an empty token sequence: every review must keep >= 1 token")
    col = np.arange(max_len)[None, :]  # (1, T)
    inside = col < lengths[:, None]  # (N, T)
    source = np.where(inside, starts[:, None] + col, 0)
    inputs = np.where(inside, values[source] if len(values) else 0, PAD)
    return torch.from_numpy(inputs.astype(np.int64)), torch.from_numpy(lengths.astype(np.int64))
