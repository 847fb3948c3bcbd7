"""Claims about cost: 3 (attention's speed-up over the LSTM grows with length), 4 (parameters at
equal width: arithmetic, not a measurement), 5 (GRU faster than LSTM).

Claims 3 and 5 come only from the rows of one `bench speed` sweep (speed.csv), compared
within one setting (device, threads, dtype, batch, batch kind, width rule and size: see
bench.analysis.speed); never from the runs' throughput, which mixes tasks and lengths.
Throughputs are deterministic measurements without seeds: a ratio counts when it passes
1.1 (or 1/1.1), the noise band of `ratio_rule`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from bench.analysis.speed import pair_ratios
from bench.analysis.stats import (
    INCONCLUSIVE,
    NOT_RUN,
    REFUTED,
    SPEED_MARGIN,
    SUPPORTED,
    Claim,
    Part,
    agree,
    all_of,
    ratio_rule,
)

EQUAL_WIDTH_RECURRENT = ("rnn", "lstm", "gru", "mingru", "minlstm")  # claim 4: one recurrence per layer
# what a GPU would change: the project's own H100 probe (B=32, ~1M core params, bf16, forward+
# backward), copied with its source into results/gpu_anchors.md so a report cites a file in the
# repository; not measured in the folder a report describes
GPU_ANCHORS = {
    3: ("On one H100 (bf16, batch 32, ~1M core parameters; cuDNN LSTM vs SDPA Transformer) the "
        "Transformer trains at 1.1x the LSTM's tokens/s at T=64 and 12.5x at T=4096 (0.29M vs "
        "0.26M, 6.23M vs 0.50M): there the speed-up grows with length."),
    5: ("On one H100 (bf16, batch 32, cuDNN) the GRU trains at 1.08x the LSTM's tokens/s at T=64 "
        "and 0.76x at T=4096 (0.28M vs 0.26M, 0.38M vs 0.50M): no faster there either."),
}
RULES = {"params": "equal core parameters", "width": "equal width"}


def _device_words(group: pd.DataFrame) -> str:
    """'this CPU (Intel Xeon, 2 threads, fp32, batch 32 full)' for one setting's rows."""
    first = group.iloc[0]
    device = str(first.get("device", "?"))
    what = "CPU" if device == "cpu" else "GPU" if device.startswith("cuda") else device
    inside = [str(first[c]) for c in ("device_name",) if c in first and pd.notna(first[c]) and str(first[c])]
    if "threads" in first and pd.notna(first["threads"]):
        inside.append(f"{int(float(first['threads']))} threads")
    inside += [str(first[c]) for c in ("dtype",) if c in first and pd.notna(first[c])]
    if "batch" in first and pd.notna(first["batch"]):
        inside.append(f"batch {int(float(first['batch']))} {first.get('batch_kind', '')}".strip())
    inside.append(RULES.get(str(first.get("width_rule")), "equal core parameters"))
    return f"this {what} ({', '.join(inside)})"


def _verdict_words(verdict: str) -> str:
    return {SUPPORTED: "supported on this device", REFUTED: "refuted on this device",
            INCONCLUSIVE: "inconclusive on this device (within the noise band)"}.get(verdict, verdict)


def claim_parallel_speedup(speed: pd.DataFrame | None) -> Claim:
    statement = ("Attention trains in parallel: the Transformer's training speedup over the LSTM "
                 "grows with sequence length.")
    rule = (f"From one `bench speed` sweep only. In each measured setting (same device, threads, "
            f"precision, batch and size), speedup = Transformer training tokens/s / LSTM tokens/s at "
            f"each length (each model's fastest implementation). The claim holds in that setting when "
            f"the speedup at the longest length is more than {SPEED_MARGIN}x the speedup at the "
            f"shortest; it is refuted when it is less than 1/{SPEED_MARGIN}x; in between, inconclusive "
            f"(timing noise). Settings that disagree make the claim inconclusive overall: the answer "
            f"depends on the device, and each setting's verdict is listed.")
    ratios = pair_ratios(speed, "transformer", "lstm")
    parts = []
    for setting, group in ratios.groupby("setting", sort=True):
        if len(group) < 2:
            parts.append(Part(setting, NOT_RUN, "needs >= 2 lengths"))
            continue
        first, last = group.iloc[0], group.iloc[-1]
        part = ratio_rule(last["ratio"] / first["ratio"], setting, what="growth")
        part.detail = (f"on {_device_words(group)}, {last['top_impl']} vs {last['bottom_impl']}: the "
                       f"Transformer trains at {first['ratio']:.2f}x the LSTM at T={first['length']:g} and "
                       f"{last['ratio']:.2f}x at T={last['length']:g}: {_verdict_words(part.verdict)} "
                       f"({part.detail})")
        parts.append(part)
    if not parts:
        parts.append(Part("speed", NOT_RUN, "no speed.csv rows with transformer and lstm training "
                          "throughput (`bench speed` writes them); run throughput is never used"))
    return Claim(3, statement, rule, agree(parts), parts, ratios)


def claim_gru_faster(speed: pd.DataFrame | None) -> Claim:
    statement = ("A GRU trains faster than an LSTM (fewer tensor operations), per device, at equal "
                 "parameters and at equal width.")
    rule = (f"From one `bench speed` sweep only. In each measured setting, ratio = GRU training "
            f"tokens/s / LSTM tokens/s, averaged over the lengths (geometric mean), each model's "
            f"fastest implementation. Above {SPEED_MARGIN}x supported, below 1/{SPEED_MARGIN}x "
            f"refuted, in between inconclusive (timing noise). Measured at equal core parameters "
            f"and at equal width, both shown. Settings that disagree make the claim inconclusive "
            f"overall (it depends on the device); each setting's verdict is listed.")
    ratios = pair_ratios(speed, "gru", "lstm")
    parts = []
    for setting, group in ratios.groupby("setting", sort=True):
        geo = float(np.exp(np.log(group["ratio"]).mean()))
        part = ratio_rule(geo, setting, what="gru/lstm")
        lengths = ", ".join(f"{x:g}" for x in group["length"])
        part.detail = (f"on {_device_words(group)} ({group['top_impl'].iloc[0]} vs "
                       f"{group['bottom_impl'].iloc[0]}) the GRU is {geo:.2f}x the LSTM over lengths "
                       f"{lengths}: {_verdict_words(part.verdict)} ({part.detail})")
        parts.append(part)
    if not parts:
        parts.append(Part("speed", NOT_RUN, "no speed.csv rows with gru and lstm training throughput "
                          "(`bench speed` writes them); run throughput is never used"))
    else:
        rules = set(ratios["width_rule"]) if "width_rule" in ratios else {"params"}
        parts += [Part(f"{RULES[r]}", NOT_RUN, f"not measured at {RULES[r]} (`bench speed` width rule "
                       f"'{r}')") for r in RULES if r not in rules]
    return Claim(5, statement, rule, agree(parts), parts, ratios)


def claim_params_at_width(structure: pd.DataFrame | None) -> Claim:
    statement = ("At equal width, recurrent models have fewer parameters than a Transformer. A "
                 "property of the architecture (arithmetic on parameter counts, not a measurement).")
    rule = ("Count the core parameters of each model with one recurrence per layer (rnn, lstm, gru, "
            "mingru, minlstm) and of the Transformer at the same width, layers and embedding size "
            "(Transformer FFN = 4 x width). Fewer at every tested width: supported; more at every "
            "width: refuted; mixed: inconclusive. bilstm (two recurrences per layer) is listed for "
            "information only. Arithmetic, so no seeds and no statistics.")
    parts = []
    if structure is None or structure.empty or "transformer" not in set(structure["model"]):
        return Claim(4, statement, rule, NOT_RUN,
                     [Part("structure", NOT_RUN, "no transformer parameter counts")],
                     structure if structure is not None else pd.DataFrame())
    wide = structure.pivot_table(index="width", columns="model", values="params_core")
    for model in EQUAL_WIDTH_RECURRENT:
        if model not in wide:
            continue
        ratio = wide[model] / wide["transformer"]
        text = ", ".join(f"w={w}: {r:.2f}x" for w, r in ratio.items())
        verdict = SUPPORTED if (ratio < 1).all() else REFUTED if (ratio > 1).all() else INCONCLUSIVE
        parts.append(Part(f"{model} < transformer", verdict, f"params ratio {text} (arithmetic)"))
    if not parts:
        parts.append(Part("structure", NOT_RUN, "no recurrent parameter counts"))
    return Claim(4, statement, rule, all_of(parts), parts, structure)
