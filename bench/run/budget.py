"""Solve each model's width so its core parameters match the budget.

`params_core` = encoder + projection to d_embed (everything but the input embedding and
the output head, which are the same size for every model). Widths are searched by
bisection over parameter counts of encoders built on the meta device (no memory). The
Transformer's FFN width is then turned to land closer still. Every model lands within
±5% of the budget for budgets from about 1e4 up; a budget too small for a model fails loudly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.models import MODELS, ModelSpec, count

TOLERANCE = 0.05


class BudgetError(ValueError):
    pass


@dataclass(frozen=True)
class Sized:
    model: str
    width: int
    ffn: int
    params_core: int


def core_params(spec: ModelSpec, d_embed: int, width: int, layers: int, heads: int, ffn: int,
                d_in: int | None = None) -> int:
    with torch.device("meta"):
        encoder = spec.build(d_in or d_embed, width, layers, 0.0, heads, ffn)
    state_dim = encoder.state_dim
    return count(encoder.parameters()) + state_dim * d_embed + d_embed  # + projection


def _bisect(fn, lo: int, hi: int, target: int) -> int:
    """Smallest x in [lo, hi] with fn(x) >= target (fn increasing), or hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if fn(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def solve(model: str, budget: int, d_embed: int, layers: int, heads: int,
          d_in: int | None = None) -> Sized:
    spec = MODELS[model]
    step = spec.width_multiple(heads)

    def params_at(units: int, ffn: int | None = None) -> int:
        width = units * step
        return core_params(spec, d_embed, width, layers, heads,
                           ffn if ffn is not None else 4 * width, d_in)

    units = _bisect(params_at, 1, 8192 // step, budget)
    # the closest of the two widths around the budget
    if units > 1 and abs(params_at(units - 1) - budget) < abs(params_at(units) - budget):
        units -= 1
    width = units * step
    ffn = 4 * width
    if spec.has_ffn:  # turn the FFN width to land as close as it can
        ffn = _bisect(lambda f: params_at(units, f), 1, 16 * width, budget)
        if ffn > 1 and abs(params_at(units, ffn - 1) - budget) < abs(params_at(units, ffn) - budget):
            ffn -= 1
    got = params_at(units, ffn)
    if abs(got - budget) > TOLERANCE * budget:
        raise BudgetError(f"budget {budget} cannot be met by {model} within ±5% "
                          f"(nearest: {got} at width {width}); try a larger --budget-params")
    return Sized(model, width, ffn, got)
