"""`bench sample TASK`: print a task's examples as JSON lines, to check a task by eye or script.

Each line: {"task", "split", "index", "input", "target", ...}. `input` is what the model
reads, in readable form (token names, the ListOps expression, (value, marker) steps, the
review text of imdb / imdb_bytes / cloze decoded with the task's own tokenizer);
`target` is the answer in the same names. A task module may define
``describe(split, i, variant) -> dict`` to supply these; otherwise raw ids and class ids are
printed (plus `positions` for token tasks). The data is built exactly as a run builds it
(same variant, same seed), so keep n_train small with --variant for a quick look at big tasks.

    python -m bench sample copy --variant lag=5 --n 2 --seed 0
    python -m bench sample listops --variant min_len=20 --variant max_len=40 --split test --n 3
"""
from __future__ import annotations

import functools
import importlib
import json

import tasks  # noqa: F401  (registers tasks)
from tasks.base import TASKS, Split, parse_variant_value
from tasks.cloze import answer_classes
from tasks.data.imdb import load_imdb
from tasks.data.tokenize import get_tokenizer

SPLITS = ("train", "val", "test")


def add_arguments(parser) -> None:
    parser.add_argument("task", help="a registered task (see `bench list`)")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="a task variant knob, repeatable")
    parser.add_argument("--n", type=int, default=5, help="examples to print (from the start of the split)")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument("--split", choices=SPLITS, default="train")
    parser.add_argument("--format", choices=["jsonl"], default="jsonl")


def generic(split: Split, i: int, variant: dict) -> dict:
    """Raw ids (or feature rows) and class ids, for a task without `describe`."""
    length = int(split.lengths[i])
    row = {"input": split.inputs[i, :length].tolist(), "target": split.targets[i].tolist()}
    if split.positions is not None:
        row["positions"] = split.positions[i].tolist()
    return row


@functools.lru_cache(maxsize=4)
def _tokenizer(source: str, kind: str, vocab_size: int):
    """The task's own tokenizer (trained on its training split, cached by tasks/data)."""
    return get_tokenizer(load_imdb(source), kind, vocab_size, progress=False)


def _ids(split: Split, i: int) -> list[int]:
    return split.inputs[i, : int(split.lengths[i])].tolist()


def _sentiment(label) -> str:
    return "positive" if int(label) == 1 else "negative"


def imdb_text(split: Split, i: int, variant: dict) -> dict:
    """imdb: the BPE ids decoded back to text (lower-cased, as the model reads it)."""
    ids = _ids(split, i)
    text = _tokenizer(variant["source"], "bpe", variant["vocab_size"]).decode(ids)
    return {"input": text, "target": _sentiment(split.targets[i]), "tokens": len(ids)}


def imdb_bytes_text(split: Split, i: int, variant: dict) -> dict:
    """imdb_bytes: ids are byte + 1; decoded as UTF-8 (a multi-byte character cut by
    max_len shows as U+FFFD)."""
    ids = _ids(split, i)
    text = bytes(b - 1 for b in ids).decode("utf-8", errors="replace")
    return {"input": text, "target": _sentiment(split.targets[i]), "bytes": len(ids)}


def cloze_text(split: Split, i: int, variant: dict) -> dict:
    """cloze: the window's words with [MASK] in place, and the hidden word as the target."""
    tokenizer = _tokenizer(variant["source"], "word", variant["vocab_size"])
    _, words = answer_classes(tokenizer, variant["k"])
    tokens = tokenizer.convert_ids_to_tokens(_ids(split, i))
    return {"input": " ".join(tokens), "target": words[int(split.targets[i, 0])],
            "positions": split.positions[i].tolist()}


TEXT = {"imdb": imdb_text, "imdb_bytes": imdb_bytes_text, "cloze": cloze_text}


def describer(task):
    """The task module's `describe`, then a text decoder for the real-text tasks, then generic."""
    module = importlib.import_module(task.build.__module__)
    return getattr(module, "describe", None) or TEXT.get(task.name, generic)


def parse_variant(task, items: list[str]) -> dict:
    variant = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--variant wants KEY=VALUE, got {item!r}; "
                             f"valid keys: {', '.join(sorted(task.defaults))}")
        key, raw = item.split("=", 1)
        variant[key] = parse_variant_value(task, key, raw)
    return task.variant(variant)


def rows(task_name: str, variant_items: list[str], n: int, seed: int, split_name: str):
    """The JSON-ready rows `bench sample` prints."""
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    task = TASKS[task_name]
    variant = parse_variant(task, variant_items)
    split = task.build(variant, seed).splits()[split_name]
    describe = describer(task)
    for i in range(min(n, len(split))):
        yield {"task": task_name, "split": split_name, "index": i, **describe(split, i, variant)}


def main(args) -> int:
    for row in rows(args.task, args.variant, args.n, args.seed, args.split):
        print(json.dumps(row))
    return 0
