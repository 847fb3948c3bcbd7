"""A model's registry entry: how to build its encoder at a width, and what it is.

`MODELS` is the one model list of the harness: every other list (suites, probes, claims,
report order) is read from it. A user's own model registers with `register_model`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bench.registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model's encoder at a given width.

    build(d_in, width, layers, dropout, heads, ffn) -> encoder. `width_multiple` constrains
    the width (attention heads must divide it); `has_ffn` marks a model whose FFN width is
    the fine knob the budget solver turns after the width. `inits`: the values of the run
    setting `init` it accepts; an encoder with more than "standard" has
    `init_memory(init, t_max)`.
    """

    name: str
    family: str
    pooling: str
    build: Callable[..., object]  # (d_in, width, layers, dropout, heads, ffn) -> encoder nn.Module
    width_multiple: Callable[[int], int] = lambda heads: 1
    has_ffn: bool = False
    reads_future: bool = False  # sees tokens after a position (bidirectional)
    core: bool = True  # one of the models every standard comparison trains
    # the memory inits it supports (bench/models/init.py); its encoder's init_memory applies one
    inits: tuple[str, ...] = ("standard",)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a model to MODELS (a second model of the same name fails loudly)."""
    return MODELS.add(spec.name, spec)
