"""Claims about accuracy: 1 (forgetting with distance), 2 (reading the future), 8 (gates also fall).

Every comparison goes through bench.analysis.cells (paired by seed, >= 3 seeds, an LR grid of
>= 3, the losing side converged) and each claim's comparisons are Holm-corrected together.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from bench.analysis.cells import (
    HOW_TESTED,
    above,
    below,
    cell_of,
    cell_table,
    chance,
    compare,
    compare_unpaired,
    concat,
    ok_rows,
    recall_sweeps,
)
from bench.analysis.labels import short_variant
from bench.analysis.stats import (
    INCONCLUSIVE,
    MIN_EFFECT,
    NOT_RUN,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
    UNDERTRAINED,
    Claim,
    Part,
    all_of,
    holm,
)

BIDIRECTIONAL = {"bilstm", "transformer"}  # the claim's models that read the context on both sides
GATED = ("lstm", "gru")  # the claim's gated recurrent models
HELD = "held to the longest distance"  # claim 8: not fallen within the sweep (never "refuted")
NOTHING_LEARNED = "nothing learned beyond a bigram baseline"


def _testable_sweeps(runs: pd.DataFrame, parts: list[Part]):
    """Each recall sweep with >= 2 distances as (tag, group, distances, threshold), the
    threshold halfway between chance and 1; a sweep with fewer is added to `parts` as not run."""
    for tag, group, distances in recall_sweeps(runs):
        if len(distances) < 2:
            parts.append(Part(f"sweep{tag}", NOT_RUN, f"needs >= 2 distances, has {distances}"))
            continue
        yield tag, group, distances, (chance(group) + 1) / 2


def _val_mean(group: pd.DataFrame, model: str, distance: float) -> float:
    """Mean validation accuracy of a model at one distance (NaN without runs)."""
    cell = cell_of(group, model, metric="val_accuracy", model=model, distance=distance)
    return cell.mean if cell.scores else float("nan")


def hold_distance(group: pd.DataFrame, model: str, threshold: float) -> float | None:
    """The largest tested distance up to which `model`'s mean accuracy stays >= threshold."""
    held = None
    for d in sorted(group["distance"].unique()):
        cell = cell_of(group, model, model=model, distance=d)
        if not cell.scores or cell.mean < threshold:
            break
        held = d
    return held


# ----------------------------------------------------------------------------- claim 1
def claim_forgetting(runs: pd.DataFrame) -> Claim:
    """Claim 1: the RNN falls with distance; LSTM/GRU hold longer; the Transformer holds."""
    statement = ("A plain RNN's accuracy falls as the dependency distance grows; LSTM and GRU "
                 "hold longer; the Transformer holds across the tested lengths (recall).")
    rule = ("The bar is halfway between chance (the trivial baseline) and 1. (a) The RNN falls: its "
            "accuracy at the shortest distance is higher than at the longest (two data sets: Welch's "
            "test, not paired). (b) LSTM and GRU hold longer: at the first distance where the RNN's "
            "mean validation accuracy drops below the bar (chosen on validation, tested on test), "
            "each beats the RNN. (c) The Transformer holds: above the bar at every tested distance. "
            "All parts must hold. " + HOW_TESTED)
    parts, evidence = [], []
    for tag, group, distances, threshold in _testable_sweeps(runs, parts):
        short, long_ = distances[0], distances[-1]

        def cell(model: str, d: float, group: pd.DataFrame = group):
            return cell_of(group, f"{model}@d={d:g}", model=model, distance=d)

        parts.append(compare_unpaired(cell("rnn", short), cell("rnn", long_),
                                      f"rnn falls: d={short:g} > d={long_:g}{tag}"))
        # where the RNN falls is chosen on validation, so the test that follows is not double-dipped
        drop = next((d for d in distances if _val_mean(group, "rnn", d) < threshold), None)
        for model in GATED:
            name = f"{model} holds longer than rnn{tag}"
            if ok_rows(group, model=model).empty or ok_rows(group, model="rnn").empty:
                parts.append(Part(name, NOT_RUN, f"needs {model} and rnn runs"))
            elif drop is None:
                parts.append(Part(name, INCONCLUSIVE, f"the rnn stayed above {threshold:.3f} at every "
                                  "tested distance; no distance separates them", "rnn never fell"))
            else:
                parts.append(compare(cell(model, drop), cell("rnn", drop), f"{name} (at d={drop:g})"))
        parts += [above(cell("transformer", d), threshold, f"transformer holds at d={d:g}{tag}")
                  for d in distances]
        cells = cell_table(group, ["distance", "model"])
        cells["threshold"] = threshold
        if tag:
            cells["sweep"] = tag.strip(" []")
        cells["holds_to"] = [hold_distance(group, m, threshold) for m in cells["model"]]
        evidence.append(cells)
    if not parts:
        parts.append(Part("recall sweep", NOT_RUN, "no recall runs"))
    parts = holm(parts)
    return Claim(1, statement, rule, all_of(parts), parts, concat(evidence))


# ----------------------------------------------------------------------------- claim 8
def claim_gates_mitigate(runs: pd.DataFrame) -> Claim:
    """Claim 8: at a long enough distance the LSTM and GRU also fall."""
    statement = ("Gates mitigate, not cure: at a long enough distance the LSTM and GRU also fall "
                 "(recall).")
    rule = ("For each gated model: (a) its accuracy at the longest tested distance is lower than "
            "at the shortest (Welch's test: two data sets), and (b) at the longest distance it is "
            "below the bar halfway between chance and 1. A model still above the bar at the longest "
            "distance has not fallen within this sweep: inconclusive (test longer distances), never "
            "refuted, because no finite sweep can refute 'at a long enough distance'. Both parts "
            "need converged runs: a model that stopped learning early may only look fallen. " + HOW_TESTED)
    parts, evidence, state = [], [], {}
    for tag, group, distances, threshold in _testable_sweeps(runs, parts):
        short, long_ = distances[0], distances[-1]
        for model in GATED:
            if ok_rows(group, model=model).empty:
                parts.append(Part(f"{model} falls by d={long_:g}{tag}", NOT_RUN, f"no {model} runs"))
                continue
            near = cell_of(group, f"{model}@d={short:g}", model=model, distance=short)
            far = cell_of(group, f"{model}@d={long_:g}", model=model, distance=long_)
            falls = compare_unpaired(near, far, f"{model} falls: d={short:g} > d={long_:g}{tag}")
            low = below(far, threshold, f"{model} below the bar at d={long_:g}{tag}")
            for part in (falls, low):
                state[part.name] = (model, long_, near.converged is True and far.converged is True)
            parts += [falls, low]
        cells = cell_table(group[group["model"].isin(("rnn",) + GATED)], ["distance", "model"])
        cells["threshold"] = threshold
        if tag:
            cells["sweep"] = tag.strip(" []")
        evidence.append(cells)
    if not parts:
        parts.append(Part("recall sweep", NOT_RUN, "no recall runs"))
    parts = [_never_refuted(p, state.get(p.name)) for p in holm(parts)]
    return Claim(8, statement, rule, all_of(parts), parts, concat(evidence))


def _never_refuted(part: Part, state) -> Part:
    """Claim 8's reading of a part after Holm: 'still above the bar' or 'did not fall' is
    inconclusive (held within the sweep, said plainly when the runs converged); any part on
    a model that did not converge is inconclusive (undertrained)."""
    if state is None or part.verdict in (NOT_RUN, PRELIMINARY):
        return part
    model, longest, converged = state
    if part.verdict == REFUTED:
        if converged:
            text = (f"{model} held up to d={longest:g}, the longest tested distance, with converged "
                    f"runs: it does not fall within this sweep (test longer distances)")
            return replace(part, verdict=INCONCLUSIVE, reason=HELD, detail=f"{text}; {part.detail}")
        return replace(part, verdict=INCONCLUSIVE, reason=UNDERTRAINED,
                       detail=f"{model} held up to d={longest:g} but its runs did not converge; {part.detail}")
    if not converged and part.verdict == SUPPORTED:
        return replace(part, verdict=INCONCLUSIVE, reason=UNDERTRAINED,
                       detail=f"would be supported, but {model}'s runs did not converge; {part.detail}")
    return part


# ----------------------------------------------------------------------------- claim 2
def claim_bidirectional(runs: pd.DataFrame) -> Claim:
    statement = ("A left-to-right model cannot fill in a token that only later context determines; "
                 "BiLSTM and the bidirectional Transformer can (fill_in; cloze when present).")
    rule = ("fill_in: the task computes, per seed, the best accuracy reachable from the left context "
            "alone (`left_only_ceiling`). A bidirectional model (bilstm, transformer) 'can' when it "
            "scores above both that ceiling and the bar halfway between chance and 1. A left-to-right "
            f"model 'cannot' when the 95% interval of its excess over the ceiling stays below {MIN_EFFECT:g} "
            "(an equivalence test; significantly above would mean it sees the future: refuted). "
            "cloze (real text, when run): first, some model must beat the bigram baseline "
            f"(`bigram_baseline`) by {MIN_EFFECT:g} on average, or nothing was learned beyond word "
            "pairs and the cloze part is inconclusive; then every bidirectional model must beat every "
            "left-to-right model. All parts must hold. " + HOW_TESTED)
    parts, evidence, derive = [], [], {}
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
            parts += _fill_in_parts(group, tag, bi, left, derive)
        else:
            parts += _cloze_parts(group, tag, bi, left)
        bounded = tuple(left) if task == "fill_in" else ()
        cells = cell_table(group, ["task", "short", "model"], at_limit=bounded).rename(columns={"short": "variant"})
        evidence.append(cells)
    if not any(p.name.startswith("fill_in") for p in parts):
        parts.append(Part("fill_in", NOT_RUN, "no fill_in runs"))
    parts = [derive[p.name](p) if p.name in derive else p for p in holm(parts)]
    claim = Claim(2, statement, rule, all_of(parts), parts, concat(evidence))
    if not any(p.name.startswith("cloze") for p in parts):
        claim.rule += " cloze: not run (optional; the verdict rests on fill_in)."
    return claim


def _ceiling(group: pd.DataFrame, model: str) -> dict:
    """{seed: left_only_ceiling} of a model's runs (the same data per seed for every model)."""
    rows = ok_rows(group, model=model).dropna(subset=["left_only_ceiling"])
    return dict(zip(rows["seed"], rows["left_only_ceiling"].astype(float), strict=True))


def _fill_in_parts(group: pd.DataFrame, tag: str, bi: list[str], left: list[str], derive: dict) -> list[Part]:
    if "left_only_ceiling" not in group or group["left_only_ceiling"].isna().all():
        return [Part(f"{tag}: left-only ceiling", NOT_RUN, "the runs carry no `left_only_ceiling` metric "
                     "(results from an older fill_in): re-run fill_in to test this claim")]
    threshold = (chance(group) + 1) / 2
    parts = []
    for model in bi:
        cell = cell_of(group, model, model=model)
        ceiling = _ceiling(group, model)
        bar = cell_of(group, "max(ceiling, bar)", model=model)
        bar.scores, bar.converged = {s: max(c, threshold) for s, c in ceiling.items()}, True
        bar.grid = cell.grid
        parts.append(_named(compare(cell, bar, f"{tag}: {model} fills in"),
                            f"bar = max(left-only ceiling {_mean(ceiling):.3f}, halfway {threshold:.3f})"))
    for model in left:
        # at the left-only ceiling a plateau is the task's information limit, not a stall
        cell = cell_of(group, model, model=model, limit_known=True)
        ceiling = cell_of(group, "left-only ceiling", metric="left_only_ceiling", model=model)
        ceiling.converged, ceiling.grid = True, cell.grid
        name = f"{tag}: {model} cannot (at or below the left-only ceiling)"
        parts.append(compare(cell, ceiling, name))
        derive[name] = lambda p, m=model: _cannot(p, m)
    return parts


def _cannot(test: Part, model: str) -> Part:
    """'model cannot' from the Holm-corrected test 'model > ceiling': significantly above by the
    min effect -> refuted (it reads the future); supported only when the upper end of the 95%
    interval of (model - ceiling) stays below the min effect (an equivalence test: "not shown
    above" alone is absence of evidence); inconclusive otherwise. Convergence does not enter:
    the ceiling bounds every left-to-right model, however long it trains (cells.converged_runs)."""
    if test.verdict in (NOT_RUN, PRELIMINARY) or test.reason == UNDERTRAINED:
        return test
    if test.verdict == SUPPORTED:
        return replace(test, verdict=REFUTED, reason="",
                       detail=f"significantly above the ceiling: {model} reads past the blank; {test.detail}")
    if not test.effect_hi < MIN_EFFECT:
        return replace(test, verdict=INCONCLUSIVE, reason="overlap",
                       detail=f"not shown within ceiling + {MIN_EFFECT:g} (the interval reaches "
                              f"{test.effect_hi:+.3f}); {test.detail}")
    return replace(test, verdict=SUPPORTED, reason="",
                   detail=f"the 95% interval stays below ceiling + {MIN_EFFECT:g}; {test.detail}")


def _cloze_parts(group: pd.DataFrame, tag: str, bi: list[str], left: list[str]) -> list[Part]:
    models = bi + left
    if "bigram_baseline" in group and group["bigram_baseline"].notna().any():
        bigram = float(group["bigram_baseline"].mean())
        means = {m: cell_of(group, m, model=m).mean for m in models}
        if not any(v >= bigram + MIN_EFFECT for v in means.values() if pd.notna(v)):
            unigram = chance(group, float("nan"))
            text = ", ".join(f"{m} {v:.3f}" for m, v in means.items())
            return [Part(tag, INCONCLUSIVE, f"no model beats the bigram baseline {bigram:.3f} by "
                         f"{MIN_EFFECT:g} (unigram {unigram:.3f}): {text}", NOTHING_LEARNED)]
    return [compare(cell_of(group, b, model=b), cell_of(group, m, model=m), f"{tag}: {b} > {m}")
            for b in bi for m in left]


def _named(part: Part, note: str) -> Part:
    return replace(part, detail=f"{note}; {part.detail}")


def _mean(values: dict) -> float:
    return float(sum(values.values()) / len(values)) if values else float("nan")


__all__ = ["BIDIRECTIONAL", "GATED", "claim_bidirectional", "claim_forgetting", "claim_gates_mitigate",
           "hold_distance"]
