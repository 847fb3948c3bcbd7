"""`bench speed`: training throughput, inference latency and memory against sequence length.

Every model at the budget, built as the training loop builds it, on random tokens; rows are
merged into DIR/speed.csv (see bench.probes.speed for the metrics and the schema).
"""
from __future__ import annotations

from pathlib import Path

import torch

from bench.models import MODELS
from bench.probes.speed import SpeedConfig, measure, merge_write, summary
from bench.run.config import RunConfig, resolve_device

DEFAULTS = RunConfig(task="-", model="-")


def int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(float(part)) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if not values:
        raise ValueError(f"{flag} is empty")
    return values


def count(text: str) -> int:
    """An integer that may be written 1e6."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if value != int(value):
        raise ValueError(f"expected an integer, got {text!r}")
    return int(value)


def add_arguments(parser) -> None:
    parser.add_argument("--model", action="append", default=[], help="a model, repeatable (default: all)")
    parser.add_argument("--lengths", default="64,256,1024,4096", help="comma-separated sequence lengths")
    parser.add_argument("--batch", default="1,32,256", help="comma-separated batch sizes")
    parser.add_argument("--budget-params", default="1e6", help="params_core target (default 1e6)")
    parser.add_argument("--d-embed", type=int, default=DEFAULTS.d_embed)
    parser.add_argument("--layers", type=int, default=DEFAULTS.layers)
    parser.add_argument("--heads", type=int, default=DEFAULTS.heads)
    parser.add_argument("--vocab", type=int, default=32, help="vocabulary size of the random tokens")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default=None,
                        help="bf16 autocast or fp32 (default: bf16 on cuda, fp32 on cpu)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    parser.add_argument("--compile", action="store_true", help="torch.compile every model (off by default)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    parser.add_argument("--out", default="results/speed", help="folder for speed.csv")


def config_from_args(args) -> SpeedConfig:
    device = resolve_device(args.device)
    for model in args.model:
        MODELS[model]  # noqa: B018 - loud lookup
    return SpeedConfig(models=tuple(args.model or MODELS.names()),
                       lengths=int_list(args.lengths, "--lengths"), batches=int_list(args.batch, "--batch"),
                       budget_params=count(args.budget_params), d_embed=args.d_embed, layers=args.layers,
                       heads=args.heads, vocab=args.vocab, device=device,
                       dtype=args.dtype or ("bf16" if device == "cuda" else "fp32"),
                       repeats=args.repeats, warmup=args.warmup, compile=args.compile)


def main(args) -> int:
    if args.threads < 0:
        raise ValueError(f"--threads must be >= 0, got {args.threads}")
    config = config_from_args(args)  # every check before any measuring
    if args.threads:
        torch.set_num_threads(args.threads)
    frame = measure(config)
    out = Path(args.out)
    merge_write(out, frame)
    print()
    print(summary(frame))
    print(f"\n{len(frame)} rows -> {out / 'speed.csv'}")
    return 0
