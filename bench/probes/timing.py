"""How the speed probe times and measures: repeated timed calls, their summary, peak memory,
the device's name, and out-of-memory / too-slow guards.

- CUDA: CUDA events around each call; peak memory = torch.cuda.max_memory_allocated over one
  step (allocator-based: weights, gradients, optimizer state, activations).
- CPU: time.perf_counter around each call, after `warmup` untimed calls (torch's CPU ops are
  synchronous, so the wall time of the call is the step's time); peak memory = the peak of the
  step's net CPU tensor allocations (allocator events recorded by torch.profiler with
  profile_memory, replayed in time order: allocations minus frees): activations, gradients
  and optimizer state the step allocates, not the weights that already exist (on CUDA the
  allocator peak includes them).
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


def time_calls(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int,
               limit_s: float | None = None) -> list[float]:
    """Seconds per call of fn, `repeats` times after `warmup` untimed calls. With limit_s, the
    first call is timed on its own and a call slower than the limit raises TooSlow."""
    if limit_s is not None:
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if time.perf_counter() - start > limit_s:
            raise TooSlow(f"one call took {time.perf_counter() - start:.1f} s > {limit_s} s")
        warmup = max(0, warmup - 1)
    if device.type == "cuda":
        for _ in range(warmup):
            fn()
        torch.cuda.synchronize(device)
        times = []
        for _ in range(repeats):
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            fn()
            end.record()
            end.synchronize()
            times.append(begin.elapsed_time(end) / 1e3)
        return times
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return times


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


def guarded(phase: Callable[[], dict[str, dict]], metrics: list[str]) -> dict[str, dict]:
    """Run one phase; out of memory gives its metrics status 'oom', a call over the time limit
    'too_slow', both with NaN values, and the sweep goes on."""
    status = None
    try:
        return phase()
    except _OOM:
        status = "oom"  # free memory outside the except block: the traceback holds tensors
    except TooSlow:
        status = "too_slow"
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return failed(metrics, status)


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
