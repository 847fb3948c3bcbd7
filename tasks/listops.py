"""listops (hierarchical, long): ListOps as Long Range Arena generates it (Tay et al. 2020).

A nested expression over the digits 0-9 with four operators: MIN, MAX, MED (the median,
int() of it: the lower-middle mean rounded down), SM (sum mod 10). The label is its value
(10 classes), read from the pooled state of the whole sequence (output "sequence").

Generator: LRA's `generate_tree` (lra_benchmarks/data/listops.py): a node is an operator
with probability 0.25 (always a value at `max_depth`), an operator takes 2..`max_args`
arguments; a tree is kept when `min_len < length < max_len` (strict, as LRA), where length
counts values, operators and closing brackets (LRA's token count; its "( )" grouping
parentheses are not counted and not emitted). LRA: max_depth 10, max_args 10, 500 < length
< 2000, 96K / 2K / 2K train / val / test; `min_len`, `max_len` and the split sizes are knobs
so tests and CPU runs can use short ones (e.g. 20-60).

Better than LRA on its three known defects: it is seeded (same seed, same data); brackets
are kept as tokens (an early LRA tokenizer stripped them, making the task ambiguous); and
the splits are disjoint with no duplicates: test is drawn first, validation excludes test,
train excludes both (so test does not change with n_train or n_val).

Tokens, one per LRA token: the operator token carries its opening bracket ("[MIN", as in
LRA's files and the S4 pipeline), so a sequence is exactly `length` tokens long (< max_len)
and nothing is lost: every "[" opens an operator. Ids: 0 pad, 1-10 the digits 0-9, 11 [MIN,
12 [MAX, 13 [MED, 14 [SM, 15 ]. Sequences have their own lengths, padded on the right.

Worked example:

    input:  [MAX 2 9 [MIN 4 7 ] 0 ]
    label:  9        ([MIN 4 7 ] = 4; max(2, 9, 4, 0) = 9)
    also:   [SM 3 8 ] = 1;  [MED 1 5 2 9 ] = int(3.5) = 3

Trivial baseline: always answering the most frequent label of train; its accuracy on test
(about 0.2 at LRA's settings, where MAX and MIN pull answers towards 9 and 0).

Speed: pure Python, about 1-3 s per 1000 expressions of 500-2000 tokens on one core. Trees
come from fixed random streams of CHUNK kept trees each, so large variants are generated in
forked processes (one per core, up to 16) with the same result as one process, and cached
under tasks/ of the data cache (tasks.data.cache: $BENCH_CACHE or the platform cache),
keyed by (variant, seed, VERSION).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from tasks.base import Split, TaskData, register_task, require, seeded
from tasks.data.cache import cache_root

VERSION = 1
DEFAULTS = {"min_len": 500, "max_len": 2000, "max_depth": 10, "max_args": 10,
            "n_train": 96000, "n_val": 2000, "n_test": 2000}
OPERATORS = ("MIN", "MAX", "MED", "SM")
P_OPERATOR = 0.25  # LRA's VALUE_P: a node is an operator when random() <= 0.25
PAD, DIGIT0, OP0, CLOSE = 0, 1, 11, 15
VOCAB_SIZE = 16
NAMES = ["<pad>"] + [str(d) for d in range(10)] + [f"[{op}" for op in OPERATORS] + ["]"]
MAX_ATTEMPTS_PER_SAMPLE = 100_000  # a variant that (almost) never yields a tree fails loudly
CHUNK = 1000  # kept trees per random stream; streams are generated in parallel for big variants
MAX_WORKERS = 16
CACHE_DIR = cache_root() / "tasks"
CACHE_MIN_TOKENS = 2_000_000  # cache variants whose total size (samples x min_len) reaches this


def _validate(v: dict) -> None:
    require(1 <= v["min_len"] and v["min_len"] + 1 < v["max_len"] <= 1 << 16,
            f"listops: need 1 <= min_len and min_len + 1 < max_len <= 65536 (kept lengths are "
            f"strictly between), got min_len={v['min_len']}, max_len={v['max_len']}")
    require(2 <= v["max_depth"] <= 64, f"listops: max_depth must be in [2, 64], got {v['max_depth']}")
    require(2 <= v["max_args"] <= 1000, f"listops: max_args must be in [2, 1000], got {v['max_args']}")
    longest = 1  # the longest tree: every node an operator with max_args arguments
    for _ in range(v["max_depth"] - 1):
        longest = 2 + v["max_args"] * longest
    require(longest > v["min_len"], f"listops: max_depth={v['max_depth']} and max_args="
            f"{v['max_args']} allow at most {longest} tokens, not more than min_len={v['min_len']}")
    require(min(v["n_train"], v["n_val"], v["n_test"]) >= 1, "listops: every split needs >= 1 example")


# --- evaluation ---------------------------------------------------------------------------

def apply(op: int, args: list[int]) -> int:
    """Operator index (0 MIN, 1 MAX, 2 MED, 3 SM) applied to its argument values."""
    if op == 0:
        return min(args)
    if op == 1:
        return max(args)
    if op == 2:  # int(numpy.median(args)), as LRA: the mean of the middle pair, rounded down
        s, n = sorted(args), len(args)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) // 2
    return sum(args) % 10


def evaluate_ids(ids) -> int:
    """The value of one expression given as token ids (padding ignored)."""
    stack: list[tuple[int, list[int]]] = []
    result = None
    for t in map(int, ids):
        if t == PAD:
            continue
        if result is not None:
            raise ValueError("listops: tokens after the end of the expression")
        if OP0 <= t < OP0 + len(OPERATORS):
            stack.append((t - OP0, []))
            continue
        if DIGIT0 <= t < DIGIT0 + 10:
            value = t - DIGIT0
        elif t == CLOSE:
            if not stack or not stack[-1][1]:
                raise ValueError("listops: ']' without an open operator that has arguments")
            op, args = stack.pop()
            value = apply(op, args)
        else:
            raise ValueError(f"listops: unknown token id {t}")
        if stack:
            stack[-1][1].append(value)
        else:
            result = value
    if result is None or stack:
        raise ValueError("listops: incomplete expression")
    return result


_TOKEN = re.compile(r"\[\s*([A-Z]+)|\]|\d+|[()]|\S+")


def tokenize(text: str) -> list[int]:
    """An expression string -> token ids. Accepts LRA's file form too ('( ( [MIN 1 ) 2 ) ]')."""
    ids = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if match.group(1) is not None:
            if match.group(1) not in OPERATORS:
                raise ValueError(f"listops: unknown operator {match.group(1)!r} in {text!r}")
            ids.append(OP0 + OPERATORS.index(match.group(1)))
        elif token == "]":
            ids.append(CLOSE)
        elif token in "()":
            continue  # LRA's grouping parentheses carry nothing
        elif token.isdigit() and len(token) == 1:
            ids.append(DIGIT0 + int(token))
        else:
            raise ValueError(f"listops: unknown token {token!r} in {text!r} (values are 0-9)")
    return ids


def evaluate(text: str) -> int:
    """The value of an expression string, e.g. evaluate('[MAX 2 9 [MIN 4 7 ] 0 ]') == 9."""
    return evaluate_ids(tokenize(text))


def to_string(ids) -> str:
    """Token ids -> the expression string (LRA's form without its parentheses)."""
    return " ".join(NAMES[int(t)] for t in ids if int(t) != PAD)


# --- generation ---------------------------------------------------------------------------

class _TooLong(Exception):
    """The tree under construction reached max_len: reject it without finishing it."""


def _tree(rng: random.Random, depth: int, max_depth: int, max_args: int, max_len: int,
          out: list[int]) -> int:
    """Append one random subtree's ids to `out` (LRA's generate_tree); return its value."""
    if depth < max_depth and rng.random() <= P_OPERATOR:
        op = rng.randrange(len(OPERATORS))
        out.append(OP0 + op)
        args = [_tree(rng, depth + 1, max_depth, max_args, max_len, out)
                for _ in range(rng.randint(2, max_args))]
        out.append(CLOSE)
        if len(out) >= max_len:
            raise _TooLong
        return apply(op, args)
    value = rng.randrange(10)
    out.append(DIGIT0 + value)
    if len(out) >= max_len:
        raise _TooLong
    return value


def _stream_seed(seed: int, split: str, index: int) -> int:
    """The seed of random stream `index` of a split (drawn here, so workers run pure Python)."""
    gen = seeded(seed, f"listops/{split}/{index}")
    return int(torch.randint(0, 2 ** 62, (1,), generator=gen))


def _chunk(v: dict, stream_seed: int, count: int) -> list[tuple[bytes, int]]:
    """`count` kept trees (id bytes, value) from one random stream; they may repeat."""
    rng = random.Random(stream_seed)
    kept: list[tuple[bytes, int]] = []
    for _ in range(MAX_ATTEMPTS_PER_SAMPLE * (count + 10)):
        out: list[int] = []
        try:
            value = _tree(rng, 1, v["max_depth"], v["max_args"], v["max_len"], out)
        except _TooLong:
            continue
        if len(out) > v["min_len"]:
            kept.append((bytes(out), value))
            if len(kept) == count:
                return kept
    raise ValueError(f"listops: variant {v} keeps almost no trees ({len(kept)} of {count}); "
                     f"widen min_len..max_len")


def _map_chunks(jobs: list[tuple], parallel: bool) -> list[list[tuple[bytes, int]]]:
    """Run _chunk over jobs, in forked processes when `parallel` (same results either way).

    Fork, not spawn: a spawned child re-runs an unguarded main script; the forked children
    only run pure-Python `random`, never torch, so the parent's threads cannot bite them.
    """
    workers = min(len(jobs), os.cpu_count() or 1, MAX_WORKERS)
    if not parallel or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_chunk(*job) for job in jobs]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_chunk, *zip(*jobs, strict=True)))


def sample_split(v: dict, seed: int, split: str, n: int, seen: set[bytes],
                 parallel: bool = False) -> list[tuple[bytes, int]]:
    """n distinct kept trees for one split, none in `seen` (which they are added to).

    Trees come from fixed streams of CHUNK kept trees each, (seed, split, 0), (seed, split, 1),
    ..., merged in order and deduplicated, so the result does not depend on `parallel`.
    """
    kept: list[tuple[bytes, int]] = []
    index = 0
    while len(kept) < n:
        need = n - len(kept)
        jobs = [(v, _stream_seed(seed, split, index + j), min(CHUNK, need - j * CHUNK))
                for j in range(-(-need // CHUNK))]
        index += len(jobs)
        before = len(kept)
        for chunk in _map_chunks(jobs, parallel):
            for key, value in chunk:
                if len(kept) < n and key not in seen:
                    seen.add(key)
                    kept.append((key, value))
        if len(kept) == before:
            raise ValueError(f"listops: variant {v} has too few distinct expressions for "
                             f"{n} {split} examples (got {len(kept)}); widen min_len..max_len")
    return kept


def _generate(v: dict, seed: int, parallel: bool) -> dict[str, list[tuple[bytes, int]]]:
    seen: set[bytes] = set()
    trees = {}
    for name in ("test", "val", "train"):  # test first: it never depends on the other sizes
        trees[name] = sample_split(v, seed, name, v[f"n_{name}"], seen, parallel)
    return trees


def _pack(trees: list[tuple[bytes, int]]) -> dict[str, torch.Tensor]:
    """Flat uint8 ids + lengths + labels: compact for the cache."""
    flat = b"".join(key for key, _ in trees)
    return {"flat": torch.frombuffer(bytearray(flat), dtype=torch.uint8),
            "lengths": torch.tensor([len(key) for key, _ in trees], dtype=torch.long),
            "targets": torch.tensor([value for _, value in trees], dtype=torch.long)}


def _unpack(packed: dict[str, torch.Tensor], width: int) -> Split:
    lengths = packed["lengths"]
    inputs = torch.zeros(len(lengths), width, dtype=torch.long)
    inputs[torch.arange(width)[None, :] < lengths[:, None]] = packed["flat"].long()
    return Split(inputs=inputs, lengths=lengths.clone(), targets=packed["targets"].clone())


def _cache_path(v: dict, seed: int) -> Path:
    key = json.dumps({"variant": v, "seed": seed, "version": VERSION}, sort_keys=True)
    return CACHE_DIR / f"listops-v{VERSION}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


def packed_splits(v: dict, seed: int) -> dict[str, dict[str, torch.Tensor]]:
    """The three splits in packed form, from the cache when the variant is large."""
    big = (v["n_train"] + v["n_val"] + v["n_test"]) * v["min_len"] >= CACHE_MIN_TOKENS
    path = _cache_path(v, seed)
    if big and path.exists():
        try:
            return torch.load(path, weights_only=True)
        except Exception as error:  # a corrupt cache file is rebuilt, loudly
            print(f"warning: rebuilding listops cache {path}: {error}", file=sys.stderr)
    packed = {name: _pack(trees) for name, trees in _generate(v, seed, parallel=big).items()}
    if big:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(packed, tmp)
        os.replace(tmp, path)
    return packed


@register_task("listops", family="long_range", version=VERSION, defaults=DEFAULTS,
               validate=_validate)
def build(variant: dict, seed: int) -> TaskData:
    packed = packed_splits(variant, seed)
    width = max(int(p["lengths"].max()) for p in packed.values())  # one padded length for all
    splits = {name: _unpack(p, width) for name, p in packed.items()}
    majority = int(torch.bincount(splits["train"].targets, minlength=10).argmax())
    return TaskData(train=splits["train"], val=splits["val"], test=splits["test"],
                    output="sequence", n_classes=10, vocab_size=VOCAB_SIZE,
                    trivial_baseline=float((splits["test"].targets == majority).float().mean()))


def describe(split: Split, i: int, variant: dict) -> dict:
    """One example: the expression string, its label and its length in tokens."""
    length = int(split.lengths[i])
    return {"input": to_string(split.inputs[i, :length]), "target": int(split.targets[i]),
            "length": length}


build.__doc__ = __doc__
