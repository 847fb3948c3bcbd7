"""Parallel-scan recurrences: minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

Their gates read the input only, never the previous state, so every layer is the linear
recurrence  h_t = a_t * h_{t-1} + b_t  (elementwise), h_0 = 0, and all T states come from
one parallel scan instead of T dependent steps:

- minGRU:  z_t = sigmoid(W_z x_t),  h~_t = g(W_h x_t),
           a_t = 1 - z_t,  b_t = z_t * h~_t.
- minLSTM: f_t = sigmoid(W_f x_t),  i_t = sigmoid(W_i x_t),  h~_t = g(W_h x_t),
           a_t = f_t / (f_t + i_t),  b_t = i_t / (f_t + i_t) * h~_t   (normalised gates).

g(x) = x + 0.5 for x >= 0, sigmoid(x) otherwise (positive, as in the paper's log-space form).
How a layer runs, by device (the speed probe's `implementation` column names it):
- CPU, where a C compiler works (bench/models/scan_native.py): one GEMM x W^T over the whole
  sequence for every gate, then one compiled C pass that adds the bias, computes a_t, b_t
  and runs h_t = a_t h_{t-1} + b_t, and one reverse pass for the backward (gates recomputed,
  so nothing but the input, the projection and h is stored). Measured for one minGRU layer
  (W=180, B=32, T=1024, fwd+bwd with its projection GEMMs, 1 thread of a 2-core AMD EPYC
  loaded by other jobs, 7 interleaved repeats, median thread CPU time; issue 21): 200 ms,
  against 261 ms for torch.compile'd gates with the eager loop scan (and a 9 s compile for
  every new shape), 376 ms eager gates with the loop scan, 406 ms with the chunked scan.
- CPU without a compiler (scan_native.reason() says why), or under bf16 autocast: the eager
  gates and bench/models/linear_scan.py's sequential loop with a hand-written backward.
- CUDA: the log-space scan (cumsum + logcumsumexp) of the log coefficients.
All run in float32 at least (float64 stays float64). `forward_sequential` is the
step-by-step recurrence from the definitions above with torch autograd: the parity
reference for tests, never used for training.

Stack: `layers` cells, the first reads d_in, the others `width`; dropout between layers
(as nn.GRU's `dropout`); no residual and no normalisation, like the nn.GRU/nn.LSTM stacks it
is compared with (the tiny training runs in the tests train stably without them).
Padding (right): the scan is causal, so pads after a sequence's end cannot reach its real
positions; states at padded positions are set to 0, as the packed recurrent encoders do.
Pooling: the state at the last real position (it has read the whole sequence).
Cost: the gate and candidate projections are one fused Linear per layer (2 or 3 x width),
one GEMM over all B*T positions.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from bench.models import scan_native
from bench.models.init import chrono_bias
from bench.models.linear_scan import auto_method as scan_method
from bench.models.linear_scan import scan_depth, scan_from_log, scan_implementation_name, scan_linear
from bench.models.spec import ModelSpec, register_model


def g(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: torch.Tensor) -> torch.Tensor:
    """log g(x), stable on both branches (relu keeps the unused branch finite)."""
    return torch.where(x >= 0, (F.relu(x) + 0.5).log(), -F.softplus(-x))


class MinCell(nn.Module):
    """One minGRU or minLSTM layer: a fused input projection and the scan."""

    GATES = {"mingru": 2, "minlstm": 3}

    def __init__(self, kind: str, d_in: int, width: int):
        super().__init__()
        if kind not in self.GATES:
            raise ValueError(f"unknown min cell {kind!r}; valid: {', '.join(self.GATES)}")
        self.kind, self.width = kind, width
        self.linear = nn.Linear(d_in, self.GATES[kind] * width)  # gates and candidate
        self._carry_gate_bias()

    def _carry_gate_bias(self) -> None:
        """Start carrying the state, as the LSTM/GRU do (a_t = 0.73 at zero input, the LSTM's
        sigmoid(1)): minGRU's update gate z -> bias -1 (a = 1 - z); minLSTM's forget gate f -> +1
        and input gate i -> -1 (a = f / (f + i))."""
        w = self.width
        with torch.no_grad():
            if self.kind == "mingru":
                self.linear.bias[:w] = -1.0  # k, z = sigmoid(k)
            else:
                self.linear.bias[:w] = 1.0  # f
                self.linear.bias[w: 2 * w] = -1.0  # i

    def init_memory(self, init: str, t_max: int) -> None:
        """"chrono" (bench/models/init.py): a's logit log u per unit, u ~ U[1, t_max - 1]:
        minGRU z bias -log u (a = 1 - z); minLSTM f bias log u, i bias -log u."""
        if init == "standard":
            return
        if init != "chrono":
            raise ValueError(f"init {init!r} does not apply to {self.kind}")
        w, carry = self.width, chrono_bias(self.width, t_max)
        with torch.no_grad():
            if self.kind == "mingru":
                self.linear.bias[:w] = -carry
            else:
                self.linear.bias[:w] = carry
                self.linear.bias[w: 2 * w] = -carry

    def log_coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D) -> log a, log b (B, T, W), the paper's log-space formulas."""
        parts = self.linear(x).chunk(self.GATES[self.kind], dim=-1)
        if self.kind == "mingru":
            k, h = parts
            return -F.softplus(k), -F.softplus(-k) + log_g(h)  # log(1 - z), log z + log g(h)
        f, i, h = parts
        diff = F.softplus(-f) - F.softplus(-i)  # log(i / f)
        return -F.softplus(diff), -F.softplus(-diff) + log_g(h)  # log f', log i' + log g(h)

    def coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D) -> a, b (B, T, W) in linear space (the exponentials of log_coefficients)."""
        parts = self.linear(x).chunk(self.GATES[self.kind], dim=-1)
        if self.kind == "mingru":
            k, h = parts
            return torch.sigmoid(-k), torch.sigmoid(k) * g(h)  # 1 - z, z * g(h)
        f, i, h = parts
        diff = F.softplus(-f) - F.softplus(-i)  # log(i / f)
        return torch.sigmoid(-diff), torch.sigmoid(diff) * g(h)  # f / (f + i), i / (f + i) * g(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) -> h (B, T, W) by the device's scan (see the module docstring)."""
        if scan_method(x.device) == "log":
            return scan_from_log(*self.log_coefficients(x), method="log")
        if (scan_native.supports(x) and self.linear.weight.dtype == x.dtype
                and not torch.is_autocast_enabled(x.device.type)):
            # one GEMM for every gate of every position, no bias: the kernel adds it while it
            # reads the projection (and sums its gradient), sparing a pass over (B, T, G*W)
            return scan_native.min_layer(x, self.linear.weight, self.linear.bias, self.kind)
        return scan_linear(*self.coefficients(x))

    def forward_sequential(self, x: torch.Tensor) -> torch.Tensor:
        """The same states, one dependent step at a time, from the linear-space definitions."""
        parts = self.linear(x).chunk(self.GATES[self.kind], dim=-1)
        if self.kind == "mingru":
            z = torch.sigmoid(parts[0])
            a, b = 1 - z, z * g(parts[1])
        else:
            f, i = torch.sigmoid(parts[0]), torch.sigmoid(parts[1])
            a, b = f / (f + i), i / (f + i) * g(parts[2])
        h = torch.zeros_like(a[:, 0])  # (B, W) h_0 = 0
        states = []
        for t in range(x.shape[1]):
            h = a[:, t] * h + b[:, t]
            states.append(h)
        return torch.stack(states, dim=1)


class ScanEncoder(nn.Module):
    """A stack of min cells; see the module docstring."""

    def __init__(self, kind: str, d_in: int, width: int, layers: int, dropout: float):
        super().__init__()
        self.cells = nn.ModuleList(MinCell(kind, d_in if n == 0 else width, width)
                                   for n in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.kind, self.width, self.state_dim = kind, width, width
        self.lengths_on_device = True  # lengths only build a mask: device lengths save a copy per step

    def init_memory(self, init: str, t_max: int) -> None:
        """Apply a memory init to every layer (MinCell.init_memory)."""
        for cell in self.cells:
            cell.init_memory(init, t_max)

    def _run(self, x: torch.Tensor, lengths: torch.Tensor | None, sequential: bool) -> torch.Tensor:
        h = x
        for n, cell in enumerate(self.cells):
            if n > 0:
                h = self.dropout(h)  # between layers only, as nn.GRU
            h = cell.forward_sequential(h) if sequential else cell(h)
        if lengths is not None:  # zero the padded positions (they never reach real ones)
            real = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
            h = h * real[..., None].to(h.dtype)
        return h

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, D), lengths (B,) or None when every sequence is full -> (B, T, W)."""
        return self._run(x, lengths, sequential=False)

    def forward_sequential(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Reference: the same as forward, by the step-by-step recurrence."""
        return self._run(x, lengths, sequential=True)

    def pool(self, states: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """states (B, T, W), last (B,) index of the last real position -> (B, W)."""
        return states[torch.arange(states.shape[0], device=states.device), last]

    def implementation(self, device: str) -> str:
        """The scan code that runs on `device` (the speed probe's `implementation` column)."""
        if scan_method(device) == "native":
            return f"fused C gates + sequential scan ({scan_native.reason()})"
        return scan_implementation_name("auto", device)

    def sequential_depth(self, device: str, length: int) -> int:
        """Dependent steps per sequence of the scan that runs on `device`."""
        return scan_depth(scan_method(device), length) * len(self.cells)


def _scan(kind: str):
    def build(d_in, width, layers, dropout, heads, ffn):
        return ScanEncoder(kind, d_in, width, layers, dropout)
    return build


for _kind in ("mingru", "minlstm"):
    register_model(ModelSpec(_kind, "recurrent-scan", "state at the last real position", _scan(_kind),
                             core=False, inits=("standard", "chrono")))
