"""A model of your own: a dilated causal convolution encoder, registered as "causal_conv".

Run it from outside the package, next to the built-in models, on the same budget:

    bench --import examples/my_model.py run --task recall --model causal_conv --model lstm

The encoder protocol (what bench/models/wrapper.SequenceModel calls; bench/models/recurrent.py
is the reference implementation):

- built by ``ModelSpec.build(d_in, width, layers, dropout, heads, ffn)``; the harness picks
  ``width`` so that encoder + projection match the parameter budget (bench/run/budget.py
  bisects over widths on the meta device), so parameters must grow with width;
- ``forward(x (B, T, d_in), lengths (B,) or None) -> states (B, T, state_dim)``; padding is on
  the right and states at padded positions are never read;
- ``pool(states (B, T, S), last (B,)) -> (B, S)``: one state per sequence, for sequence and
  regression tasks (``last`` is the index of the last real position);
- the attribute ``state_dim``.

Why a convolution: it is the cleanest contrast to a recurrence. Kernel k with dilation 2**i
in layer i sees R = 1 + (k - 1)(2**layers - 1) tokens back (7 at k=3, 2 layers), and nothing
further, however long it trains. Its trivial baseline follows: on `recall` with a distance
past R it never sees the fact and scores what a model without memory scores (1 / n_values,
``no_memory_baseline`` in the results), while within R it can learn the task exactly (e.g.
`majority` at length <= R, examples/my_task.py).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from bench.models import ModelSpec, register_model

KERNEL = 3


class CausalConvEncoder(nn.Module):
    """Input projection, then per layer: causal dilated conv -> GELU -> dropout, residual, LayerNorm."""

    def __init__(self, d_in: int, width: int, layers: int, dropout: float, kernel: int = KERNEL):
        super().__init__()
        self.project = nn.Linear(d_in, width)
        self.convs = nn.ModuleList(nn.Conv1d(width, width, kernel, dilation=2 ** i) for i in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.state_dim = width
        self.receptive_field = 1 + (kernel - 1) * (2 ** layers - 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, d_in) -> (B, T, width); position t reads x[:, t - R + 1 : t + 1] only."""
        h = self.project(x)  # (B, T, W)
        for conv, norm in zip(self.convs, self.norms):
            reach = (conv.kernel_size[0] - 1) * conv.dilation[0]
            y = conv(F.pad(h.transpose(1, 2), (reach, 0)))  # left padding only: causal, (B, W, T)
            h = norm(h + self.dropout(F.gelu(y.transpose(1, 2))))
        return h  # right padding never reaches a real position: no use for lengths

    def pool(self, states: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """The state at the last real position, (B, W)."""
        rows = torch.arange(states.shape[0], device=states.device)
        return states[rows, last]


def build(d_in: int, width: int, layers: int, dropout: float, heads: int, ffn: int) -> CausalConvEncoder:
    return CausalConvEncoder(d_in, width, layers, dropout)  # heads, ffn: attention-only knobs


register_model(ModelSpec("causal_conv", family="convolutional", pooling="state at the last real position",
                         build=build, core=False))
