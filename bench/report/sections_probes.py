"""Markdown sections about the probes: speed (speed.csv) and gradient flow (gradflow.csv)."""
from __future__ import annotations

import pandas as pd

from bench.analysis.analyze import Analysis
from bench.analysis.claims import GPU_ANCHORS
from bench.analysis.labels import sort_models
from bench.analysis.speed import gemm_peaks, metric_table
from bench.report.markdown import human, markdown

GPU_NOTE = ("What a GPU would change (the project's own H100 probe, copied with its setting into "
            "`results/gpu_anchors.md` of this repository; **not measured here**):")


def speed_section(result: Analysis) -> list[str]:
    lines = ["## Speed", ""]
    if result.speed.empty:
        return lines + ["_No speed.csv in this folder (`python -m bench speed --out DIR` writes it); "
                        "claims 3 and 5 are `not run` (run throughput mixes tasks and lengths and is "
                        "never used for them)._", ""]
    rows = result.speed_ok
    if rows.empty:
        return lines + ["_speed.csv holds no ok train_tokens_per_s rows._", ""]
    about = [c for c in ("implementation", "torch", "budget_params", "width") if c in rows]
    lines += ["Settings measured (each a separate comparison):", ""]
    for setting, group in rows.groupby("setting"):
        facts = "; ".join(f"{c}: {', '.join(sorted(map(str, group[c].dropna().unique())))}" for c in about)
        lines.append(f"- {setting} ({facts})")
    lines += ["", "Training tokens/s (median over repeats) against sequence length:", "",
              markdown(result.throughput, numbers=human), "",
              "Speed-up over the LSTM (training tokens/s ratio in the same setting and length; > 1 "
              "is faster):", "", markdown(result.speedup_wide, numbers="{:.2f}".format), ""]
    lines += _ceiling_and_memory(result.speed)
    if not result.scaling.empty:
        lines += ["Thread scaling (what a second core buys on this CPU: training tokens/s at 2 threads over 1 "
                  "thread, same model and length; 1.0 = no gain, 2.0 = perfect):", "",
                  markdown(result.scaling, numbers="{:.2f}".format), ""]
    lines += [f"{GPU_NOTE} {GPU_ANCHORS[3]} {GPU_ANCHORS[5]}", ""]
    lines += ["Harness efficiency: each run's training tokens/s over the raw training-step tokens/s "
              "`bench speed` measured for the same model, device, threads, length, batch and budget. "
              "`efficiency`: end to end, the whole run with its validations (the harness's real cost); "
              "`efficiency_train`: training steps only (1.0 = the loop costs nothing beyond the model's "
              "step):", ""]
    lines += ([markdown(result.efficiency, numbers="{:.3g}".format), ""] if not result.efficiency.empty else
              ["_No run matches a speed row (same model, device, threads, length, batch and budget)._", ""])
    return lines


def _ceiling_and_memory(speed: pd.DataFrame) -> list[str]:
    """The share of the machine's own GEMM peak each model reaches, and one training step's
    peak memory (rows written by `bench speed` since issue 21; older files have none)."""
    lines, peaks = [], gemm_peaks(speed)
    share, memory = metric_table(speed, "flops_share_of_peak"), metric_table(speed, "peak_mem_bytes")
    if not peaks.empty and not share.empty:
        about = "; ".join(f"{r.setting}: {human(r.peak_flops)}FLOP/s (cells {human(r.low)}-{human(r.high)})"
                          for r in peaks.itertuples())
        lines += ["Share of the machine's fp32 (bf16 on CUDA) GEMM peak: each model's achieved FLOP/s (model "
                  "FLOPs of a training step, 3 x forward, over its time) divided by the best of one large square "
                  f"matmul timed among the models' steps at the same threads ({about}):", "",
                  markdown(share, numbers="{:.1%}".format), ""]
    if not memory.empty:
        lengths = [c for c in memory.columns if c not in ("setting", "line")]
        memory[lengths] = memory[lengths] / 1e6
        lines += ["Peak memory of one training step, MB (CPU: the step's net tensor allocations from "
                  "torch.profiler's memory events, weights excluded; CUDA: torch.cuda.max_memory_allocated, "
                  "weights included):", "", markdown(memory, numbers="{:.1f}".format), ""]
    return lines


def gradflow_section(result: Analysis) -> list[str]:
    lines = ["## Gradient flow", ""]
    gradflow = result.gradflow
    if gradflow.empty:
        return lines + ["_No gradflow.csv in this folder (`python -m bench gradflow --out DIR` writes "
                        "it); claims 6 and 7 are `not run`._", ""]
    position = gradflow[gradflow["kind"] == "position"] if "kind" in gradflow else gradflow.iloc[0:0]
    if not position.empty:
        far = int(position["distance"].max())
        picked = [d for d in (1, 4, 16, far) if d <= far]
        table = (position[position["distance"].isin(picked)]
                 .pivot_table(index=["quantity", "phase", "model"], columns="distance",
                              values="grad_norm", aggfunc="median").reset_index())
        table.columns = [c if isinstance(c, str) else f"d={c:g}" for c in table.columns]
        rank = {m: i for i, m in enumerate(sort_models(table["model"], result.order))}
        table = table.sort_values(["quantity", "phase", "model"],
                                  key=lambda s: s.map(rank) if s.name == "model" else s)
        if "val_accuracy" in position:
            accuracy = position.groupby(["phase", "model"])["val_accuracy"].first()
            table["val accuracy"] = [accuracy.get((p, m)) for p, m in zip(table["phase"], table["model"],
                                                                           strict=True)]
        lines += ["Mean over examples of |dL/d state| at a position `d` steps before the loss "
                  "(`hidden`: the recurrent state of every layer; `input`: the encoder input), at "
                  "initialisation and after training (the training loop, best weights):", "",
                  markdown(table, numbers="{:.2e}".format), ""]
    clip = gradflow[gradflow["kind"] == "clip"] if "kind" in gradflow else gradflow.iloc[0:0]
    if not clip.empty:
        evidence = next((c.evidence for c in result.claims if c.number == 7), pd.DataFrame())
        lines += ["Clipping probe (plain RNN at a high learning rate), every optimizer shown:", "",
                  markdown(evidence, numbers="{:.3g}".format), ""]
    return lines
