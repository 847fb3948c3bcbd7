"""Exact linear scans for minGRU / minLSTM:  h_t = a_t * h_{t-1} + b_t  along dim 1, h_{-1} = 0.

On CPU "auto" is "native" (bench/models/scan_native.py: one compiled C loop over T per
direction, vectorised over W, parallel over batch rows) where a C compiler works, else the
eager "loop"; the min cells themselves go further and fuse their gates into that kernel
(MinCell.forward). Why, measured on a 2-core AMD EPYC loaded by other jobs (fwd+bwd of the
scan alone, B=32, W=180, T=1024, 1 thread, 5 interleaved repeats, median thread CPU time;
issue 21): "native" 25 ms, "loop" 43 ms, "chunked" 62 ms, "log" 960 ms (T=4096: 305, 373,
500 ms). The recurrence is elementwise, so one sequential pass over memory costs less on a
CPU than a log-depth scan's extra passes; eager torch loses only its T small dispatches,
which the compiled loop removes. On CUDA "auto" keeps the log-space scan (parallel kernels;
not measured here: no GPU was available).

a, b: (B, T, W); a in (0, 1), b > 0 for the min cells (the kernels below need neither: they
never divide and never take a log, so they are exact for any real a, b).

Methods (no torch.compile):
- "native":  the compiled C kernel (scan_native.scan_), same backward as "loop"; falls back to
             "loop" where it is unavailable (scan_native.reason() says why).
- "loop":    one in-place addcmul per time step on (B, W) slices, with a hand-written backward
             (the gradient of a linear scan is the reverse linear scan, see `_LinearScan`).
             T dispatches of ~10 us each + one pass over memory. CPU winner at the benchmark
             shapes (bench_scan.py).
- "chunked": T split in chunks of C; 3 short loops (local end states, carries across chunks,
             final states) of C + T/C + C dispatches over (B, T/C, W) slices; same backward.
             Fewer dispatches than "loop" but 2-3 passes over memory on strided slices.
- "assoc":   torch._higher_order_ops.associative_scan(combine_mode="generic"): eager odd-even
             recursion (log2 T levels of full-size ops), torch autograd.
- "log":     the paper's log-space form (cumsum + logcumsumexp), torch autograd. On CUDA this is
             a handful of parallel kernels and stays the default there.

Entry points: `scan_linear(a, b, method)`, `scan_from_log(log_a, log_b, method)`,
`scan_implementation_name(method, device)`.
"""
from __future__ import annotations

import math

import torch

from bench.models import scan_native

METHODS = ("native", "loop", "chunked", "assoc", "log")


# ----------------------------------------------------------------------------- no-grad kernels
# Convention for both kernels: `h` holds b on entry and is updated in place; the coefficient
# a_t multiplies the state entering position t, i.e.
#   forward (reverse=False): h_t += a_t * h_{t-1}   for t = 1 .. T-1
#   reverse (reverse=True):  h_t += a_t * h_{t+1}   for t = T-2 .. 0
# a_t at the first position in scan order is never read (nothing enters there).
# a, h: (B, T, W) with the same shape; any strides for "loop", unit stride in W and T-contiguous
# rows (a[:, t] and a[:, t+1] W apart) for "chunked".


def _loop_(a: torch.Tensor, h: torch.Tensor, reverse: bool = False) -> None:
    A, H = a.unbind(1), h.unbind(1)  # T views of (B, W): unbind is one dispatch, not T slices
    steps = range(len(H) - 2, -1, -1) if reverse else range(1, len(H))
    step = 1 if reverse else -1  # offset of the incoming neighbour
    for t in steps:
        H[t].addcmul_(A[t], H[t + step])


def default_chunk(T: int) -> int:
    """C ~ sqrt(T) (balances the C-long and T/C-long loops), a power of two in [8, 64]."""
    return int(min(64, max(8, 2 ** round(math.log2(max(T, 1)) / 2))))


def _chunked_(a: torch.Tensor, h: torch.Tensor, reverse: bool = False, chunk: int | None = None) -> None:
    B, T, W = h.shape
    C = max(2, chunk or default_chunk(T))
    n = T // C
    if n < 2:  # nothing to gain
        return _loop_(a, h, reverse)
    r = T - n * C  # leftover steps, scanned last: at the end (forward) or the start (reverse)
    lo = r if reverse else 0
    a4 = a[:, lo:lo + n * C].view(B, n, C, W)  # (B, n, C, W) chunk views, no copy
    h4 = h[:, lo:lo + n * C].view(B, n, C, W)
    first, last = (C - 1, 0) if reverse else (0, C - 1)  # in-chunk positions in scan order
    order = range(C - 2, -1, -1) if reverse else range(1, C)
    step = 1 if reverse else -1

    # 1) local state at each chunk's last position with nothing entering the chunk: (B, n, W)
    s = h4[:, :, first]
    for c in order:
        s = torch.addcmul(h4[:, :, c], a4[:, :, c], s)
    # 2) carries: true state at each chunk's last position; p = how much of the carry entering a
    #    chunk reaches its last position (product of the chunk's a; the first chunk's is unused)
    p = torch.prod(a4, dim=2)  # (B, n, W)
    S, P = s.unbind(1), p.unbind(1)
    for k in (range(n - 2, -1, -1) if reverse else range(1, n)):
        S[k].addcmul_(P[k], S[k + step])
    # 3) final states: feed each chunk's carry into its first position, then rescan in place
    if reverse:
        h4[:, :-1, first].addcmul_(a4[:, :-1, first], s[:, 1:])
    else:
        h4[:, 1:, first].addcmul_(a4[:, 1:, first], s[:, :-1])
    for c in order:
        h4[:, :, c].addcmul_(a4[:, :, c], h4[:, :, c + step])
    # 4) leftover steps, sequentially
    A, H = a.unbind(1), h.unbind(1)
    for t in (range(r - 1, -1, -1) if reverse else range(n * C, T)):
        H[t].addcmul_(A[t], H[t + step])


def _native_(a: torch.Tensor, h: torch.Tensor, reverse: bool = False) -> None:
    if scan_native.supports(h):
        return scan_native.scan_(a, h, reverse)
    return _loop_(a, h, reverse)


_KERNELS = {"native": _native_, "loop": _loop_, "chunked": _chunked_}


class _LinearScan(torch.autograd.Function):
    """h = scan(a, b) with a hand-written backward.

    With d_t = dL/db_t (total, through all later states):  d_t = g_t + a_{t+1} d_{t+1}
    (a reverse scan of the incoming gradient g), and dL/da_t = d_t * h_{t-1} (h_{-1} = 0).
    Saves a and h (no extra memory beyond the output).
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, kernel: str) -> torch.Tensor:
        h = b.clone(memory_format=torch.contiguous_format)  # (B, T, W) starts as b
        _KERNELS[kernel](a, h)
        ctx.save_for_backward(a, h)
        ctx.kernel = kernel
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g: torch.Tensor):
        a, h = ctx.saved_tensors
        d = g.clone(memory_format=torch.contiguous_format)  # (B, T, W) starts as g
        if d.shape[1] > 1:
            # d_t += a_{t+1} d_{t+1}: reverse scan of d[:, :T-1] with coefficients a[:, 1:],
            # after feeding d_{T-1} into position T-2 by hand (the kernel skips the first step).
            d[:, -2].addcmul_(a[:, -1], d[:, -1])
            _KERNELS[ctx.kernel](a[:, 1:], d[:, :-1], reverse=True)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = torch.empty_like(d)
            grad_a[:, 0].zero_()
            torch.mul(d[:, 1:], h[:, :-1], out=grad_a[:, 1:])
        return grad_a, (d if ctx.needs_input_grad[1] else None), None


# ----------------------------------------------------------------------------- autograd methods

def scan_log(log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """The harness's log-space scan (unchanged): log_a, log_b (B, T, W) -> h (B, T, W)."""
    a_star = torch.cumsum(log_a, dim=1)  # (B, T, W) log prod_{s<=t} a_s
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))


def _combine(x, y):
    """(a1, b1) then (a2, b2) -> (a1 a2, a2 b1 + b2): composing two affine maps."""
    (a1, b1), (a2, b2) = x, y
    return a1 * a2, torch.addcmul(b2, a2, b1)


def scan_assoc(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from torch._higher_order_ops.associative_scan import associative_scan
    return associative_scan(_combine, (a, b), dim=1, combine_mode="generic")[1]


def auto_method(device: torch.device | str) -> str:
    """The fastest exact method measured for the device type (the module docstring; CUDA not
    measured): "native" on CPU where the C kernel builds, else "loop"; "log" on CUDA."""
    if torch.device(device).type != "cpu":
        return "log"
    return "native" if scan_native.available() else "loop"


def _compute_dtype(*xs: torch.Tensor) -> torch.dtype:
    dtype = torch.float32
    for x in xs:
        dtype = torch.promote_types(dtype, x.dtype)
    return dtype  # float32 at least (float64 stays float64), as the harness's scan_log


def scan_linear(a: torch.Tensor, b: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """h_t = a_t h_{t-1} + b_t along dim 1, h_{-1} = 0.  a, b (B, T, W) -> h (B, T, W).

    Computed in float32 at least, autocast off. Differentiable in a and b for every method.
    """
    if method == "auto":
        method = auto_method(a.device)
    dtype = _compute_dtype(a, b)
    with torch.autocast(a.device.type, enabled=False):
        a, b = a.to(dtype), b.to(dtype)
        if method in _KERNELS:
            return _LinearScan.apply(a.contiguous(), b, method)
        if method == "assoc":
            return scan_assoc(a, b)
        if method == "log":
            return scan_log(a.log(), b.log())
    raise ValueError(f"unknown scan method {method!r}; valid: auto, {', '.join(METHODS)}")


def scan_from_log(log_a: torch.Tensor, log_b: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """Drop-in for the harness's `scan_log(log_a, log_b)`: same inputs, same h (B, T, W).

    "log" runs the log-space form directly; linear methods exponentiate first (2 extra
    elementwise passes; a caller that can build a, b in linear space should call scan_linear).
    """
    if method == "auto":
        method = auto_method(log_a.device)
    dtype = _compute_dtype(log_a, log_b)
    if method == "log":
        with torch.autocast(log_a.device.type, enabled=False):
            return scan_log(log_a.to(dtype), log_b.to(dtype))
    with torch.autocast(log_a.device.type, enabled=False):
        return scan_linear(log_a.to(dtype).exp(), log_b.to(dtype).exp(), method)


def scan_implementation_name(method: str = "auto", device: torch.device | str = "cpu") -> str:
    """Short human-readable name of what `method` runs on `device`, for reports."""
    if method == "auto":  # on CPU "native", which names its fallback and why
        method = "native" if torch.device(device).type == "cpu" else auto_method(device)
    if method == "native" and not scan_native.available():
        return f"sequential scan (T eager steps, custom backward; C kernel unavailable: {scan_native.reason()})"
    return {
        "native": f"compiled sequential scan (C, {scan_native.reason()}; custom backward)",
        "loop": "sequential scan (T eager steps, custom backward)",
        "chunked": "chunked scan (C~sqrt(T) in [8, 64], eager, custom backward)",
        "assoc": "associative scan (generic, eager, log2(T) levels)",
        "log": "log-space scan (cumsum + logcumsumexp)",
    }[method]


def scan_depth(method: str, length: int) -> int:
    """Dependent steps per layer of a method at `length`: the speed probe's sequential_depth."""
    if method in ("native", "loop"):
        return length
    if method == "chunked":
        chunk = default_chunk(length)
        return length if length // chunk < 2 else 2 * chunk + length // chunk
    return max(1, math.ceil(math.log2(max(length, 2))))  # assoc, log: a log-depth scan


def scan_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Float64 step-by-step recurrence with torch autograd: the parity reference for tests."""
    a, b = a.double(), b.double()
    h, states = torch.zeros_like(a[:, 0]), []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        states.append(h)
    return torch.stack(states, dim=1)
