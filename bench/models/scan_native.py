"""A compiled CPU kernel for the min cells: gates and scan in one pass over memory.

A minGRU/minLSTM layer is one GEMM, P = x W^T over all B*T positions and all gates (oneDNN's
fp32 GEMM where torch has it, as the LSTM's own kernel uses, else torch.mm), and an
elementwise recurrence. In eager torch the gates alone take ~15 full passes over (B, T, W)
tensors forward and backward, and the scan T small dispatches; here each direction is one
C loop (source: bench/models/scan_native_c.py):

- forward:  reads P (B, T, G*W), writes h (B, T, W):  for t: a_t, b_t from P[:, t] + bias
  (the gate formulas of bench/models/scan.py), h_t = a_t * h_{t-1} + b_t;
- backward: reads dL/dh, P and h, writes dL/dP over P:  for t from T-1 down: d_t = g_t +
  a_{t+1} d_{t+1}, then the gates' chain rule, and the bias gradient summed on the way.
The recurrence is sequential in t, as the float64 reference is, so the result is the
sequential form up to float rounding (tests/test_scan_native.py). Parallel over batch rows
and width blocks with OpenMP at torch.get_num_threads() (the .so links libgomp.so.1, which
resolves to the copy torch loaded: one thread pool); the element arithmetic does not depend
on the split, so results are bitwise the same at any thread count. Vectorised over W (GCC /
Clang vector extensions); float32 with a polynomial exp (<= 2 ulp), float64 with libm's
(for tests and references).

Built on first use with the system C compiler (`$CC`, else cc, gcc or clang; about 2 s),
cached under $BENCH_CACHE or ~/.cache/rnn-vs-transformer-bench/kernels/<hash of source,
flags, compiler version, CPU>; flags tried in order: -O3 -march=native -fopenmp, then
without -march=native, then without OpenMP. When none builds, `available()` is False and
`reason()` says why: the callers fall back to the eager torch scan (linear_scan.py "loop")
and the speed probe's `implementation` column names that fallback. $BENCH_NATIVE_SCAN=0
turns the kernel off.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from bench.models.scan_native_c import SOURCE

KINDS = {"mingru": 0, "minlstm": 1}
GATES = {"mingru": 2, "minlstm": 3}


FLAGS = (("-O3", "-march=native", "-fopenmp"), ("-O3", "-fopenmp"), ("-O3", "-fopenmp-simd"))
_I64, _INT, _PTR = ctypes.c_int64, ctypes.c_int, ctypes.c_void_p
_SIGNATURES = {"min_forward": [_INT, _PTR, _PTR, _PTR, _I64, _I64, _I64, _INT],
               "min_backward": [_INT, _PTR, _PTR, _PTR, _PTR, _PTR, _PTR, _I64, _I64, _I64, _INT],
               "scan": [_PTR, _PTR, _I64, _I64, _I64, _I64, _I64, _INT, _INT]}
_SUFFIX = {torch.float32: "f", torch.float64: "d"}


def _cache_dir() -> Path:
    root = os.environ.get("BENCH_CACHE")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "rnn-vs-transformer-bench"
    return base / "kernels"


def _cpu() -> str:
    """What -march=native depends on: the CPU's model and feature flags (Linux), else the arch."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return "\n".join(sorted({ln for ln in lines if ln.startswith(("model name", "flags"))}))
    except OSError:
        return platform.machine() + platform.processor()


def _compile(compiler: str, flags: tuple[str, ...]) -> Path:
    """Build (or find) the library for these flags; raises on a compiler error."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30).stdout
    key = hashlib.sha256("\0".join([SOURCE, *flags, version, _cpu()]).encode()).hexdigest()[:16]
    target = _cache_dir() / key / "scan_native.so"
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only cache folder: build in the temporary one
        target = Path(tempfile.gettempdir()) / f"rnn-vs-transformer-bench-kernels-{key}" / "scan_native.so"
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:  # same filesystem: atomic rename
        source, built = Path(tmp) / "scan_native.c", Path(tmp) / "scan_native.so"
        source.write_text(SOURCE)
        result = subprocess.run([compiler, *flags, "-std=c99", "-shared", "-fPIC", str(source), "-o", str(built),
                                 "-lm"], capture_output=True, text=True, timeout=300)
        if result.returncode:
            raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
        os.replace(built, target)
    return target


@functools.lru_cache(maxsize=1)
def _load() -> tuple[ctypes.CDLL | None, str]:
    """(library, description) or (None, why not)."""
    if os.environ.get("BENCH_NATIVE_SCAN", "1") == "0":
        return None, "turned off by BENCH_NATIVE_SCAN=0"
    if sys.platform == "win32":
        return None, "no C build on Windows"
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "no C compiler found"
    errors = []
    for flags in FLAGS:
        try:
            lib = ctypes.CDLL(str(_compile(compiler, flags)))
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            errors.append(f"{' '.join(flags)}: {error}")
            continue
        for name, argtypes in _SIGNATURES.items():
            for suffix in _SUFFIX.values():
                getattr(lib, f"{name}_{suffix}").argtypes = argtypes
        if not _self_test(lib):
            errors.append(f"{' '.join(flags)}: built, but its states differ from torch's")
            continue
        return lib, f"{Path(compiler).name} {' '.join(flags)}"
    return None, "compile failed (" + "; ".join(errors) + ")"


def _self_test(lib: ctypes.CDLL) -> bool:
    """Forward states of both cells from a freshly loaded library, float32 and float64,
    against the definitions in torch (a miscompiled library must not run silently)."""
    gen = torch.Generator().manual_seed(0)
    for kind, gates in GATES.items():
        P = 4 * torch.randn(2, 5, gates * 19, dtype=torch.float64, generator=gen)  # 19: a tail of 3 lanes
        parts = P.sigmoid().chunk(gates, dim=-1)
        x = P[..., -19:]
        g = torch.where(x >= 0, x + 0.5, x.sigmoid())
        a, s = (1 - parts[0], parts[0]) if kind == "mingru" else (parts[0] / (parts[0] + parts[1]),
                                                                   parts[1] / (parts[0] + parts[1]))
        want, h = [], torch.zeros(2, 19, dtype=torch.float64)
        for t in range(5):
            h = a[:, t] * h + s[:, t] * g[:, t]
            want.append(h)
        for dtype, suffix in _SUFFIX.items():
            p, got = P.to(dtype), torch.empty(2, 5, 19, dtype=dtype)
            bias = torch.zeros(gates * 19, dtype=dtype)
            getattr(lib, f"min_forward_{suffix}")(KINDS[kind], p.data_ptr(), bias.data_ptr(), got.data_ptr(),
                                                  2, 5, 19, 1)
            if not torch.allclose(got.double(), torch.stack(want, 1), rtol=1e-5, atol=1e-6):
                return False
    return True


def available() -> bool:
    return _load()[0] is not None


def reason() -> str:
    """How the kernel was built ('gcc -O3 -march=native -fopenmp'), or why it is unavailable."""
    return _load()[1]


def supports(x: torch.Tensor) -> bool:
    return x.device.type == "cpu" and x.dtype in _SUFFIX and available()


def _call(name: str, dtype: torch.dtype, *args) -> None:
    lib, why = _load()
    if lib is None:
        raise RuntimeError(f"the C scan kernel is unavailable: {why}")
    getattr(lib, f"{name}_{_SUFFIX[dtype]}")(*args, torch.get_num_threads())


def _ptr(x: torch.Tensor) -> int:
    return x.data_ptr()


@functools.lru_cache(maxsize=1)
def _onednn() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def _times_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (N, K) @ b^T, b (M, K) -> (N, M): oneDNN's fp32 GEMM where torch has it (what the
    LSTM's own kernel uses; measured 1.5x MKL's torch.mm for dL/dx = dP W at these shapes on
    the 2-core EPYC, equal for the forward), else torch.mm."""
    if a.dtype == torch.float32 and _onednn():
        return torch.ops.mkldnn._linear_pointwise(a, b, None, "none", [], "")
    return torch.mm(a, b.t())


class _MinLayer(torch.autograd.Function):
    """One min cell: P = x W^T (B, T, G*W), one GEMM over all positions and gates, then the
    kernel (bias, gates, scan) -> h (B, T, W). Backward: the reverse kernel gives dL/dP (in
    P's memory: no new 4 B*T*G*W bytes, whose first touch costs as much as the kernel) and
    dL/dbias, then dL/dx = dP W and dL/dW = dP^T x. Saves x, P and h; a second backward
    through the same graph recomputes P."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, kind: str) -> torch.Tensor:
        B, T, D = x.shape
        x2 = x.reshape(B * T, D)
        P = _times_t(x2, weight).view(B, T, -1)  # (B, T, G*W)
        h = P.new_empty(B, T, P.shape[2] // GATES[kind])
        _call("min_forward", P.dtype, KINDS[kind], _ptr(P), _ptr(bias), _ptr(h), B, T, h.shape[2])
        ctx.save_for_backward(x2, weight, bias, P, h)
        ctx.kind = kind
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x2, weight, bias, P, h = ctx.saved_tensors
        grad = grad.contiguous()
        B, T, W = h.shape
        if getattr(ctx, "spent", False):  # a second backward (retain_graph): P was overwritten
            P = _times_t(x2, weight).view(P.shape)
        ctx.spent = True
        dP, dbias = P, P.new_empty(B, P.shape[2])  # dL/dP in place of P (element by element); dbias per row
        _call("min_backward", P.dtype, KINDS[ctx.kind], _ptr(P), _ptr(bias), _ptr(h), _ptr(grad), _ptr(dP),
              _ptr(dbias), B, T, W)
        dP2 = dP.view(B * T, -1)
        dx = _times_t(dP2, weight.t().contiguous()).view(B, T, -1) if ctx.needs_input_grad[0] else None
        dweight = torch.mm(dP2.t(), x2) if ctx.needs_input_grad[1] else None
        return dx, dweight, dbias.sum(0), None


def min_layer(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, kind: str) -> torch.Tensor:
    """One min cell's states h (B, T, W) from its input x (B, T, D) and its Linear's weight
    (G*W, D) and bias (G*W,), gates [k | h~] (minGRU) or [f | i | h~] (minLSTM): the same as
    the eager formulas of bench/models/scan.py. Needs supports(x); all in x's dtype."""
    if kind not in KINDS:
        raise ValueError(f"unknown min cell {kind!r}; valid: {', '.join(KINDS)}")
    rows = weight.shape[0]
    if x.ndim != 3 or rows % GATES[kind] or weight.shape[1] != x.shape[2] or bias.shape != (rows,):
        raise ValueError(f"{kind}: x (B, T, D), weight ({GATES[kind]}*W, D), bias ({GATES[kind]}*W,) expected, "
                         f"got {tuple(x.shape)}, {tuple(weight.shape)}, {tuple(bias.shape)}")
    if weight.dtype != x.dtype or bias.dtype != x.dtype:
        raise ValueError(f"x, weight and bias need one dtype, got {x.dtype}, {weight.dtype}, {bias.dtype}")
    return _MinLayer.apply(x.contiguous(), weight.contiguous(), bias.contiguous(), kind)


def scan_(a: torch.Tensor, h: torch.Tensor, reverse: bool = False) -> None:
    """The in-place kernel of linear_scan's convention (h holds b; a_t multiplies the state
    entering t): a, h (B, T, W) with unit stride in W and rows W apart in T."""
    B, T, W = h.shape
    for x in (a, h):
        if x.stride(2) != 1 or (T > 1 and x.stride(1) != W):
            raise ValueError("scan_ needs W-contiguous rows, W apart in T")
    _call("scan", h.dtype, _ptr(a), _ptr(h), B, T, W, a.stride(0), h.stride(0), int(reverse))
