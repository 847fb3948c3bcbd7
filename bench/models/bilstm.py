"""Exact bidirectional LSTM on right-padded batches, without pack_padded_sequence.

Per layer, the forward direction runs causally on the padded input (pads are on the right, so
they never reach a real position); the backward direction runs, just as causally, on each
sequence reversed *within its own length* (`reverse_within_length`: pads stay on the right),
and its output is reversed back. Each direction is one 1-layer unidirectional `_VF.lstm` call
(torch's own LSTM kernel, as nn.LSTM uses) on that direction's parameters; the layers'
outputs [fwd, bwd] are concatenated and, between layers, dropped out as nn.LSTM does.

`BiLSTM` subclasses nn.LSTM(bidirectional=True, batch_first=True): same parameters, same
state_dict keys, so a harness holding `self.rnn = nn.LSTM(...)` can swap in `BiLSTM(...)`
and load old checkpoints, and its init code (named_parameters) keeps working.
Measured on CPU (B=32, T=256, ragged lengths in [64, 256], ~100k core parameters, 1 thread,
fwd+bwd, median of 9): packed nn.LSTM 863 ms, this 149 ms, a unidirectional nn.LSTM 144 ms.
Fusing both directions into one block-diagonal LSTM was ~1.6x slower (the zero blocks double
the flops). Full-length batches (lengths None) take nn.LSTM's own fused bidirectional call.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def reversal_index(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B,) lengths -> (B*T,) row index into x.reshape(B*T, D): position t of row b reads
    lengths[b]-1-t for t < lengths[b], t itself for pads."""
    t = torch.arange(T, device=lengths.device)[None, :]  # (1, T)
    n = lengths.to(t.dtype)[:, None]  # (B, 1)
    rows = torch.arange(len(lengths), device=lengths.device)[:, None] * T  # (B, 1) row offsets
    return (torch.where(t < n, n - 1 - t, t) + rows).reshape(-1)


class _Involution(torch.autograd.Function):
    """y = P x for a row permutation P with P = P^-1 (= P^T): the backward is P g as well.
    index_select copies whole rows of D floats (~5x faster than gather + scatter_add on CPU)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        return x.reshape(-1, x.shape[-1]).index_select(0, index).view(x.shape)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (index,) = ctx.saved_tensors
        return g.reshape(-1, g.shape[-1]).index_select(0, index).view(g.shape), None


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor | None = None,
                          index: torch.Tensor | None = None) -> torch.Tensor:
    """x (B, T, D) -> x with each row's first lengths[b] positions reversed (pads unchanged).

    lengths (B,) on x's device, or a precomputed `reversal_index(lengths, T)`; no Python loop.
    An involution (applying it twice gives x back). lengths None and index None: full flip.
    """
    if index is None:
        if lengths is None:
            return x.flip(1)
        index = reversal_index(lengths, x.shape[1])
    return _Involution.apply(x, index)


class BiLSTM(nn.LSTM):
    """nn.LSTM(d_in, width, layers, batch_first=True, bidirectional=True, dropout) whose
    forward(x, lengths) runs unpacked (see the module docstring) and returns only the outputs.

    x (B, T, d_in), lengths (B,) or None (all sequences full) -> (B, T, 2*width): the packed
    nn.LSTM's output at real positions, zeros at pads (as pad_packed_sequence), [fwd, bwd]
    halves as nn.LSTM. Dropout between layers (train mode), as nn.LSTM's `dropout`.
    Padded inputs must be finite (their gradients are 0 * x: an inf pad gives nan weight grads).
    """

    def __init__(self, d_in: int, width: int, layers: int = 1, dropout: float = 0.0, bias: bool = True):
        super().__init__(d_in, width, num_layers=layers, bias=bias, batch_first=True,
                         bidirectional=True, dropout=dropout if layers > 1 else 0.0)

    def _direction_weights(self, layer: int, reverse: bool) -> list[torch.Tensor]:
        """[w_ih, w_hh(, b_ih, b_hh)] of one layer and direction: a 1-layer _VF.lstm weight list."""
        sfx = f"_l{layer}" + ("_reverse" if reverse else "")
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        return [getattr(self, name + sfx) for name in names]

    def _direction(self, x: torch.Tensor, layer: int, reverse: bool) -> torch.Tensor:
        """(B, T, K) -> (B, T, H): one causal LSTM pass from zero states."""
        zeros = x.new_zeros(1, x.shape[0], self.hidden_size)  # (1, B, H) h_0 = c_0 = 0
        return torch._VF.lstm(x, (zeros, zeros), self._direction_weights(layer, reverse), self.bias,
                              1, 0.0, self.training, False, True)[0]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:  # every sequence full: nn.LSTM's fused bidirectional kernel
            return nn.LSTM.forward(self, x)[0]
        T = x.shape[1]
        index = None if lengths is None else reversal_index(lengths.to(x.device), T)  # (B, T)
        out = x  # (B, T, K) natural time order
        for layer in range(self.num_layers):
            if layer > 0:  # nn.LSTM's inter-layer dropout, on the previous layer's output
                out = F.dropout(out, self.dropout, self.training)
            fwd = self._direction(out, layer, reverse=False)  # (B, T, H)
            bwd = self._direction(reverse_within_length(out, index=index), layer, reverse=True)
            out = torch.cat([fwd, reverse_within_length(bwd, index=index)], dim=2)  # (B, T, 2H)
        if lengths is not None:  # zeros at pads (where, not *, so nothing from a pad leaks)
            real = torch.arange(T, device=x.device)[None, :] < lengths.to(x.device)[:, None]
            out = torch.where(real[:, :, None], out, 0.0)
        return out

    @classmethod
    def from_lstm(cls, lstm: nn.LSTM) -> BiLSTM:
        """A BiLSTM with a copy of a bidirectional, batch_first nn.LSTM's weights."""
        assert lstm.bidirectional and lstm.batch_first and lstm.proj_size == 0
        like = next(lstm.parameters())
        new = cls(lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.dropout, lstm.bias)
        new.to(device=like.device, dtype=like.dtype).load_state_dict(lstm.state_dict())
        return new
