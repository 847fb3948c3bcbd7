"""`bench params --budget-params N`: every model's width and parameter counts at a budget."""
from __future__ import annotations

import sys

import pandas as pd

from bench.grid import typed
from bench.models import MODELS
from bench.run.budget import solve
from bench.run.config import RunConfig

DEFAULTS = RunConfig(task="-", model="-")


def add_arguments(parser) -> None:
    parser.add_argument("--budget-params", type=typed("budget_params"), default=DEFAULTS.budget_params)
    parser.add_argument("--d-embed", type=typed("d_embed"), default=DEFAULTS.d_embed)
    parser.add_argument("--layers", type=typed("layers"), default=DEFAULTS.layers)
    parser.add_argument("--heads", type=typed("heads"), default=DEFAULTS.heads)
    parser.add_argument("--vocab", type=int, default=32, help="vocabulary size for the embedding")
    parser.add_argument("--classes", type=int, default=8, help="output classes for the head")
    parser.add_argument("--format", choices=["table", "csv"], default="table")


def table(budget: int, d_embed: int, layers: int, heads: int, vocab: int, classes: int) -> pd.DataFrame:
    if budget < 1:
        raise ValueError(f"--budget-params must be >= 1, got {budget}")
    embed, head = vocab * d_embed, d_embed * classes + classes
    rows = []
    for name in MODELS:
        sized = solve(name, budget, d_embed, layers, heads)
        rows.append({"model": name, "width": sized.width,
                     "ffn": sized.ffn if MODELS[name].has_ffn else None,
                     "params_core": sized.params_core, "params_embed": embed, "params_head": head,
                     "params_total": sized.params_core + embed + head,
                     "core_vs_budget": round(sized.params_core / budget - 1, 4)})
    return pd.DataFrame(rows)


def main(args) -> int:
    frame = table(args.budget_params, args.d_embed, args.layers, args.heads, args.vocab, args.classes)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        print(frame.to_string(index=False))
    return 0
