"""The building blocks every claim shares: cells of runs, the gated comparisons, tables.

Each claim is split into parts; each part is one tested comparison with a verdict from
`bench.analysis.stats` (paired by seed, smallest effect 0.05, Holm within the claim):
`supported`, `refuted`, `inconclusive` (with a reason: overlap, below min effect,
undertrained, not significant after Holm, ...), `preliminary` (fewer than 3 seeds, or an
LR grid of fewer than 3 values) or `not run`.

What every accuracy comparison checks, in plain words:
- A *cell* is (task, variant, model, budget) at the learning rate chosen on validation. Its
  seeds are paired with the other side's seeds (same seed = same data).
- Fewer than 3 seeds, or fewer than 3 learning rates tried for the cell: `preliminary`.
- A "worse" model whose runs did not converge (validation still improving at the step cap)
  cannot lose a verdict: `inconclusive (undertrained)`. Runs without the `converged`
  metric (old results) count as not converged, and the part says so.
- A run that early stopping ended before its step cap while its best validation accuracy
  stayed within the min effect of the trivial baseline has *stalled*: it never started
  learning and did not use its budget, so it counts as not converged either (a plateau at
  chance cannot tell "cannot learn" from "has not started"). The exception is a model at an
  information limit the task computes (fill-in's left-only ceiling): no training can lift it.

Inputs: `runs`, one row per run after learning-rate selection (bench.analysis.tables.select_lr:
columns task, variant, model, seed, status, test_accuracy, trivial_baseline, converged,
lr_grid, ...); `speed`, the rows of speed.csv; `gradflow`, the rows of gradflow.csv;
`structure`, model x width x params_core at equal widths. Any of them may be empty.
The claims live in claims_accuracy (1, 2, 8), claims_speed (3, 4, 5), claims_gradients (6, 7);
bench.analysis.claims.evaluate_claims runs them all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from bench.analysis.convergence import converged_runs, converged_text
from bench.analysis.labels import shared_settings, with_knob
from bench.analysis.outcome import LEARNED, STOPPED_EARLY, ending, outcome
from bench.analysis.rates import Rate, rate_of
from bench.analysis.stats import (
    INCONCLUSIVE,
    MIN_EFFECT,
    MIN_SEEDS,
    NOT_RUN,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
    Claim,
    Part,
    above_threshold,
    below_threshold,
    mean_ci,
    paired_greater,
    unpaired_greater,
)
from bench.analysis.tables import MIN_GRID, SOLVE_TASKS, solved, with_init
from bench.analysis.variants import variant_values

UNKNOWN_CONVERGENCE = "convergence unknown (no `converged` metric: old results), treated as not converged"


@dataclass
class Cell:
    """One cell's numbers for a comparison: score per seed, and what makes it trustworthy."""

    label: str
    scores: dict = field(default_factory=dict)  # {seed: value}
    converged: bool | None = None  # every seed converged; None: unknown (metric absent)
    grid: int | None = None  # learning rates tried for the cell; None: unknown
    solved: dict = field(default_factory=dict)  # {seed: reached the solve bar on test}
    val_solved: dict = field(default_factory=dict)  # {seed: reached the solve bar on validation}
    tuning: frozenset = frozenset()  # seeds whose validation chose the cell's lr / init
    stopped_short: frozenset = frozenset()  # seeds that learned, stayed below the bar and stopped early

    def held_out(self, values: dict) -> dict:
        """{seed: value} without the tuning seeds (all of them when no seed tuned)."""
        held = {s: v for s, v in values.items() if s not in self.tuning}
        return held or values  # a cell nothing was chosen for: every seed is held out

    @property
    def rate(self) -> Rate:
        """k of n held-out seeds solved (test accuracy at or above the solve bar): the seeds that
        chose nothing, so a solve that won the lr choice does not also count as evidence."""
        return rate_of(self.held_out(self.solved).values())

    @property
    def rate_all(self) -> Rate:
        return rate_of(self.solved.values())

    @property
    def val_rate(self) -> float:
        """The share of tuning seeds whose validation accuracy reached the bar (for choices such
        as where a model falls; every seed when none tuned)."""
        tuned = {s: v for s, v in self.val_solved.items() if s in self.tuning} or self.val_solved
        return rate_of(tuned.values()).rate

    @property
    def undertrained(self) -> bool:
        """A held-out seed stopped early on a plateau below the bar after it started learning:
        it did not use its whole budget, so its 'not solved' is not a failure at this cap."""
        return any(s not in self.tuning for s in self.stopped_short)

    @property
    def mean(self) -> float:
        return mean_ci(self.scores.values()).mean

    def notes(self) -> list[str]:
        notes = []
        if self.scores and self.converged is None:
            notes.append(f"{self.label}: {UNKNOWN_CONVERGENCE}")
        return notes


def ok_rows(frame: pd.DataFrame, **where) -> pd.DataFrame:
    """The ok runs matching column == value for every keyword."""
    if frame.empty:
        return frame
    mask = frame["status"] == "ok" if "status" in frame else pd.Series(True, index=frame.index)
    for column, wanted in where.items():
        mask &= frame[column] == wanted
    return frame[mask]


def cell_of(frame: pd.DataFrame, label: str, metric: str = "test_accuracy", limit_known: bool = False,
            **where) -> Cell:
    """The Cell of the ok runs matching `where` (one row per seed at the selected lr);
    limit_known: see converged_runs."""
    rows = ok_rows(frame, **where)
    if rows.empty or metric not in rows:
        return Cell(label)
    rows = rows.dropna(subset=[metric])
    scores = {seed: float(v) for seed, v in zip(rows["seed"], rows[metric], strict=True)}
    per_run = converged_runs(rows, limit_known)
    converged = None if per_run is None else bool(per_run.all())
    grid = int(rows["lr_grid"].min()) if "lr_grid" in rows and rows["lr_grid"].notna().any() else None
    hits = dict(zip(rows["seed"], solved(rows), strict=True))
    on_val = rows.assign(test_accuracy=rows["val_accuracy"]) if "val_accuracy" in rows else rows.iloc[0:0]
    val_hits = dict(zip(on_val["seed"], solved(on_val), strict=True))
    tuning = frozenset(rows.loc[rows["tuning"].fillna(False).astype(bool), "seed"]) if "tuning" in rows \
        else frozenset()
    short = frozenset(seed for seed, row in zip(rows["seed"], rows.to_dict("records"), strict=True)
                      if _stopped_short(row))
    return Cell(label, scores, converged, grid, hits, val_hits, tuning, short)


def _stopped_short(row: dict) -> bool:
    """Learned (left chance), below the bar, and stopped before its cap."""
    metrics = {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
    return outcome(metrics) == LEARNED and ending(metrics) == STOPPED_EARLY


def _gate(part: Part, cells: list[Cell]) -> Part:
    """The LR-grid rule and the convergence notes on a tested part."""
    notes = [n for c in cells for n in c.notes()]
    if notes:
        part = replace(part, detail=f"{part.detail}; {'; '.join(notes)}")
    small = [c for c in cells if c.grid is None or c.grid < MIN_GRID]
    if part.verdict in (SUPPORTED, REFUTED, INCONCLUSIVE) and small:
        grids = ", ".join(f"{c.label}: {'unknown' if c.grid is None else c.grid}" for c in small)
        k = min((c.grid for c in small if c.grid is not None), default=None)
        head = f"LR grid of {k} < {MIN_GRID}" if k is not None else "LR grid unknown"
        part = replace(part, verdict=PRELIMINARY, reason=PRELIMINARY, p_value=math.nan,
                       detail=f"{head} ({grids}): not tested; {part.detail}")
    return part


def compare(a: Cell, b: Cell, name: str, min_effect: float = MIN_EFFECT) -> Part:
    """"a > b", paired by seed; the losing side must have converged; grids of >= 3 lrs."""
    part = paired_greater(a.scores, b.scores, name, min_effect, converged_a=bool(a.converged),
                          converged_b=bool(b.converged))
    part = replace(part, detail=f"{a.label} vs {b.label}: {part.detail}")
    return _gate(part, [a, b])


def compare_unpaired(a: Cell, b: Cell, name: str, min_effect: float = MIN_EFFECT) -> Part:
    """"a > b" for cells on different data (one model at two distances): Welch's test."""
    part = unpaired_greater(a.scores, b.scores, name, min_effect, converged_a=bool(a.converged),
                            converged_b=bool(b.converged))
    return _gate(replace(part, detail=f"{a.label} vs {b.label}: {part.detail}"), [a, b])


def above(a: Cell, threshold: float, name: str) -> Part:
    """"a > threshold" (one-sample, same rules); a low `a` must have converged to refute."""
    part = above_threshold(a.scores, threshold, name, converged=bool(a.converged))
    return _gate(replace(part, detail=f"{a.label}: {part.detail}"), [a])


def below(a: Cell, threshold: float, name: str) -> Part:
    """"a < threshold"; a low `a` must have converged to support."""
    part = below_threshold(a.scores, threshold, name, converged=bool(a.converged))
    return _gate(replace(part, detail=f"{a.label}: {part.detail}"), [a])


def chance(frame: pd.DataFrame, default: float = 0.0) -> float:
    """The trivial baseline (accuracy of the best constant answer) of these runs."""
    if "trivial_baseline" in frame and frame["trivial_baseline"].notna().any():
        return float(frame["trivial_baseline"].mean())
    return default


def cell_table(frame: pd.DataFrame, keys: list[str], metric: str = "test_accuracy",
               at_limit: tuple[str, ...] = ()) -> pd.DataFrame:
    """The numbers a claim rests on, per cell: init and lr chosen, mean ± CI half-width (and
    ci_low/ci_high within [0, 1]), n ok, diverged, the solve rate with its exact interval
    (SOLVE_TASKS), how the runs ended (outcome counts: bench/analysis/outcome.py), LR grid
    size and the baselines. at_limit: models tested against an information limit (fill-in's
    left-only ceiling), whose runs are bounded by it however long they train."""
    rows = []
    frame = with_init(frame)
    for key, group in frame.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ok = ok_rows(group)
        stat = mean_ci(ok[metric] if metric in ok else [])
        row = {**dict(zip(keys, key, strict=True)), "init": ",".join(sorted(group["init"].unique())),
               "lr": ",".join(f"{v:g}" for v in sorted(group["lr"].unique())) if "lr" in group else "",
               "mean": stat.mean, "ci95": stat.half,
               "ci_low": max(0.0, stat.lo) if stat.n else float("nan"),
               "ci_high": min(1.0, stat.hi) if stat.n else float("nan"), "n": stat.n,
               "diverged": int((group["status"] == "diverged").sum()) if "status" in group else 0}
        if "task" in group and set(group["task"]) <= set(SOLVE_TASKS):
            rate = rate_of(solved(group))
            row["solved"] = rate.text()
        row["outcomes"] = ("bounded by the left-only ceiling" if row.get("model") in at_limit
                             else converged_text(ok))
        row["lr_grid"] = int(group["lr_grid"].min()) if "lr_grid" in group and group["lr_grid"].notna().any() \
            else "unknown"
        for base in ("trivial_baseline", "bigram_baseline", "left_only_ceiling"):
            if base in ok and ok[base].notna().any():
                row[base] = float(ok[base].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def recall_sweeps(runs: pd.DataFrame):
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


HOW_TESTED = (f"Every comparison pairs the two models' runs by seed (same seed, same data) and "
              f"applies a paired t-test; it counts only if the difference is at least "
              f"{MIN_EFFECT:g} accuracy and stays significant after the Holm correction over all "
              f"comparisons of this claim. Fewer than {MIN_SEEDS} seeds or fewer than {MIN_GRID} "
              f"learning rates per model: preliminary. A model that loses a comparison but did not "
              f"converge makes it inconclusive (undertrained); so does one that early stopping "
              f"ended at chance before its step cap (stalled: it never started learning).")


__all__ = ["Cell", "Claim", "Part", "INCONCLUSIVE", "NOT_RUN", "PRELIMINARY", "REFUTED", "SUPPORTED",
           "above", "below", "cell_of", "cell_table", "chance", "compare"]
