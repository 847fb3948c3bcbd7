"""How the speed probe times and measures: interleaved timed calls and their summary, the
machine's GEMM peak, peak memory, the device's name, and out-of-memory / too-slow guards.

- Timing (`time_interleaved`): each callable (one model's training step, or its inference
  call, or the GEMM-peak matmul) is warmed up, then timed once per round, round after round:
  A B C A B C, never A A A B B B, so a slow moment of a shared machine lands on every model
  alike. CUDA: CUDA events around each call. CPU: time.perf_counter around it (torch's CPU
  ops are synchronous, so the call's wall time is the step's time).
- GEMM peak (`gemm_call`): one square matmul (n = 2048 on CPU, 8192 on CUDA) at the pass's
  dtype and thread count, 2 n^3 FLOPs; the probe takes the best of its repeats.
- Peak memory, CUDA: torch.cuda.max_memory_allocated over one step (allocator-based:
  weights, gradients, optimizer state, activations). CPU: the peak of the step's net tensor
  allocations (allocator events recorded by torch.profiler with profile_memory, replayed in
  time order: allocations minus frees): activations, gradients and optimizer state the step
  allocates, not the weights that already exist. Measured on one extra step, never a timed one.
"""
from __future__ import annotations

import contextlib
import gc
import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

_OOM = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


class TooSlow(Exception):
    """One call took longer than the probe's limit: the cell is recorded as `too_slow`."""


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds of one call: CUDA events around it on CUDA, the wall clock on CPU (torch's CPU
    ops are synchronous, so the call's wall time is the step's time)."""
    if device.type == "cuda":
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        return begin.elapsed_time(end) / 1e3
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def attempt(step: Callable[[], object], device: torch.device) -> str | None:
    """Run step: None, or 'oom' / 'too_slow' when it ran out of memory / raised TooSlow."""
    status = None
    try:
        step()
    except _OOM:
        status = "oom"  # free memory outside the except block: the traceback holds tensors
    except TooSlow:
        status = "too_slow"
    if status is not None:
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return status


def time_interleaved(calls: dict[str, Callable[[], object]], device: torch.device, repeats: int,
                     warmup: int, limit_s: float | None = None) -> dict[str, list[float] | str]:
    """Seconds per call of each named callable: `warmup` untimed calls each, then `repeats`
    rounds, each timing every callable once in order (A B C A B C). With limit_s the first
    call is timed on its own and one slower than the limit marks the name 'too_slow'; an
    out-of-memory error marks it 'oom'; a marked name drops out, the others go on.
    Returns {name: list of seconds, or the status}."""
    out: dict[str, list[float] | str] = {}
    for name, fn in calls.items():
        def warm(fn=fn):
            if limit_s is not None and _timed(fn, device) > limit_s:
                raise TooSlow(f"one call took more than {limit_s} s")
            for _ in range(max(0, warmup - (limit_s is not None))):
                fn()
        out[name] = attempt(warm, device) or []
    for _ in range(repeats):
        for name, fn in calls.items():
            times = out[name]
            if isinstance(times, list):
                out[name] = attempt(lambda fn=fn, times=times: times.append(_timed(fn, device)), device) or times
    return out


def gemm_call(device: torch.device, dtype: torch.dtype, n: int = 0) -> tuple[Callable[[], object], float]:
    """One large square matmul at `dtype` on `device` (n = 2048 on CPU, 8192 on CUDA unless
    given) and its FLOPs, 2 n^3: the machine's GEMM ceiling at the pass's thread count."""
    n = n or (8192 if device.type == "cuda" else 2048)
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device=device, dtype=dtype) for _ in range(2))
    return (lambda: torch.mm(a, b)), 2.0 * n**3


def summary_stats(samples: list[float]) -> dict[str, float]:
    """Median as the value, IQR as the spread, with min, max and the number of repeats."""
    q25, q50, q75 = np.percentile(samples, [25, 50, 75])
    return {"value": float(q50), "spread": float(q75 - q25), "value_min": float(min(samples)),
            "value_max": float(max(samples)), "repeats": len(samples)}


def exact(value: float) -> dict[str, float]:
    return {"value": float(value), "spread": 0.0, "value_min": float(value),
            "value_max": float(value), "repeats": 1}


def failed(metrics: list[str], status: str) -> dict[str, dict]:
    nan = float("nan")
    return {m: {"value": nan, "spread": nan, "value_min": nan, "value_max": nan, "repeats": 0,
                "status": status} for m in metrics}


def cpu_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak net bytes of CPU tensor memory allocated during one fn() call (see the module
    docstring); the call runs under torch.profiler, so it is never one of the timed calls."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]")
    return int(max(np.cumsum([nbytes for _, nbytes in events]).max(), 0)) if events else 0


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):  # Linux: the CPU's marketing name
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
