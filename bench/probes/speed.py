"""Speed against sequence length: training throughput, inference latency, peak memory,
sequential depth, achieved FLOP/s and its share of the machine's GEMM peak, one tidy row
per (model, length, batch, metric).

Every model is built exactly as the training loop builds it (`bench.run.step.build_model`),
at equal core parameters (`width_rule` "params": the budget) or at equal width ("width":
every model's width = `width`, FFN 4 x width), and trained with the loop's own
`train_step` on random tokens, one class per sequence from the pooled state. Batches are
`full` (every sequence `length` long) or `ragged` (each sequence min(length, L) long, L
drawn from the real IMDB review lengths in BPE tokens, padded to `length`: what a model
meets on real text). Each pass runs at a set torch thread count (the `threads` column), so
1 and 2 threads measure which models a second core speeds up.

Metrics (value = median over `repeats` timed calls after `warmup` untimed ones; spread = IQR;
the repeats of all models of a (length, batch) cell are interleaved, A B C A B C):
- train_tokens_per_s: batch*length / one training step (forward, loss, backward, gradient
  clipping, AdamW step: the loop's step without its scheduler);
- infer_latency_ms, infer_tokens_per_s: one forward pass in eval mode under no_grad;
- peak_mem_bytes: one training step's peak memory, allocator-based on CUDA and on CPU (on CPU
  the step's net tensor allocations from torch.profiler's memory events, so without the
  weights; bench/probes/timing.py);
- sequential_depth: dependent steps per sequence, by family: recurrent length*layers (one step
  per token per layer; a bidirectional layer runs its directions side by side), attention
  `layers`, recurrent-scan: the depth of the scan that runs (the encoder says: length*layers for
  the sequential CPU scan, ceil(log2 length)*layers for a log-depth one);
- achieved_flops: model FLOPs of one training step (3 x forward; forward = 2 x matrix weights
  per token, plus 4*batch*length^2*width per attention layer, counted dense even when causal)
  / step time. `model_flops` is analytic because FlopCounterMode cannot see cuDNN or oneDNN
  recurrences; tests check it against FlopCounterMode where both can count;
- gemm_peak_flops: the machine's ceiling measured in the same cell at the same threads and
  dtype: one large square matmul timed among the models' steps, best of its repeats;
- flops_share_of_peak: achieved_flops / gemm_peak_flops (per repeat, median).
Timing: bench/probes/timing.py. An out-of-memory error writes that phase's rows with status
"oom", a first call slower than `max_call_s` status "too_slow" (and longer lengths of that
model in that pass are not tried), both with value NaN, and the sweep goes on.
"""
from __future__ import annotations

import datetime
import functools
import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd
import torch

from bench.models import MODELS, SequenceModel
from bench.models.transformer import TransformerEncoder
from bench.probes.timing import (
    attempt,
    cpu_peak_bytes,
    device_name,
    exact,
    failed,
    gemm_call,
    summary_stats,
    time_interleaved,
)
from bench.run.budget import solve
from bench.run.config import RunConfig
from bench.run.step import Batch, autocast, build_model, make_optimizer, train_step

METRICS = ("train_tokens_per_s", "infer_latency_ms", "infer_tokens_per_s", "peak_mem_bytes",
           "sequential_depth", "achieved_flops", "flops_share_of_peak", "gemm_peak_flops")
GEMM = "_gemm_peak"  # the GEMM-peak call among the models of a cell (not a model name: leading _)
KEY = ["model", "implementation", "device", "dtype", "budget_params", "width_rule", "batch_kind",
       "threads", "length", "batch", "metric"]
COLUMNS = ["model", "implementation", "family", "device", "device_name", "dtype", "budget_params",
           "width_rule", "batch_kind", "params_core", "width", "layers", "d_embed", "length", "batch",
           "metric", "value", "spread", "value_min", "value_max", "repeats", "status", "threads", "torch",
           "measured_at"]
# real IMDB review lengths in BPE tokens (16k vocabulary, the training split, 22,232 reviews):
# the 0, 5, 10, 20, ..., 90, 95, 100th percentiles; ragged batches draw from them
IMDB_LENGTH_PERCENTILES = ((0, 12), (5, 80), (10, 115), (20, 151), (30, 170), (40, 192), (50, 223),
                           (60, 263), (70, 324), (80, 414), (90, 590), (95, 776), (100, 2241))


@dataclass(frozen=True)
class SpeedConfig:
    models: tuple[str, ...]
    lengths: tuple[int, ...] = (64, 256, 1024, 4096)
    batches: tuple[int, ...] = (1, 32, 256)
    budget_params: int = 1_000_000
    width_rule: str = "params"  # "params": equal core parameters; "width": every model at `width`
    width: int = 128
    batch_kind: str = "full"  # "full" or "ragged" (real IMDB length distribution)
    threads: int = 0  # torch CPU threads for this pass (0: leave torch's setting)
    d_embed: int = RunConfig.d_embed
    layers: int = RunConfig.layers
    heads: int = RunConfig.heads
    vocab: int = 32
    classes: int = 8
    device: str = "cpu"
    dtype: str = "fp32"
    repeats: int = 10
    warmup: int = 3
    max_call_s: float | None = None  # a first call slower than this: status too_slow
    compile: bool = False
    gemm_size: int = 0  # n of the n x n GEMM-peak matmul (0: 2048 on CPU, 8192 on CUDA)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("budget_params", "d_embed", "layers", "heads", "vocab", "classes", "repeats", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.warmup < 0 or self.threads < 0 or self.gemm_size < 0:
            raise ValueError(f"--warmup, --threads and gemm_size must be >= 0, got {self.warmup}, "
                             f"{self.threads}, {self.gemm_size}")
        if self.compile and self.warmup < 1:
            raise ValueError("--compile needs --warmup >= 1 (the first calls compile)")
        if not self.models or not self.lengths or not self.batches:
            raise ValueError("need at least one model, length and batch size")
        if min(self.lengths) < 1 or min(self.batches) < 1:
            raise ValueError("lengths and batch sizes must be >= 1")
        for name, value, valid in (("dtype", self.dtype, ("bf16", "fp32")), ("device", self.device, ("cpu", "cuda")),
                                   ("width-rule", self.width_rule, ("params", "width")),
                                   ("batch-kind", self.batch_kind, ("full", "ragged"))):
            if value not in valid:
                raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
        for model in self.models:  # loud lookup and budget check before any measuring
            if self.width_rule == "params":
                solve(model, self.budget_params, self.d_embed, self.layers, self.heads, self.d_embed)
            elif self.width % MODELS[model].width_multiple(self.heads):
                raise ValueError(f"--width {self.width} is not a multiple of what {model} needs "
                                 f"({MODELS[model].width_multiple(self.heads)})")

    def run_config(self, model: str) -> RunConfig:
        return RunConfig(task="speed", model=model, budget_params=self.budget_params, d_embed=self.d_embed,
                         layers=self.layers, heads=self.heads, device=self.device, seed=self.seed)


def cpu_sweep(models: tuple[str, ...], repeats: int = 3) -> list[SpeedConfig]:
    """`bench speed --preset cpu` (make speed): every model, batch 32, 100k core parameters, in
    four passes: equal parameters on full batches at 2 threads, lengths 64 to 4096 doubling
    (the main sweep); then, at lengths 64, 256 and 1024 (so the whole preset fits in about a
    quarter of an hour on 2 quiet cores), the same at 1 thread (thread scaling), equal width 128 at 2
    threads, and ragged batches at 2 threads. The first call (untimed: it warms up) over 8 s
    marks a cell too_slow, and the model's longer lengths in that pass are not tried."""
    base = SpeedConfig(models=models, lengths=tuple(64 * 2 ** i for i in range(7)), batches=(32,),
                       budget_params=100_000, d_embed=64, repeats=repeats, warmup=0, max_call_s=8.0,
                       threads=2)
    short = replace(base, lengths=(64, 256, 1024))
    return [base, replace(short, threads=1), replace(short, width_rule="width"),
            replace(short, batch_kind="ragged")]


@dataclass(frozen=True)
class _Spec:
    """What build_model reads from a task's TaskData."""
    n_classes: int
    vocab_size: int
    n_features: None = None


def implementation(name: str, encoder: torch.nn.Module, device: str, compiled: bool = False) -> str:
    """A short name for the code that runs, e.g. 'cuDNN nn.LSTM' or 'sequential scan (T eager steps, ...)'."""
    if hasattr(encoder, "implementation"):
        text = encoder.implementation(device)
    elif MODELS[name].family == "attention":
        text = "BertEncoder SDPA" + (" causal" if encoder.causal else "")
    else:
        text = f"{type(encoder).__name__} ({MODELS[name].family})"
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


def ragged_lengths(batch: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """(batch,) lengths min(length, L), L drawn from IMDB_LENGTH_PERCENTILES (interpolated)."""
    quantiles, values = zip(*IMDB_LENGTH_PERCENTILES)
    drawn = np.interp(torch.rand(batch, generator=gen).numpy() * 100, quantiles, values)
    return torch.from_numpy(np.minimum(np.round(drawn), length).astype(np.int64)).clamp(min=1)


def step_batch(config: SpeedConfig, length: int, batch: int) -> Batch:
    """The random batch every model of a (length, batch) cell is timed on."""
    device = torch.device(config.device)
    gen = torch.Generator().manual_seed(config.seed)
    inputs = torch.randint(1, config.vocab, (batch, length), generator=gen)  # (B, T)
    targets = torch.randint(0, config.classes, (batch,), generator=gen).to(device)  # (B,)
    lengths = ragged_lengths(batch, length, gen) if config.batch_kind == "ragged" else None
    if lengths is not None:
        inputs[torch.arange(length)[None, :] >= lengths[:, None]] = 0  # right padding
    last = (lengths - 1).to(device) if lengths is not None else torch.full((batch,), length - 1, device=device)
    return Batch(inputs.to(device), targets, None, last, lengths)


def _peak_memory(step: Callable[[], object], device: torch.device) -> float:
    if device.type != "cuda":
        return float(cpu_peak_bytes(step))
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    torch.cuda.synchronize(device)
    return float(torch.cuda.max_memory_allocated(device))


def measure_length(models: dict[str, SequenceModel], config: SpeedConfig, length: int,
                   batch: int) -> dict[str, dict[str, dict]]:
    """Every metric of every model at one (length, batch): {model: {metric: {value, ...}}}.
    Training steps, then inference calls, are timed interleaved across the models and the
    GEMM peak (timing.time_interleaved); memory is one more step per model afterwards."""
    device, run, bf16 = torch.device(config.device), config.run_config("-"), config.dtype == "bf16"
    data, tokens = step_batch(config, length, batch), batch * length
    if config.compile:
        torch.compiler.reset()
    forwards = {n: torch.compile(m, dynamic=False) if config.compile else m for n, m in models.items()}
    steps = {}
    for name, model in models.items():
        model.train()
        optimizer = make_optimizer(model, run.lr, run.weight_decay)
        steps[name] = functools.partial(train_step, forwards[name], optimizer, data, "sequence", run.clip_norm,
                                        bf16=bf16)
    gemm, gemm_flops = gemm_call(device, torch.bfloat16 if bf16 else torch.float32, config.gemm_size)
    timed = time_interleaved({**steps, GEMM: gemm}, device, config.repeats, config.warmup, config.max_call_s)
    peak = gemm_flops / min(timed[GEMM]) if isinstance(timed[GEMM], list) and timed[GEMM] else None
    results = {}
    for name, model in models.items():
        times, flops = timed[name], 3.0 * model_flops(model, batch, length)
        train = ["train_tokens_per_s", "achieved_flops", "peak_mem_bytes"] + (["flops_share_of_peak"] if peak else [])
        if isinstance(times, str):
            results[name] = failed(train, times)
        else:
            results[name] = {"train_tokens_per_s": summary_stats([tokens / t for t in times]),
                             "achieved_flops": summary_stats([flops / t for t in times])}
            if peak:
                results[name]["flops_share_of_peak"] = summary_stats([flops / t / peak for t in times])
            memory: list[float] = []
            status = attempt(lambda step=steps[name], out=memory: out.append(_peak_memory(step, device)), device)
            results[name].update(failed(["peak_mem_bytes"], status) if status else
                                 {"peak_mem_bytes": exact(memory[0])})
        if peak:
            results[name]["gemm_peak_flops"] = exact(peak)
        model.zero_grad(set_to_none=True)  # also after an out-of-memory error mid-backward
        model.eval()

    def infer(name: str):
        with torch.no_grad(), autocast(device, bf16):
            forwards[name](data.inputs, data.lengths, None, data.last)

    ready = [n for n in models if results[n]["train_tokens_per_s"].get("status") != "too_slow"]
    timed = time_interleaved({n: functools.partial(infer, n) for n in ready}, device, config.repeats,
                             config.warmup, config.max_call_s)
    for name, model in models.items():
        times = timed.get(name, results[name]["train_tokens_per_s"].get("status"))
        results[name].update(failed(["infer_latency_ms", "infer_tokens_per_s"], times) if isinstance(times, str)
                             else {"infer_latency_ms": summary_stats([t * 1e3 for t in times]),
                                   "infer_tokens_per_s": summary_stats([tokens / t for t in times])})
        depth = (model.encoder.sequential_depth(config.device, length) if hasattr(model.encoder, "sequential_depth")
                 else sequential_depth(MODELS[name].family, length, config.layers))
        if depth is not None:
            results[name]["sequential_depth"] = exact(depth)
    return results


def measure(config: SpeedConfig, progress: Callable[[str], None] | None = print) -> pd.DataFrame:
    """One pass as a tidy frame (COLUMNS), one row per (model, length, batch, metric). Every
    model is built once; at each (batch, length) all of them start from their initial weights
    and are timed together (measure_length)."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    common = {"device": config.device, "device_name": device_name(device), "dtype": config.dtype,
              "budget_params": config.budget_params, "width_rule": config.width_rule,
              "batch_kind": config.batch_kind, "layers": config.layers, "d_embed": config.d_embed,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    models, initial, ids, rows = {}, {}, {}, []
    for name in config.models:
        torch.manual_seed(config.seed)
        width = config.width if config.width_rule == "width" else None
        models[name], sized = build_model(config.run_config(name), _Spec(config.classes, config.vocab), width=width)
        models[name].to(device)
        initial[name] = {k: v.detach().clone() for k, v in models[name].state_dict().items()}
        ids[name] = {"model": name, "implementation": implementation(name, models[name].encoder, config.device,
                                                                     config.compile),
                     "family": MODELS[name].family, "params_core": sized.params_core, "width": sized.width}
    for batch in config.batches:
        slow: set[str] = set()  # too slow at a shorter length: a longer one is slower still
        for length in config.lengths:
            for name in models:
                models[name].load_state_dict(initial[name])  # every cell starts from the same weights
            live = {n: m for n, m in models.items() if n not in slow}
            cells = measure_length(live, config, length, batch) if live else {}
            stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            for name in models:
                cell = cells.get(name) or failed(["train_tokens_per_s", "infer_latency_ms"], "too_slow")
                if cell["train_tokens_per_s"].get("status") == "too_slow":
                    slow.add(name)
                for metric, result in cell.items():
                    rows.append({**common, **ids[name], "length": length, "batch": batch, "metric": metric,
                                 "status": "ok", **result, "measured_at": stamp})
                if progress is not None:
                    progress(_progress_line(name, config, length, batch, cell))
    del models, initial
    if device.type == "cuda":  # hand the cached blocks back
        torch.cuda.empty_cache()
    return pd.DataFrame(rows, columns=COLUMNS)


def _progress_line(name: str, config: SpeedConfig, length: int, batch: int, cell: dict[str, dict]) -> str:
    def show(metric: str, fmt: str) -> str:
        result = cell.get(metric)
        if result is None:
            return "-"
        return result["status"] if result.get("status") else format(result["value"], fmt)
    return (f"{name:<18} {config.width_rule:<6} {config.batch_kind:<6} threads={torch.get_num_threads()} "
            f"T={length:<5} B={batch:<4} train {show('train_tokens_per_s', ',.0f')} tok/s  "
            f"infer {show('infer_latency_ms', '.2f')} ms")
