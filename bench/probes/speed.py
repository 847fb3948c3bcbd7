"""Speed against sequence length: training throughput, inference latency, peak memory,
sequential depth and achieved FLOP/s, one tidy row per (model, length, batch, metric).

Every model is built exactly as the training loop builds it (`bench.run.loop.build_model` at the
budget) and fed random tokens: (batch, length) ids, every sequence full length (no padding,
so no packing), one class per sequence read from the pooled state (a "sequence" task).

Metrics (value = median over `repeats` timed calls after `warmup` untimed ones; spread = IQR):
- train_tokens_per_s: batch*length / one training step (forward, loss, backward, gradient
  clipping, AdamW step: the loop's step without its scheduler);
- infer_latency_ms, infer_tokens_per_s: one forward pass in eval mode under no_grad;
- peak_mem_bytes (CUDA only): torch.cuda.max_memory_allocated over one training step after
  reset_peak_memory_stats: weights, gradients, optimizer state, data and activations. CPU has
  no such counter, so CPU runs write no peak_mem_bytes row;
- sequential_depth: dependent steps per sequence, by family: recurrent length*layers (one step
  per token per layer; a bidirectional layer runs its directions side by side), attention
  `layers`, recurrent-scan ceil(log2 length)*layers (a parallel scan's depth). It counts the
  algorithm's steps, not the kernel's: torch's CPU logcumsumexp walks the sequence;
- achieved_flops: model FLOPs of one training step (3 x forward; forward = 2 x matrix weights
  per token, plus 4*batch*length^2*width per attention layer, counted dense even when causal)
  / step time. `model_flops` is analytic because FlopCounterMode cannot see cuDNN or oneDNN
  recurrences; tests check it against FlopCounterMode where both can count;
- flops_share_of_peak (CUDA, bf16, known device only): achieved_flops / PEAK_BF16_FLOPS.
Timing: CUDA events on GPU; torch.utils.benchmark.Timer on CPU (its timeit(1) per repeat,
which runs two untimed calls of its own before each timed one, so CPU warm-up is >= 2).
A CUDA out-of-memory error in a phase writes that phase's rows with status "oom" and value
NaN, and the sweep goes on.
"""
from __future__ import annotations

import contextlib
import datetime
import gc
import math
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from bench.execute.store import atomic_write
from bench.models import MODELS, SequenceModel
from bench.models.transformer import TransformerEncoder
from bench.run.budget import solve
from bench.run.config import RunConfig
from bench.run.step import Batch, autocast, build_model, make_optimizer, train_step

METRICS = ("train_tokens_per_s", "infer_latency_ms", "infer_tokens_per_s", "peak_mem_bytes",
           "sequential_depth", "achieved_flops", "flops_share_of_peak")
KEY = ["model", "implementation", "device", "dtype", "budget_params", "length", "batch", "metric"]
COLUMNS = ["model", "implementation", "family", "device", "device_name", "dtype", "budget_params",
           "params_core", "width", "layers", "d_embed", "length", "batch", "metric", "value", "spread",
           "value_min", "value_max", "repeats", "status", "threads", "torch", "measured_at"]
# dense bf16 tensor-core peak by device-name substring, first match wins (vendor data sheets)
PEAK_BF16_FLOPS = (("H100 PCIe", 756e12), ("H100 NVL", 835e12), ("H100", 989e12), ("H200", 989e12),
                   ("A100", 312e12), ("L4", 121e12))
_OOM = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


@dataclass(frozen=True)
class SpeedConfig:
    models: tuple[str, ...]
    lengths: tuple[int, ...] = (64, 256, 1024, 4096)
    batches: tuple[int, ...] = (1, 32, 256)
    budget_params: int = 1_000_000
    d_embed: int = RunConfig.d_embed
    layers: int = RunConfig.layers
    heads: int = RunConfig.heads
    vocab: int = 32
    classes: int = 8
    device: str = "cpu"
    dtype: str = "fp32"
    repeats: int = 10
    warmup: int = 3
    compile: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("budget_params", "d_embed", "layers", "heads", "vocab", "classes", "repeats"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise ValueError(f"--warmup must be >= 0, got {self.warmup}")
        if self.compile and self.warmup < 1:
            raise ValueError("--compile needs --warmup >= 1 (the first calls compile)")
        if not self.models or not self.lengths or not self.batches:
            raise ValueError("need at least one model, length and batch size")
        if min(self.lengths) < 1 or min(self.batches) < 1:
            raise ValueError("lengths and batch sizes must be >= 1")
        if self.dtype not in ("bf16", "fp32"):
            raise ValueError(f"unknown dtype {self.dtype!r}; valid: bf16, fp32")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {self.device!r}; valid: cpu, cuda")
        for model in self.models:  # loud lookup and budget check before any measuring
            solve(model, self.budget_params, self.d_embed, self.layers, self.heads, self.d_embed)

    def run_config(self, model: str) -> RunConfig:
        return RunConfig(task="speed", model=model, budget_params=self.budget_params, d_embed=self.d_embed,
                         layers=self.layers, heads=self.heads, device=self.device, seed=self.seed)


@dataclass(frozen=True)
class _Spec:
    """What build_model reads from a task's TaskData."""
    n_classes: int
    vocab_size: int
    n_features: None = None


def implementation(name: str, encoder: torch.nn.Module, device: str, compiled: bool = False) -> str:
    """A short name for the code that runs, e.g. 'cuDNN nn.LSTM' or 'log-space scan (eager)'."""
    family = MODELS[name].family
    if family == "recurrent":
        cell = type(encoder.rnn).__name__
        text = f"cuDNN nn.{cell}" if device == "cuda" else f"torch nn.{cell} (CPU)"
        text += " bidirectional" if encoder.bidirectional else ""
    elif family == "attention":
        text = "BertEncoder SDPA" + (" causal" if encoder.causal else "")
    elif family == "recurrent-scan":
        return "log-space scan " + ("(torch.compile)" if compiled else "(eager)")
    else:
        text = f"{type(encoder).__name__} ({family})"
    return text + (" + torch.compile" if compiled else "")


def sequential_depth(family: str, length: int, layers: int) -> int | None:
    """Dependent steps per sequence (see the module docstring); None for an unknown family."""
    per_layer = {"recurrent": length, "attention": 1,
                 "recurrent-scan": max(1, math.ceil(math.log2(length)))}.get(family)
    return None if per_layer is None else per_layer * layers


def model_flops(model: SequenceModel, batch: int, length: int) -> float:
    """Analytic forward FLOPs of a pooled sequence model (matrix products only)."""
    encoder = model.encoder
    matrices = sum(p.numel() for p in encoder.parameters() if p.ndim >= 2)
    flops = 2.0 * matrices * batch * length
    if isinstance(encoder, TransformerEncoder):  # QK^T and AV: 2 * 2*B*T*T*W per layer
        flops += 4.0 * encoder.encoder.config.num_hidden_layers * batch * length**2 * encoder.width
    head = model.proj.weight.numel() + model.head.weight.numel()
    return flops + 2.0 * head * batch  # projection and head read one pooled state per sequence


def peak_flops(device_name: str, dtype: str) -> float | None:
    if dtype != "bf16":
        return None
    return next((peak for key, peak in PEAK_BF16_FLOPS if key in device_name), None)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):  # Linux: the CPU's marketing name
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def time_calls(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> list[float]:
    """Seconds per call of fn, `repeats` times after `warmup` untimed calls."""
    if device.type == "cuda":
        for _ in range(warmup):
            fn()
        torch.cuda.synchronize(device)
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return times
    from torch.utils.benchmark import Timer

    for _ in range(warmup - 2):  # Timer.timeit makes two untimed calls before each timed one
        fn()
    timer = Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return [timer.timeit(number=1).times[0] for _ in range(repeats)]


def _stats(samples: list[float]) -> dict[str, float]:
    q25, q50, q75 = np.percentile(samples, [25, 50, 75])
    return {"value": float(q50), "spread": float(q75 - q25), "value_min": float(min(samples)),
            "value_max": float(max(samples)), "repeats": len(samples)}


def _exact(value: float) -> dict[str, float]:
    return {"value": float(value), "spread": 0.0, "value_min": float(value),
            "value_max": float(value), "repeats": 1}


def _guarded(phase: Callable[[], dict[str, dict]], metrics: list[str]) -> dict[str, dict]:
    """Run one phase; a CUDA out-of-memory error gives its metrics status 'oom' and NaN values."""
    oom = False
    try:
        return phase()
    except _OOM:
        oom = True  # free memory outside the except block: the traceback holds tensors
    if oom:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    nan = float("nan")
    return {m: {"value": nan, "spread": nan, "value_min": nan, "value_max": nan, "repeats": 0,
                "status": "oom"} for m in metrics}


def measure_cell(model: SequenceModel, config: SpeedConfig, length: int, batch: int,
                 name: str) -> dict[str, dict]:
    """Every metric for one (model, length, batch): {metric: {value, spread, ..., status?}}."""
    device, run = torch.device(config.device), config.run_config("-")
    gen = torch.Generator().manual_seed(config.seed)
    inputs = torch.randint(1, config.vocab, (batch, length), generator=gen).to(device)  # (B, T)
    targets = torch.randint(0, config.classes, (batch,), generator=gen).to(device)  # (B,)
    forward = torch.compile(model, dynamic=False) if config.compile else model
    tokens, results = batch * length, {}

    def train_phase() -> dict[str, dict]:
        model.train()
        optimizer = make_optimizer(model, run.lr, run.weight_decay)
        last = torch.full((batch,), length - 1, device=device)
        step_batch = Batch(inputs, targets, None, last, None)

        def step():  # the training loop's own step (bench.run.step), at this probe's dtype
            train_step(forward, optimizer, step_batch, "sequence", run.clip_norm, bf16=config.dtype == "bf16")

        times = time_calls(step, device, config.repeats, config.warmup)
        flops = 3.0 * model_flops(model, batch, length)
        out = {"train_tokens_per_s": _stats([tokens / t for t in times]),
               "achieved_flops": _stats([flops / t for t in times])}
        peak = peak_flops(device_name(device), config.dtype) if device.type == "cuda" else None
        if peak is not None:
            out["flops_share_of_peak"] = _stats([flops / t / peak for t in times])
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            step()
            torch.cuda.synchronize(device)
            out["peak_mem_bytes"] = _exact(torch.cuda.max_memory_allocated(device))
        optimizer.zero_grad(set_to_none=True)
        return out

    def infer_phase() -> dict[str, dict]:
        model.eval()

        def call():
            with torch.no_grad(), autocast(device, config.dtype == "bf16"):
                forward(inputs, None)

        times = time_calls(call, device, config.repeats, config.warmup)
        return {"infer_latency_ms": _stats([t * 1e3 for t in times]),
                "infer_tokens_per_s": _stats([tokens / t for t in times])}

    train_metrics = ["train_tokens_per_s", "achieved_flops"]
    if device.type == "cuda":
        train_metrics.append("peak_mem_bytes")
        if peak_flops(device_name(device), config.dtype) is not None:
            train_metrics.append("flops_share_of_peak")
    results.update(_guarded(train_phase, train_metrics))
    model.zero_grad(set_to_none=True)  # also after an out-of-memory error mid-backward
    results.update(_guarded(infer_phase, ["infer_latency_ms", "infer_tokens_per_s"]))
    depth = sequential_depth(MODELS[name].family, length, config.layers)
    if depth is not None:
        results["sequential_depth"] = _exact(depth)
    return results


def measure(config: SpeedConfig, progress: Callable[[str], None] | None = print) -> pd.DataFrame:
    """The whole sweep as a tidy frame (COLUMNS), one row per (model, length, batch, metric)."""
    device = torch.device(config.device)
    common = {"device": config.device, "device_name": device_name(device), "dtype": config.dtype,
              "budget_params": config.budget_params, "layers": config.layers, "d_embed": config.d_embed,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    rows = []
    for name in config.models:
        torch.manual_seed(config.seed)
        model, sized = build_model(config.run_config(name), _Spec(config.classes, config.vocab))
        model.to(device)
        initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        ids = {"model": name, "implementation": implementation(name, model.encoder, config.device,
                                                               config.compile),
               "family": MODELS[name].family, "params_core": sized.params_core, "width": sized.width}
        for batch in config.batches:
            for length in config.lengths:
                model.load_state_dict(initial)  # every cell starts from the same weights
                if config.compile:
                    torch.compiler.reset()
                cell = measure_cell(model, config, length, batch, name)
                stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                for metric, result in cell.items():
                    rows.append({**common, **ids, "length": length, "batch": batch, "metric": metric,
                                 "status": "ok", **result, "measured_at": stamp})
                if progress is not None:
                    progress(_progress_line(name, length, batch, cell))
        del model, initial
        if device.type == "cuda":  # hand the cached blocks back before the next model
            gc.collect()
            torch.cuda.empty_cache()
    return pd.DataFrame(rows, columns=COLUMNS)


def _progress_line(name: str, length: int, batch: int, cell: dict[str, dict]) -> str:
    def show(metric: str, fmt: str) -> str:
        result = cell.get(metric)
        if result is None:
            return "-"
        return "oom" if result.get("status") == "oom" else format(result["value"], fmt)
    return (f"{name:<18} T={length:<5} B={batch:<4} train {show('train_tokens_per_s', ',.0f')} tok/s  "
            f"infer {show('infer_latency_ms', '.2f')} ms")


def load(out: Path) -> pd.DataFrame:
    """DIR/speed.csv, or an empty frame with COLUMNS when there is none yet."""
    path = Path(out) / "speed.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=COLUMNS)


def merge_write(out: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Merge new rows into DIR/speed.csv (a new row replaces an old one with the same KEY),
    rewrite it atomically and return the merged table."""
    old = load(out)
    parts = [f for f in (old, frame) if not f.empty]
    merged = pd.concat(parts, ignore_index=True) if parts else frame
    merged = merged.drop_duplicates(subset=KEY, keep="last")
    merged = merged.sort_values(["device", "dtype", "budget_params", "model", "implementation", "batch",
                                 "length", "metric"], kind="stable")
    atomic_write(Path(out) / "speed.csv", merged.to_csv(index=False).encode())
    return merged


THROUGHPUT = ("train_tokens_per_s", "infer_tokens_per_s", "achieved_flops")


def speedup_over(frame: pd.DataFrame, baseline: str = "lstm",
                 metrics: tuple[str, ...] = ("train_tokens_per_s", "infer_tokens_per_s", "infer_latency_ms"),
                 ) -> pd.DataFrame:
    """Each model's speed-up over `baseline` in the same (device, dtype, budget, length, batch).

    speedup > 1 means faster than the baseline: value / baseline for throughputs, baseline /
    value for infer_latency_ms. Only status-ok rows; cells without an ok baseline row are
    left out. If the baseline has several implementations there (eager and compiled), the
    fastest is the baseline. Columns: model, implementation, device, dtype, budget_params,
    length, batch, metric, value, baseline, baseline_value, speedup.
    """
    unknown = sorted(set(metrics) - set(THROUGHPUT) - {"infer_latency_ms"})
    if unknown:
        raise ValueError(f"speedup_over: no speed-up for {unknown[0]!r}; valid: "
                         f"{', '.join(THROUGHPUT + ('infer_latency_ms',))}")
    cell = ["device", "dtype", "budget_params", "length", "batch", "metric"]
    ok = frame[(frame["status"] == "ok") & frame["metric"].isin(metrics)]
    base = ok[ok["model"] == baseline]
    lower_is_better = base["metric"] == "infer_latency_ms"
    best = pd.concat([base[~lower_is_better].groupby(cell, as_index=False)["value"].max(),
                      base[lower_is_better].groupby(cell, as_index=False)["value"].min()])
    merged = ok.merge(best.rename(columns={"value": "baseline_value"}), on=cell, how="inner")
    ratio = merged["value"] / merged["baseline_value"]
    merged["speedup"] = ratio.where(merged["metric"] != "infer_latency_ms", 1.0 / ratio)
    merged["baseline"] = baseline
    columns = ["model", "implementation", "device", "dtype", "budget_params", "length", "batch",
               "metric", "value", "baseline", "baseline_value", "speedup"]
    return merged[columns].reset_index(drop=True)


def _human(value: float) -> str:
    if not math.isfinite(value):
        return "nan"
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.3g}"


def summary(frame: pd.DataFrame, metrics: tuple[str, ...] = ("train_tokens_per_s", "infer_latency_ms",
                                                            "peak_mem_bytes")) -> str:
    """A compact text table per metric: rows (model, batch), columns length; 'oom' where it ran out."""
    blocks = []
    for metric in metrics:
        part = frame[frame["metric"] == metric]
        if part.empty:
            continue
        shown = part.assign(shown=[("oom" if s == "oom" else _human(v))
                                   for s, v in zip(part["status"], part["value"], strict=True)])
        table = shown.pivot_table(index=["model", "batch"], columns="length", values="shown",
                                  aggfunc="first", sort=False)
        blocks.append(f"{metric} (rows: model, batch; columns: length)\n{table.to_string()}")
    return "\n\n".join(blocks)
