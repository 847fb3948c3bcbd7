"""Claim 2 (reading the future): fill-in and cloze. The memory claims (1, 8, 9) are in
bench/analysis/claims_recall.py.

fill_in runs solve or fail: a bidirectional model "can" when it solves more often than its
own one-directional counterpart (BiLSTM against the LSTM, the Transformer against the causal
Transformer: the same model reading one way), by Barnard's exact test on solve rates; a
left-to-right model "cannot" by an equivalence bound on its accuracy over the computed
left-only ceiling. Cloze is graded, not solved: paired t-tests by seed (bench.analysis.cells).
Each claim's comparisons are Holm-corrected together.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from bench.analysis.cells import (
    HOW_TESTED,
    _gate,
    cell_of,
    cell_table,
    chance,
    compare,
    concat,
    ok_rows,
)
from bench.analysis.labels import short_variant
from bench.analysis.rates import MIN_RATE_EFFECT, mark_unreachable, min_p_two, rate_greater, rate_of
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

COUNTERPART = {"bilstm": "lstm", "transformer": "transformer_causal"}  # the same model, reading one way
BIDIRECTIONAL = {"bilstm", "transformer"}  # the claim's models that read the context on both sides
NOTHING_LEARNED = "nothing learned beyond a bigram baseline"


# ----------------------------------------------------------------------------- claim 2
def claim_bidirectional(runs: pd.DataFrame) -> Claim:
    statement = ("A left-to-right model cannot fill in a token that only later context determines; "
                 "BiLSTM and the bidirectional Transformer can (fill_in; cloze when present).")
    rule = ("fill_in: the task computes, per seed, the best accuracy reachable from the left context "
            "alone (`left_only_ceiling`). A bidirectional model (bilstm, transformer) 'can' when it "
            "solves (test accuracy at the bar halfway between chance and 1, above that ceiling) more often "
            "than its own one-directional counterpart (bilstm vs lstm, transformer vs transformer_causal), "
            f"by Barnard's exact test on solve rates (a difference of at least {MIN_RATE_EFFECT:g}). A "
            "left-to-right model 'cannot' when the 95% interval of its excess over the ceiling stays below "
            f"{MIN_EFFECT:g} "
            "(an equivalence test; significantly above would mean it sees the future: refuted). "
            "cloze (real text, when run): first, some model must beat the bigram baseline "
            f"(`bigram_baseline`) by {MIN_EFFECT:g} on average, or nothing was learned beyond word "
            "pairs and the cloze part is inconclusive; then each bidirectional model must beat its "
            "one-directional counterpart (paired t-test by seed). Solve rates and cloze scores count held-out "
            "seeds only (not the seeds whose validation chose the lr and init). All parts must hold. " + HOW_TESTED)
    parts, evidence, derive, floors = [], [], {}, {}
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
            parts.append(Part(tag, NOT_RUN, f"needs bidirectional and left-only models; has {', '.join(models)}"))
            continue
        if task == "fill_in":
            parts += _fill_in_parts(group, tag, bi, left, derive, floors)
        else:
            parts += _cloze_parts(group, tag, bi, left)
        bounded = tuple(left) if task == "fill_in" else ()
        cells = cell_table(group, ["task", "short", "model"], at_limit=bounded).rename(columns={"short": "variant"})
        evidence.append(cells)
    if not any(p.name.startswith("fill_in") for p in parts):
        parts.append(Part("fill_in", NOT_RUN, "no fill_in runs"))
    parts = [derive[p.name](p) if p.name in derive else p for p in mark_unreachable(holm(parts), floors)]
    claim = Claim(2, statement, rule, all_of(parts), parts, concat(evidence))
    if not any(p.name.startswith("cloze") for p in parts):
        claim.rule += " cloze: not run (optional; the verdict rests on fill_in)."
    return claim


def _ceiling(group: pd.DataFrame, model: str) -> dict:
    """{seed: left_only_ceiling} of a model's runs (the same data per seed for every model)."""
    rows = ok_rows(group, model=model).dropna(subset=["left_only_ceiling"])
    return dict(zip(rows["seed"], rows["left_only_ceiling"].astype(float), strict=True))


def _fill_in_parts(group: pd.DataFrame, tag: str, bi: list[str], left: list[str], derive: dict,
                   floors: dict) -> list[Part]:
    if "left_only_ceiling" not in group or group["left_only_ceiling"].isna().all():
        return [Part(f"{tag}: left-only ceiling", NOT_RUN, "the runs carry no `left_only_ceiling` metric "
                     "(results from an older fill_in): re-run fill_in to test this claim")]
    parts = []
    for model in bi:
        cell = cell_of(group, model, model=model)
        other = COUNTERPART.get(model)
        name = f"{tag}: {model} fills in (solves more often than {other})"
        if other is None or ok_rows(group, model=other).empty:
            parts.append(Part(name, NOT_RUN, f"needs {other} runs, its one-directional counterpart"))
            continue
        counterpart = cell_of(group, other, model=other)
        # solved = above the solve bar and clear of the left-only ceiling (on this task the
        # ceiling is chance, far below the bar; a task whose left context says more raises it)
        bar = max(_mean(_ceiling(group, model)) + MIN_EFFECT, (chance(group) + 1) / 2)
        rate, other_rate = (rate_of(v >= bar for v in c.held_out(c.scores).values()) for c in (cell, counterpart))
        part = rate_greater(rate, other_rate, name, (model, other))  # the one test of this part, fixed in advance
        floors[name] = min_p_two(rate.n, other_rate.n)
        parts.append(_gate(_named(part, f"solved: test accuracy >= {bar:.3f}"), [cell, counterpart]))
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
    pairs = [(b, COUNTERPART[b]) for b in bi if COUNTERPART.get(b) in left]
    pairs = pairs or [(b, m) for b in bi for m in left]  # no counterpart run: every pair
    return [compare(_held_out(cell_of(group, b, model=b)), _held_out(cell_of(group, m, model=m)), f"{tag}: {b} > {m}")
            for b, m in pairs]


def _held_out(cell):
    """The cell's held-out seeds only (its tuning seed chose the lr; bench.analysis.cells.Cell)."""
    return replace(cell, scores=cell.held_out(cell.scores))


def _named(part: Part, note: str) -> Part:
    return replace(part, detail=f"{note}; {part.detail}")


def _mean(values: dict) -> float:
    return float(sum(values.values()) / len(values)) if values else float("nan")


__all__ = ["BIDIRECTIONAL", "COUNTERPART", "claim_bidirectional"]
