"""Claims and their verdicts, computed from result tables by pure functions (never by hand).

Every verdict is one of `supported`, `refuted`, `inconclusive`, `not run`; the building blocks
(confidence intervals, the CI rule, conjunctions) live in `bench.analysis.stats`.

Inputs: `runs`, one row per run after learning-rate selection (columns task, variant,
model, seed, status, test_accuracy, trivial_baseline, train_tokens_per_s, device, ...);
`speed`, the tidy rows of `bench speed`; `gradflow`, the tidy rows of `bench gradflow`;
`structure`, model x width x params_core at equal widths. Any of them may be empty.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.analysis.stats import (  # noqa: F401  (re-exported: the report and tests use them from here)
    INCONCLUSIVE,
    MARGIN,
    NOT_RUN,
    REFUTED,
    SPEED_MARGIN,
    SUPPORTED,
    Claim,
    Part,
    Stat,
    above,
    agree,
    all_of,
    below,
    greater,
    mean_ci,
    ratio_rule,
    t_cdf,
    t_quantile,
)
from bench.analysis.variants import variant_values

GRAD_FACTOR = 2.0  # gradient-ratio comparisons must differ by this factor
EXPLODE_FACTOR = 10.0  # a step this many times the run's median step is an explosion
BIDIRECTIONAL = {"bilstm", "transformer"}  # models that read the context on both sides
GATED = ("lstm", "gru")
EQUAL_WIDTH_RECURRENT = ("rnn", "lstm", "gru", "mingru", "minlstm")  # one recurrence per layer
MODEL_ORDER = ["rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal", "mingru", "minlstm"]


# ----------------------------------------------------------------------------- table helpers
def with_knob(runs: pd.DataFrame, knob: str) -> pd.DataFrame:
    """Add columns `knob` (a number parsed from the variant label) and `rest` (the label
    without the knob), so a sweep over the knob groups by `rest`."""
    frame = runs.copy()
    parsed = frame["variant"].map(variant_values)
    frame[knob] = parsed.map(lambda v: float(v[knob]) if knob in v else math.nan)
    frame["rest"] = parsed.map(lambda v: ",".join(f"{k}={x}" for k, x in sorted(v.items()) if k != knob))
    return frame.dropna(subset=[knob])


def shared_settings(frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per task, the variant knobs whose value is the same in every variant of that task."""
    shared = {}
    for task, group in frame.groupby("task"):
        parsed = [variant_values(v) for v in group["variant"].unique()]
        keys = set.intersection(*(set(p) for p in parsed)) if parsed else set()
        shared[task] = {k: parsed[0][k] for k in sorted(keys) if len({p[k] for p in parsed}) == 1}
    return shared


def short_variant(frame: pd.DataFrame) -> pd.Series:
    """Variant labels without the knobs every variant of the task shares ('default' if none left)."""
    shared = shared_settings(frame)

    def short(task: str, variant: str) -> str:
        rest = {k: v for k, v in variant_values(variant).items() if k not in shared.get(task, {})}
        return ",".join(f"{k}={v}" for k, v in rest.items()) or "default"

    return pd.Series([short(t, v) for t, v in zip(frame["task"], frame["variant"], strict=True)],
                     index=frame.index, dtype=object)


def values(frame: pd.DataFrame, metric: str = "test_accuracy", **where) -> list[float]:
    """Values of `metric` of ok runs matching column == value for every keyword."""
    if frame.empty or metric not in frame:
        return []
    mask = frame["status"] == "ok" if "status" in frame else pd.Series(True, index=frame.index)
    for column, wanted in where.items():
        mask &= frame[column] == wanted
    return [float(v) for v in frame.loc[mask, metric].dropna()]


def _chance(frame: pd.DataFrame, default: float) -> float:
    if "trivial_baseline" in frame and frame["trivial_baseline"].notna().any():
        return float(frame["trivial_baseline"].mean())
    return default


def _cell_table(frame: pd.DataFrame, keys: list[str], metric: str = "test_accuracy") -> pd.DataFrame:
    """Mean, CI half-width, n ok and n diverged per cell: the numbers a claim rests on."""
    rows = []
    for key, group in frame.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        stat = mean_ci(values(group, metric))
        diverged = int((group["status"] == "diverged").sum()) if "status" in group else 0
        rows.append({**dict(zip(keys, key, strict=True)), "mean": stat.mean, "ci95": stat.half, "n": stat.n,
                     "diverged": diverged})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- claims 1 and 8
def _recall_sweeps(runs: pd.DataFrame):
    """(tag, frame with a 'distance' column, sorted distances) per recall sweep; a sweep is the
    runs sharing every knob but distance; the tag names it when there are several."""
    recall = runs[runs["task"] == "recall"] if not runs.empty else runs
    if recall.empty:
        return []
    shared = shared_settings(recall).get("recall", {})
    recall = with_knob(recall, "distance")
    several = recall["rest"].nunique() > 1

    def tag(rest: str) -> str:  # the knobs that tell this sweep from the others
        knobs = {k: v for k, v in variant_values(rest).items() if k not in shared}
        return " [" + ",".join(f"{k}={v}" for k, v in knobs.items()) + "]" if several else ""

    return [(tag(rest), group, sorted(group["distance"].unique()))
            for rest, group in recall.groupby("rest", sort=True)]


def _testable_sweeps(runs: pd.DataFrame, parts: list[Part]):
    """Each recall sweep with >= 2 distances as (tag, group, distances, threshold), the
    threshold halfway between chance and 1; a sweep with fewer is added to `parts` as not run."""
    for tag, group, distances in _recall_sweeps(runs):
        if len(distances) < 2:
            parts.append(Part(f"sweep{tag}", NOT_RUN, f"needs >= 2 distances, has {distances}"))
            continue
        yield tag, group, distances, (_chance(group, 0.0) + 1) / 2


def claim_forgetting(runs: pd.DataFrame) -> Claim:
    """Claim 1: the RNN falls with distance; LSTM/GRU hold longer; the Transformer holds."""
    statement = ("A plain RNN's accuracy falls as the dependency distance grows; LSTM and GRU "
                 "hold longer; the Transformer holds across the tested lengths (recall).")
    rule = ("threshold = halfway between chance (trivial baseline) and 1. RNN falls: acc(shortest "
            "distance) > acc(longest) by the CI rule. LSTM/GRU hold longer: at the shortest "
            "distance where the RNN's mean drops below the threshold, acc(model) > acc(rnn). "
            "Transformer holds: acc > threshold at every tested distance. All parts must hold.")
    parts, evidence = [], []
    for tag, group, distances, threshold in _testable_sweeps(runs, parts):
        short, long_ = distances[0], distances[-1]
        def acc(model: str, distance: float, group: pd.DataFrame = group) -> list[float]:
            return values(group, model=model, distance=distance)

        parts.append(greater(acc("rnn", short), acc("rnn", long_),
                             f"rnn falls: d={short:g} > d={long_:g}{tag}"))
        drop = next((d for d in distances if acc("rnn", d)
                     and mean_ci(acc("rnn", d)).mean < threshold), None)
        for model in GATED:
            name = f"{model} holds longer than rnn{tag}"
            if not values(group, model=model) or not values(group, model="rnn"):
                parts.append(Part(name, NOT_RUN, f"needs {model} and rnn runs"))
            elif drop is None:
                parts.append(Part(name, INCONCLUSIVE, f"the rnn stayed above {threshold:.3f} at every "
                                  "tested distance; no distance separates them"))
            else:
                parts.append(greater(acc(model, drop), acc("rnn", drop), f"{name} (at d={drop:g})"))
        holds = [above(acc("transformer", d), threshold, f"d={d:g}") for d in distances]
        parts.append(Part(f"transformer holds at every distance{tag}", all_of(holds),
                          "; ".join(f"{p.name}: {p.detail}" for p in holds)))
        cells = _cell_table(group, ["distance", "model"])
        cells["threshold"] = threshold
        if tag:
            cells["sweep"] = tag.strip(" []")
        cells["holds_to"] = [hold_distance(group, m, threshold) for m in cells["model"]]
        evidence.append(cells)
    if not parts:
        parts.append(Part("recall sweep", NOT_RUN, "no recall runs"))
    return Claim(1, statement, rule, all_of(parts), parts, _concat(evidence))


def hold_distance(group: pd.DataFrame, model: str, threshold: float) -> float | None:
    """The largest tested distance up to which `model`'s mean accuracy stays >= threshold."""
    held = None
    for d in sorted(group["distance"].unique()):
        got = values(group, model=model, distance=d)
        if not got or mean_ci(got).mean < threshold:
            break
        held = d
    return held


def claim_gates_mitigate(runs: pd.DataFrame) -> Claim:
    """Claim 8: at a long enough distance the LSTM and GRU also fall."""
    statement = ("Gates mitigate, not cure: at a long enough distance the LSTM and GRU also fall "
                 "(recall).")
    rule = ("per gated model: acc(shortest distance) > acc(longest) by the CI rule AND acc(longest) "
            "< threshold (halfway between chance and 1). A model still above the threshold at the "
            "longest tested distance leaves the claim inconclusive (test longer distances), "
            "never refuted: no finite sweep can refute 'at a long enough distance'.")
    parts, evidence = [], []
    for tag, group, distances, threshold in _testable_sweeps(runs, parts):
        short, long_ = distances[0], distances[-1]
        for model in GATED:
            name = f"{model} falls by d={long_:g}{tag}"
            if not values(group, model=model):
                parts.append(Part(name, NOT_RUN, f"no {model} runs"))
                continue
            falls = greater(values(group, model=model, distance=short),
                            values(group, model=model, distance=long_), "falls")
            low = below(values(group, model=model, distance=long_), threshold, "below")
            detail = f"d={short:g} vs d={long_:g}: {falls.detail}; at d={long_:g}: {low.detail}"
            if low.verdict == REFUTED:
                parts.append(Part(name, INCONCLUSIVE, f"held up to the longest tested distance; {detail}"))
            else:
                parts.append(Part(name, all_of([falls, low]), detail))
        cells = _cell_table(group[group["model"].isin(("rnn",) + GATED)], ["distance", "model"])
        cells["threshold"] = threshold
        if tag:
            cells["sweep"] = tag.strip(" []")
        evidence.append(cells)
    if not parts:
        parts.append(Part("recall sweep", NOT_RUN, "no recall runs"))
    return Claim(8, statement, rule, all_of(parts), parts, _concat(evidence))


# ----------------------------------------------------------------------------- claim 2
def claim_bidirectional(runs: pd.DataFrame) -> Claim:
    statement = ("A left-to-right model cannot fill in a token that only later context determines; "
                 "BiLSTM and the bidirectional Transformer can (fill_in; cloze when present).")
    rule = ("fill_in, per variant: every bidirectional model (bilstm, transformer) above the "
            "threshold halfway between chance and 1, every left-only model below it (CI rule). "
            "cloze (real text, when run): every bidirectional model > every left-only model "
            "(CI rule). All parts must hold.")
    parts, evidence = [], []
    frame = runs[runs["task"].isin(["fill_in", "cloze"])] if not runs.empty else runs
    if not frame.empty:
        frame = frame.assign(short=short_variant(frame))
    for (task, short), group in (frame.groupby(["task", "short"], sort=True) if not frame.empty else []):
        models = sorted(group["model"].unique())
        bi = [m for m in models if m in BIDIRECTIONAL]
        left = [m for m in models if m not in BIDIRECTIONAL]
        several = frame.loc[frame["task"] == task, "short"].nunique() > 1
        tag = f"{task} [{short}]" if several else task
        if not bi or not left:
            parts.append(Part(tag, NOT_RUN, f"needs bidirectional and left-only models; has {models}"))
            continue
        if task == "fill_in":
            threshold = (_chance(group, 0.0) + 1) / 2
            parts += [above(values(group, model=m), threshold, f"{tag}: {m} fills in") for m in bi]
            parts += [below(values(group, model=m), threshold, f"{tag}: {m} cannot") for m in left]
        else:
            parts += [greater(values(group, model=b), values(group, model=m), f"{tag}: {b} > {m}")
                      for b in bi for m in left]
        cells = _cell_table(group, ["task", "short", "model"]).rename(columns={"short": "variant"})
        evidence.append(cells)
    if not any(p.name.startswith("fill_in") for p in parts):
        parts.append(Part("fill_in", NOT_RUN, "no fill_in runs"))
    claim = Claim(2, statement, rule, all_of(parts), parts, _concat(evidence))
    if not any(p.name.startswith("cloze") for p in parts):
        claim.rule += " cloze: not run (optional; the verdict rests on fill_in)."
    return claim


# ----------------------------------------------------------------------------- speed claims 3 and 5
def speed_setting(rows: pd.DataFrame) -> pd.Series:
    """A label per measurement setting: device, plus dtype and batch when the rows have them."""
    label = rows["device"].astype(str)
    if "dtype" in rows:
        label = label + " " + rows["dtype"].astype(str)
    if "batch" in rows:
        label = label + " batch " + rows["batch"].astype(str)
    return label


def throughput_table(speed: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Training tokens/s per (setting, model, length): from speed rows when present (status ok,
    the fastest implementation of each model), else from the runs' train_tokens_per_s (mean
    over ok runs, setting = device). Returns (frame, source text)."""
    columns = ["setting", "model", "length", "value"]
    if speed is not None and not speed.empty and (speed["metric"] == "train_tokens_per_s").any():
        rows = speed[speed["metric"] == "train_tokens_per_s"]
        if "status" in rows:
            rows = rows[rows["status"] == "ok"]
        rows = rows.dropna(subset=["value"]).assign(setting=lambda f: speed_setting(f))
        table = rows.groupby(["setting", "model", "length"], as_index=False)["value"].max()
        return table[columns], "speed.csv (bench speed)"
    if runs is None or runs.empty or "train_tokens_per_s" not in runs:
        return pd.DataFrame(columns=columns), "none"
    ok = runs[runs["status"] == "ok"].dropna(subset=["train_tokens_per_s", "length"])
    table = ok.groupby(["device", "model", "length"], as_index=False)["train_tokens_per_s"].mean()
    table = table.rename(columns={"train_tokens_per_s": "value", "device": "setting"})
    return table[columns], "runs (train_tokens_per_s)"


def _ratios(table: pd.DataFrame, top: str, bottom: str) -> pd.DataFrame:
    """value(top) / value(bottom) per (setting, length) where both were measured."""
    wide = table.pivot_table(index=["setting", "length"], columns="model", values="value")
    if top not in wide or bottom not in wide:
        return pd.DataFrame(columns=["setting", "length", "ratio"])
    ratio = (wide[top] / wide[bottom]).dropna().rename("ratio").reset_index()
    return ratio.sort_values(["setting", "length"])


def claim_parallel_speedup(speed: pd.DataFrame, runs: pd.DataFrame) -> Claim:
    statement = ("Attention trains in parallel: the Transformer's training speedup over the LSTM "
                 "grows with sequence length.")
    rule = (f"per setting (device, dtype, batch): speedup = training tokens/s(transformer) / "
            f"tokens/s(lstm) at each length; speedup(longest) / speedup(shortest) > {SPEED_MARGIN} "
            f"supported, < 1/{SPEED_MARGIN} refuted, else inconclusive; settings that disagree -> "
            f"inconclusive overall (each setting's verdict is listed).")
    table, source = throughput_table(speed, runs)
    ratios = _ratios(table, "transformer", "lstm")
    parts = []
    for setting, group in ratios.groupby("setting", sort=True):
        if len(group) < 2:
            parts.append(Part(setting, NOT_RUN, "needs >= 2 lengths"))
            continue
        first, last = group.iloc[0], group.iloc[-1]
        part = ratio_rule(last["ratio"] / first["ratio"], setting, what="growth")
        part.detail = (f"speedup {first['ratio']:.3g} at T={first['length']:g} -> "
                       f"{last['ratio']:.3g} at T={last['length']:g}; {part.detail}")
        parts.append(part)
    if not parts:
        parts.append(Part("speed", NOT_RUN, "no transformer and lstm throughput at >= 2 lengths"))
    claim = Claim(3, statement, rule + f" Source: {source}.", agree(parts), parts, ratios)
    return claim


def claim_gru_faster(speed: pd.DataFrame, runs: pd.DataFrame) -> Claim:
    statement = ("A GRU trains faster than an LSTM (fewer tensor operations), per device. "
                 "(On CPU the fused LSTM kernel is often faster.)")
    rule = (f"per setting (device, dtype, batch): geometric mean over lengths of training "
            f"tokens/s(gru) / tokens/s(lstm) > {SPEED_MARGIN} supported, < 1/{SPEED_MARGIN} "
            "refuted, else inconclusive; settings that disagree -> inconclusive overall (each "
            "setting's verdict is listed).")
    table, source = throughput_table(speed, runs)
    ratios = _ratios(table, "gru", "lstm")
    parts = []
    for setting, group in ratios.groupby("setting", sort=True):
        geo = float(np.exp(np.log(group["ratio"]).mean()))
        part = ratio_rule(geo, setting, what="gru/lstm")
        part.detail += f" over lengths {', '.join(f'{x:g}' for x in group['length'])}"
        parts.append(part)
    if not parts:
        parts.append(Part("speed", NOT_RUN, "no gru and lstm throughput"))
    return Claim(5, statement, rule + f" Source: {source}.", agree(parts), parts, ratios)


# ----------------------------------------------------------------------------- claim 4
def claim_params_at_width(structure: pd.DataFrame) -> Claim:
    statement = "At equal width, recurrent models have fewer parameters than a Transformer."
    rule = ("structural: params_core of each one-recurrence-per-layer model (rnn, lstm, gru, "
            "mingru, minlstm) < the transformer's at every tested width (same layers, d_embed, "
            "FFN = 4 x width) supported; > at every width refuted; mixed inconclusive. bilstm "
            "(two recurrences per layer) is listed for information, not in the verdict.")
    parts = []
    if structure is None or structure.empty or "transformer" not in set(structure["model"]):
        return Claim(4, statement, rule, NOT_RUN,
                     [Part("structure", NOT_RUN, "no transformer parameter counts")], structure)
    wide = structure.pivot_table(index="width", columns="model", values="params_core")
    for model in EQUAL_WIDTH_RECURRENT:
        if model not in wide:
            continue
        ratio = wide[model] / wide["transformer"]
        text = ", ".join(f"w={w}: {r:.2f}x" for w, r in ratio.items())
        verdict = SUPPORTED if (ratio < 1).all() else REFUTED if (ratio > 1).all() else INCONCLUSIVE
        parts.append(Part(f"{model} < transformer", verdict, f"params ratio {text}"))
    if not parts:
        parts.append(Part("structure", NOT_RUN, "no recurrent parameter counts"))
    return Claim(4, statement, rule, all_of(parts), parts, structure)


# ----------------------------------------------------------------------------- claims 6 and 7
def _decay(rows: pd.DataFrame) -> tuple[float, float, float]:
    """(nearest distance, farthest distance, grad(farthest) / grad(nearest)), medians over seeds."""
    by = rows.groupby("distance")["grad_norm"].median()
    by = by[by.index >= 1] if (by.index >= 1).sum() >= 2 else by
    return float(by.index.min()), float(by.index.max()), float(by.iloc[-1] / by.iloc[0])


def claim_vanishing(gradflow: pd.DataFrame) -> Claim:
    statement = ("Vanishing gradients: the gradient reaching a position falls with its distance from "
                 "the loss, fast for the plain RNN, slower for gated models.")
    rule = (f"per phase (init, trained), on the hidden-state gradient (input-embedding gradient if "
            f"absent): r(model) = |grad| at the farthest distance / at distance 1. RNN falls: r(rnn) "
            f"< 1/{GRAD_FACTOR:g}. Slower for gated m: r(m) / r(rnn) > {GRAD_FACTOR:g} supported, "
            f"< 1/{GRAD_FACTOR:g} refuted, else inconclusive. Phases that disagree -> inconclusive.")
    rows = _position_rows(gradflow)
    if rows.empty or "rnn" not in set(rows["model"]):
        return Claim(6, statement, rule, NOT_RUN, [Part("gradflow", NOT_RUN, "no rnn gradflow rows")])
    quantity = "hidden" if (rows["quantity"] == "hidden").any() else "input"
    rows = rows[rows["quantity"] == quantity]
    phase_parts, evidence = [], []
    for phase, group in rows.groupby("phase", sort=True):
        ratios = {m: _decay(g) for m, g in group.groupby("model")}
        evidence += [{"phase": phase, "model": m, "quantity": quantity, "near": r[0], "far": r[1],
                      "ratio_far_near": r[2]} for m, r in ratios.items()]
        if "rnn" not in ratios:
            continue
        r_rnn = ratios["rnn"][2]
        inner = [ratio_rule(1 / r_rnn, "rnn falls", GRAD_FACTOR, "1/r(rnn)")]
        for model in (m for m in ratios if m in GATED):
            inner.append(ratio_rule(ratios[model][2] / r_rnn, f"{model} slower", GRAD_FACTOR,
                                    f"r({model})/r(rnn)"))
        if len(inner) == 1:
            inner.append(Part("gated", NOT_RUN, "no lstm or gru rows"))
        phase_parts.append(Part(f"{phase}", all_of(inner),
                                "; ".join(f"{p.name}: {p.verdict} ({p.detail})" for p in inner)))
    verdict = agree(phase_parts)
    return Claim(6, statement, rule, verdict, phase_parts, pd.DataFrame(evidence))


def _position_rows(gradflow: pd.DataFrame) -> pd.DataFrame:
    if gradflow is None or gradflow.empty or "kind" not in gradflow:
        return pd.DataFrame(columns=["model", "phase", "quantity", "distance", "grad_norm"])
    rows = gradflow[gradflow["kind"] == "position"].copy()
    if "quantity" not in rows:
        rows["quantity"] = "hidden"
    return rows


def claim_clipping(gradflow: pd.DataFrame) -> Claim:
    statement = "Gradient clipping prevents exploding updates (plain RNN, high learning rate)."
    rule = (f"per optimizer, a run 'explodes' when a step's largest parameter change max|Δθ| is "
            f"non-finite or > {EXPLODE_FACTOR:g} x the run's median step. Supported when the "
            f"unclipped run explodes and the clipped one does not; refuted when the clipped run "
            f"explodes too (or goes non-finite); an optimizer whose unclipped run never explodes "
            f"tests nothing (inconclusive, e.g. Adam's normalized step). Overall: the conjunction "
            f"of the optimizers where something exploded; inconclusive when nothing did.")
    if gradflow is None or gradflow.empty or "kind" not in gradflow or not (gradflow["kind"] == "clip").any():
        return Claim(7, statement, rule, NOT_RUN, [Part("gradflow", NOT_RUN, "no clipping rows")])
    rows = gradflow[gradflow["kind"] == "clip"].copy()
    rows["clipped"] = rows["clip_norm"].notna() & (rows["clip_norm"] > 0)
    parts, tested, evidence = [], [], []
    for optimizer, group in rows.groupby("optimizer", sort=True):
        stats = {clipped: _update_stats(optimizer, clipped, g) for clipped, g in group.groupby("clipped")}
        evidence += list(stats.values())
        if True not in stats or False not in stats:
            parts.append(Part(optimizer, NOT_RUN, "needs a clipped and an unclipped run"))
            continue
        free, clip = stats[False], stats[True]
        detail = (f"max|Δθ| / median: {free['update_max']:.3g} / {free['update_median']:.3g} without, "
                  f"{clip['update_max']:.3g} / {clip['update_median']:.3g} with clip {clip['clip_norm']:g}; "
                  f"grad norm max without: {free['grad_norm_max']:.3g}")
        if not free["exploded"]:
            parts.append(Part(optimizer, INCONCLUSIVE, f"nothing exploded without clipping; {detail}"))
            continue
        part = Part(optimizer, REFUTED if clip["exploded"] else SUPPORTED, detail)
        parts.append(part)
        tested.append(part)
    verdict = all_of(tested) if tested else (INCONCLUSIVE if any(p.verdict != NOT_RUN for p in parts)
                                             else NOT_RUN)
    return Claim(7, statement, rule, verdict, parts, pd.DataFrame(evidence))


def _update_stats(optimizer: str, clipped: bool, group: pd.DataFrame) -> dict:
    update = group["update_max"].astype(float).fillna(np.inf)
    median = float(update[np.isfinite(update)].median()) if np.isfinite(update).any() else np.inf
    worst = float(update.max())
    return {"optimizer": optimizer, "clipped": clipped, "clip_norm": group["clip_norm"].max(),
            "steps": len(group), "grad_norm_median": float(group["grad_norm"].median()),
            "grad_norm_max": float(group["grad_norm"].max()), "update_median": median,
            "update_max": worst,
            "exploded": not math.isfinite(worst) or worst > EXPLODE_FACTOR * median,
            "final_loss": float(group.sort_values("step")["loss"].iloc[-1])}


# ----------------------------------------------------------------------------- all claims
def evaluate_claims(runs: pd.DataFrame, speed: pd.DataFrame | None = None,
                    gradflow: pd.DataFrame | None = None,
                    structure: pd.DataFrame | None = None) -> list[Claim]:
    """Every claim, in order, each with its verdict; missing inputs give `not run`."""
    runs = runs if runs is not None else pd.DataFrame()
    if runs.empty:
        runs = pd.DataFrame(columns=["task", "variant", "model", "seed", "status", "test_accuracy"])
    return [claim_forgetting(runs), claim_bidirectional(runs), claim_parallel_speedup(speed, runs),
            claim_params_at_width(structure), claim_gru_faster(speed, runs), claim_vanishing(gradflow),
            claim_clipping(gradflow), claim_gates_mitigate(runs)]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
