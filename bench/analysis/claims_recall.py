"""Claims about memory over distance, read from the recall sweep: 1 (forgetting with distance),
8 (gates mitigate, not cure) and 9 (initialization decides how far a gated model remembers).

Recall runs solve or fail, so every part compares **solve rates** (k of n seeds at or above
the bar halfway between the trivial baseline and 1, on test) with exact tests
(bench/analysis/rates.py: Barnard between two cells, binomial against a rate of 0.5), Holm
over the parts of each claim, and says when no test at the cell's n could pass. A model is
read at the (init, lr) chosen for it on validation (claims 1 and 8), or at each init's own
best lr (claim 9). Where a part needs a distance to be chosen (where the RNN falls, where two
inits differ most), it is chosen on validation and tested on test.
Runs at chance no longer stop early (bench/run/loop.py): every run that did not solve used
its whole step budget, so 'not solved' means 'not within this budget', which the rule says.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from bench.analysis.cells import _gate, cell_of, cell_table, concat, ok_rows, recall_sweeps
from bench.analysis.rates import MIN_RATE_EFFECT, mark_unreachable, min_p_one, min_p_two, rate_greater, rate_versus
from bench.analysis.selection import INIT_ORDER, with_init
from bench.analysis.stats import INCONCLUSIVE, NOT_RUN, REFUTED, SUPPORTED, Claim, Part, all_of, holm, undertrained

GATED = ("lstm", "gru")  # the gated recurrent models of claims 1, 8, 9
ATTENTION = ("transformer_causal", "transformer")  # claim 1's attention model: the causal one when run
HOLDS = 0.5  # a solve rate above this "holds", below it "falls" (tested, exact binomial)
REACH = 0.8  # the answer's "remembers to d": the longest distance with a solve rate at least this
HELD = "held to the longest distance"  # claim 8: not fallen within the sweep (never "refuted")
SAME = "the inits do not differ"

HOW_TESTED = (f"Each run is solved or not (test accuracy at the bar halfway between the trivial baseline "
              f"and 1). Only held-out seeds are tested: the tuning seeds, whose validation chose the lr, the "
              f"init and (where a part needs one) the distance, are reported but not counted, so a solve that "
              f"won a choice is not also evidence. Two cells are compared by their solve rates with Barnard's "
              f"exact test (two-sided); one cell against a solve rate of {HOLDS:g} with the exact binomial test; "
              f"a difference counts only when it is at least {MIN_RATE_EFFECT:g} in solve rate and stays "
              f"significant after the Holm correction over the parts of the claim. When even the most extreme "
              f"outcome at the cell's number of seeds could not pass, the part says so. A run at chance never "
              f"stops early, so its 'not solved' means 'not within this step cap'; a run that learned, stayed "
              f"below the bar and stopped early on a plateau did not use its cap, and a verdict its losing "
              f"side rests on such a run is inconclusive (undertrained).")


def _fmt(distances) -> str:
    return ", ".join(f"{float(d):g}" for d in distances)


def _cell(group: pd.DataFrame, model: str, d: float):
    return cell_of(group, f"{model}@d={d:g}", model=model, distance=d)


def _compared(a, b, name: str, labels) -> Part:
    """rate_greater(a, b) on held-out seeds, the grid gate, and the losing side's training."""
    part = _gate(rate_greater(a.rate, b.rate, name, labels), [a, b])
    return undertrained(part, not (b.undertrained if part.verdict == SUPPORTED else a.undertrained))


def _against(a, rate: float, name: str) -> Part:
    """rate_versus(a, rate) on held-out seeds; a verdict that a is low needs a trained a."""
    part = _gate(rate_versus(a.rate, rate, name, a.label), [a])
    return undertrained(part, part.verdict != REFUTED or not a.undertrained)


def one_init(group: pd.DataFrame) -> pd.DataFrame:
    """Each model of a sweep at one init across all its distances (the curve over distance is
    then one model configuration): the init with the best mean validation accuracy over the
    tuning seeds of every distance, ties to the standard init. `group`: runs at each (cell,
    init)'s own best lr."""
    frame = with_init(group)
    keep = []
    for _, rows in frame.groupby("model", sort=False):
        tuned = rows[rows["tuning"]] if "tuning" in rows and rows["tuning"].any() else rows
        score = tuned.groupby("init")["val_accuracy"].mean() if "val_accuracy" in tuned else pd.Series(dtype=float)
        inits = sorted(rows["init"].unique(), key=lambda i: (-score.get(i, -1.0), INIT_ORDER.index(i)
                                                            if i in INIT_ORDER else len(INIT_ORDER)))
        keep.append(rows[rows["init"] == inits[0]])
    return pd.concat(keep) if keep else frame


def reach(group: pd.DataFrame, model: str) -> float | None:
    """The longest tested distance up to which `model`'s solve rate stays >= REACH (None: not
    even at the shortest)."""
    held = None
    for d in sorted(group["distance"].unique()):
        cell = _cell(group, model, d)
        if not cell.solved or cell.rate.rate < REACH:
            break
        held = float(d)
    return held


def _sweeps_at_one_init(runs: pd.DataFrame, parts: list[Part]):
    """Each recall sweep of two or more distances, its models at one init (one_init); a sweep
    of fewer distances adds a `not run` part to `parts` instead."""
    for tag, group, distances in recall_sweeps(runs):
        if len(distances) < 2:
            parts.append(Part(f"sweep{tag}", NOT_RUN, f"needs at least 2 distances, has {_fmt(distances)}"))
            continue
        yield tag, one_init(group), distances


def _finish(number: int, statement: str, rule: str, parts: list[Part], floors: dict, evidence) -> Claim:
    if not parts:
        parts = [Part("recall sweep", NOT_RUN, "no recall runs")]
    parts = mark_unreachable(holm(parts), floors)
    return Claim(number, statement, rule, all_of(parts), parts, concat(evidence))


def _evidence(group: pd.DataFrame, tag: str, models) -> pd.DataFrame:
    cells = cell_table(group[group["model"].isin(models)], ["distance", "model"])
    if tag:
        cells["sweep"] = tag.strip(" []")
    if not cells.empty:
        cells["remembers to"] = [reach(group, m) for m in cells["model"]]
    return cells


# ----------------------------------------------------------------------------- claim 1
def claim_forgetting(runs: pd.DataFrame) -> Claim:
    """Claim 1: the RNN falls with distance; LSTM/GRU hold longer; attention holds."""
    statement = ("A plain RNN's accuracy falls as the dependency distance grows; LSTM and GRU hold longer; "
                 "the Transformer holds across the tested lengths (recall).")
    rule = ("(a) The RNN falls: its solve rate at the shortest distance exceeds that at the longest. (b) LSTM "
            "and GRU hold longer: at the first distance where the RNN's validation solve rate drops below "
            f"{HOLDS:g} (chosen on validation, tested on test), each solves more often than the RNN. (c) The "
            f"Transformer holds: at the longest distance its solve rate is above {HOLDS:g}, and at no shorter "
            "distance is it below (the causal Transformer, which reads what the recurrent models read; the "
            "bidirectional one is shown beside it). Each model at one init across the sweep (the one with the "
            "best mean validation accuracy over all distances), each distance at that init's best lr. "
            "All parts must hold. " + HOW_TESTED)
    parts, floors, evidence = [], {}, []
    for tag, group, distances in _sweeps_at_one_init(runs, parts):
        short, long_ = distances[0], distances[-1]
        rnn_short, rnn_long = _cell(group, "rnn", short), _cell(group, "rnn", long_)
        name = f"rnn falls: d={short:g} > d={long_:g}{tag}"
        parts.append(_compared(rnn_short, rnn_long, name, (rnn_short.label, rnn_long.label)))
        floors[name] = min_p_two(rnn_short.rate.n, rnn_long.rate.n)
        drop = next((d for d in distances if _cell(group, "rnn", d).solved
                     and _cell(group, "rnn", d).val_rate < HOLDS), None)
        for model in GATED:
            name = f"{model} holds longer than rnn{tag}"
            if ok_rows(group, model=model).empty or ok_rows(group, model="rnn").empty:
                parts.append(Part(name, NOT_RUN, f"needs {model} and rnn runs"))
            elif drop is None:
                parts.append(Part(name, INCONCLUSIVE, f"the rnn's validation solve rate stayed at or above "
                                  f"{HOLDS:g} at every tested distance ({_fmt(distances)}): no distance separates "
                                  "them", "rnn never fell"))
            else:
                gated, rnn = _cell(group, model, drop), _cell(group, "rnn", drop)
                name = f"{name} (at d={drop:g}, where the rnn falls on validation)"
                parts.append(_compared(gated, rnn, name, (gated.label, rnn.label)))
                floors[name] = min_p_two(gated.rate.n, rnn.rate.n)
        attention = next((m for m in ATTENTION if not ok_rows(group, model=m).empty), None)
        if attention is None:
            parts.append(Part(f"transformer holds{tag}", NOT_RUN, "no transformer runs"))
        else:
            cell = _cell(group, attention, long_)
            name = f"{attention} holds at d={long_:g}{tag}"
            part = _against(cell, HOLDS, name)
            fell = [d for d in distances[:-1] if _cell(group, attention, d).solved
                    and _cell(group, attention, d).rate.rate < HOLDS]
            if fell and part.verdict == SUPPORTED:
                part = replace(part, verdict=INCONCLUSIVE, reason="fell at a shorter distance",
                               detail=f"{part.detail}; but below {HOLDS:g} at d={_fmt(fell)}")
            parts.append(part)
            floors[name] = min_p_one(cell.rate.n, HOLDS)
        evidence.append(_evidence(group, tag, ("rnn",) + GATED + ATTENTION))
    return _finish(1, statement, rule, parts, floors, evidence)


# ----------------------------------------------------------------------------- claim 8
def claim_gates_mitigate(runs: pd.DataFrame) -> Claim:
    """Claim 8: at a long enough distance the LSTM and GRU also fall."""
    statement = "Gates mitigate, not cure: at a long enough distance the LSTM and GRU also fall (recall)."
    rule = ("For each gated model at one init across the sweep (the best on validation over all distances), "
            "each distance at that init's best lr: its solve rate at the "
            f"longest tested distance is lower than at the shortest, and at the longest distance below {HOLDS:g} "
            f"(a solve rate of {HOLDS:g} or more there means it still holds). A model still solving at the "
            "longest distance has not fallen within this sweep: "
            "inconclusive (held to the longest tested distance, named), never refuted, because no finite "
            "sweep can refute 'at a long enough distance'. " + HOW_TESTED)
    parts, floors, evidence, held = [], {}, [], {}
    for tag, group, distances in _sweeps_at_one_init(runs, parts):
        short, long_ = distances[0], distances[-1]
        for model in GATED:
            if ok_rows(group, model=model).empty:
                parts.append(Part(f"{model} falls by d={long_:g}{tag}", NOT_RUN, f"no {model} runs"))
                continue
            near, far = _cell(group, model, short), _cell(group, model, long_)
            falls = _compared(near, far, f"{model} falls: d={short:g} > d={long_:g}{tag}", (near.label, far.label))
            floors[falls.name] = min_p_two(near.rate.n, far.rate.n)
            held[falls.name] = (model, long_, far.rate.n > 0 and far.rate.rate >= HOLDS, far.label)
            parts.append(falls)
        evidence.append(_evidence(group, tag, GATED))
    claim = _finish(8, statement, rule, parts, floors, evidence)
    claim.parts = [_never_refuted(p, held.get(p.name)) for p in claim.parts]
    claim.verdict = all_of(claim.parts)
    return claim


def _never_refuted(part: Part, state) -> Part:
    """A gated model that still solves at the longest distance has not fallen within the sweep:
    inconclusive (held), said with the distance, never refuted."""
    if state is None:
        return part
    model, longest, still_solves, label = state
    if still_solves and part.verdict in (SUPPORTED, INCONCLUSIVE, REFUTED):
        part = replace(part, verdict=REFUTED)  # it did not fall below the bar: read as held, below
    if part.verdict == REFUTED or (part.verdict == INCONCLUSIVE and still_solves):
        return replace(part, verdict=INCONCLUSIVE, reason=HELD,
                       detail=f"{label.split('@')[0]} held to d={longest:g}, the longest tested distance: it does not "
                              f"fall within this sweep (tested to d={longest:g}); {part.detail}")
    return part


# ----------------------------------------------------------------------------- claim 9
def claim_init_decides(runs_by_init: pd.DataFrame) -> Claim:
    """Claim 9: how far an LSTM or GRU remembers depends on its init (standard vs chrono)."""
    statement = ("Initialization, not the gate alone, decides how far an LSTM or GRU remembers: the same "
                 "model at the same budget remembers to a different distance with chrono init than with the "
                 "standard carry-gate bias of 1 (recall).")
    rule = ("For each gated model, each init at its own best lr (chosen on validation): at the tested "
            "distance where the two inits' validation solve rates differ most (ties: the longest), their test "
            "solve rates differ (Barnard's exact test, two-sided). Supported when they differ for both the LSTM "
            "and the GRU; the direction and each init's reach (the longest distance with a solve rate of at "
            f"least {REACH:g}) are stated. A model whose inits solve equally at every tested distance: "
            "inconclusive (the inits do not differ within the sweep). " + HOW_TESTED)
    parts, floors, evidence = [], {}, []
    frame = runs_by_init
    for tag, group, distances in recall_sweeps(frame):
        for model in GATED:
            rows = ok_rows(group, model=model)
            if rows.empty or rows["init"].nunique() < 2 or not {"standard", "chrono"} <= set(rows["init"]):
                parts.append(Part(f"{model}: init{tag}", NOT_RUN, f"needs {model} runs with both the standard "
                                  "and the chrono init"))
                continue

            def cell(init: str, d: float, model: str = model, group: pd.DataFrame = group):
                return cell_of(group, f"{model}[{init}]@d={d:g}", model=model, init=init, distance=d)

            gaps = [(abs(cell("chrono", d).val_rate - cell("standard", d).val_rate), d) for d in distances]
            gap, at = max(gaps)
            chrono, standard = cell("chrono", at), cell("standard", at)
            name = f"{model}: chrono vs standard init at d={at:g}{tag}"
            part = _compared(chrono, standard, name, (chrono.label, standard.label))
            reaches = {init: reach(group[group["init"] == init], model) for init in ("standard", "chrono")}
            words = "; ".join(f"{init} init remembers to "
                              + (f"d={r:g}" if r is not None else f"less than d={distances[0]:g}")
                              + (" (the longest tested)" if r == distances[-1] else "")
                              for init, r in reaches.items())
            if part.verdict == REFUTED:  # standard better: the init still decides, the other way
                part = replace(part, verdict=SUPPORTED, detail=f"the standard init remembers further; {part.detail}")
            elif part.verdict == INCONCLUSIVE and gap == 0:
                part = replace(part, reason=SAME)
            parts.append(replace(part, detail=f"{words}; {part.detail}"))
            floors[name] = min_p_two(chrono.rate.n, standard.rate.n)
        cells = cell_table(group[group["model"].isin(GATED + ("rnn",))], ["distance", "model", "init"])
        if tag and not cells.empty:
            cells["sweep"] = tag.strip(" []")
        evidence.append(cells)
    return _finish(9, statement, rule, parts, floors, evidence)


__all__ = ["ATTENTION", "GATED", "claim_forgetting", "claim_gates_mitigate", "claim_init_decides", "reach"]
