"""`bench speed`: training throughput, inference latency, memory and the share of the
machine's GEMM peak against sequence length.

Every model at the budget (or at equal width), built as the training loop builds it, on
random tokens (full or ragged batches), its repeats interleaved with the other models' and
a large matmul's; rows are merged into DIR/speed.csv (see bench.probes.speed for the
metrics and the schema). `--preset cpu` is `make speed`: the four passes of
bench.probes.speed.cpu_sweep.
"""
from __future__ import annotations

from pathlib import Path

from bench.execute.store import read_probe, write_probe
from bench.models import MODELS
from bench.probes.speed import SpeedConfig, cpu_sweep, measure
from bench.probes.speed_table import merge, summary
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
    parser.add_argument("--width-rule", choices=["params", "width"], default="params",
                        help="params: equal core parameters (the budget); width: every model at --width")
    parser.add_argument("--width", type=int, default=128, help="the width for --width-rule width")
    parser.add_argument("--batch-kind", choices=["full", "ragged"], default="full",
                        help="full-length sequences, or ragged ones with real IMDB lengths")
    parser.add_argument("--max-call-s", type=float, default=None,
                        help="a first call slower than this is recorded as too_slow")
    parser.add_argument("--preset", choices=["cpu"], default=None,
                        help="cpu: the committed CPU sweep (lengths 64..4096, equal params and width, "
                             "full and ragged, 1 and 2 threads); other flags then only pick models/repeats")
    parser.add_argument("--out", default="runs/speed", help="folder for speed.csv")


def configs_from_args(args) -> list[SpeedConfig]:
    device = resolve_device(args.device)
    for model in args.model:
        MODELS[model]  # noqa: B018 - loud lookup
    models = tuple(args.model or MODELS.names())
    if args.preset == "cpu":
        if device != "cpu":
            raise ValueError("--preset cpu measures the CPU; drop --device or pass --device cpu")
        return cpu_sweep(models, repeats=args.repeats if args.repeats != 10 else 3)
    return [SpeedConfig(models=models,
                       lengths=int_list(args.lengths, "--lengths"), batches=int_list(args.batch, "--batch"),
                       budget_params=count(args.budget_params), d_embed=args.d_embed, layers=args.layers,
                       heads=args.heads, vocab=args.vocab, device=device,
                       dtype=args.dtype or ("bf16" if device == "cuda" else "fp32"),
                       repeats=args.repeats, warmup=args.warmup, compile=args.compile,
                       width_rule=args.width_rule, width=args.width, batch_kind=args.batch_kind,
                       threads=args.threads, max_call_s=args.max_call_s)]


def main(args) -> int:
    if args.threads < 0:
        raise ValueError(f"--threads must be >= 0, got {args.threads}")
    configs = configs_from_args(args)  # every check before any measuring
    out = Path(args.out)
    for config in configs:  # each pass is merged into speed.csv as soon as it ends
        frame = measure(config)
        write_probe(out, "speed.csv", merge(read_probe(out, "speed.csv"), frame))
        print()
        print(summary(frame))
    print(f"\n-> {out / 'speed.csv'}")
    return 0
