"""Markdown sections about the runs: overview, how to read, environment, claims, results."""
from __future__ import annotations

import pandas as pd

from bench.analysis.analyze import Analysis
from bench.analysis.claims import GPU_ANCHORS
from bench.analysis.labels import shared_text, short_variant
from bench.analysis.outcome import (
    AT_CAP,
    DIVERGED,
    LEARNED,
    LEARNING_MARGIN,
    SOLVED,
    STALLED,
    STOPPED_EARLY,
)
from bench.analysis.rates import MIN_RATE_EFFECT
from bench.analysis.selection import LR_LIMITS
from bench.analysis.stats import MIN_EFFECT, MIN_SEEDS, NOT_RUN, Claim
from bench.analysis.tables import DIVERGED_VAL, MIN_GRID, accuracy_matrix, lr_grid_table
from bench.report.markdown import markdown, task_table
from bench.report.sections_probes import GPU_NOTE


def overview(result: Analysis) -> list[str]:
    runs = result.runs
    if runs.empty:
        return ["**No runs in this folder.** Every run-based claim below is `not run`.", ""]
    counts = runs["status"].value_counts().to_dict()
    text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    lines = [f"**{len(runs)} runs** ({text}) over tasks {', '.join(sorted(runs['task'].unique()))}; "
             f"models {', '.join(result.summary['model'].unique()) if not result.summary.empty else '–'}.", ""]
    if result.older:
        lines += [f"{result.older} runs of older task versions are not summarized (a changed task is a "
                  "new experiment).", ""]
    return lines


def how_to_read() -> list[str]:
    return ["## How to read this report", "",
            "- A **cell** is (task, variant, model, init, parameter budget). Its score is the mean "
            "test accuracy over seeds with its 95% interval (kept within [0, 1]); `n=1, no CI` means "
            "one seed, so no interval exists.",
            f"- Each cell tries a grid of learning rates; the lr with the best mean **validation** "
            f"accuracy is chosen (diverged seeds count as {DIVERGED_VAL:g}); only its test score is "
            f"shown. A choice at the smallest or largest lr of the grid is flagged: the best lr may lie "
            f"outside it.",
            f"- Each run ends in one of the words the terminal prints: `{SOLVED}` (test accuracy at "
            f"or above the bar halfway between the trivial baseline and 1), `{STALLED}` (best "
            f"validation within {LEARNING_MARGIN:g} of the trivial baseline: it never started "
            f"learning), `{LEARNED}` or `{DIVERGED}`; and either `{STOPPED_EARLY}` or `{AT_CAP}`. A "
            f"cell's solve rate, where shown, is the share of its seeds that solved, with an exact "
            f"95% interval.",
            "- `outcomes` counts a cell's runs in those words, e.g. `2 solved (stopped early); 1 stalled "
            "at chance (at cap)`; `unknown`: results from before the harness recorded them. A left-only "
            "model on fill-in reads `bounded by the left-only ceiling`: the task's information limit, not "
            "a failure to train. `diverged` counts runs whose loss went non-finite; they have no test "
            "score and are never dropped silently.",
            "- The **trivial baseline** is the accuracy of the best guess without the ability the task "
            "tests, computed from the data per task (chance, a constant guess, the key-blind guess of "
            "associative recall, a guess among MQAR's context values); a score at or below it is "
            "marked `≤ baseline`.",
            f"- **Verdicts**: on tasks whose runs solve or fail (recall, copy, fill-in) two cells are "
            f"compared by their solve rates with Barnard's exact test, one cell against a rate of 0.5 with "
            f"the exact binomial test, counting held-out seeds only (not the seeds whose validation chose the "
            f"lr and init); graded scores (cloze) seed by seed with a paired t-test (an exact sign-flip test "
            f"where the differences have no variance). `supported` / `refuted` need a difference of at least "
            f"{MIN_RATE_EFFECT:g} in solve rate or {MIN_EFFECT:g} in accuracy that stays significant after the "
            f"Holm correction over the parts of the claim. `inconclusive` says why (overlap, below min effect, "
            f"no test at this n can pass, held to the longest distance, undertrained: the losing side stopped "
            f"early on a plateau below the bar, ...). `preliminary`: fewer than {MIN_SEEDS} seeds or fewer than "
            f"{MIN_GRID} learning rates, so nothing was tested yet. `not run`: the runs are missing.",
            ""]


def environment_section(result: Analysis, has_records: bool) -> list[str]:
    lines = ["## Environment", ""]
    if has_records and not result.environment.empty:
        return lines + ["Per distinct environment of the run records (`first`/`last`: the times the "
                        "records state; `unknown` when they state none):", "",
                        markdown(result.environment), ""]
    devices = (", ".join(sorted(map(str, result.all_runs["device"].unique())))
               if not result.all_runs.empty and "device" in result.all_runs else "–")
    return lines + [f"No run records (runs/) in this folder: devices {devices}; torch version, git "
                    "commit and dates are unknown.", ""]


def _part_line(part) -> str:
    why = f" ({part.reason})" if part.reason and part.reason != part.verdict else ""
    return f"- {part.name}: **{part.verdict}**{why} — {part.detail}"


# the figures that show each claim's numbers (drawn by bench/report/build.py when the data exist)
CLAIM_FIGURES = {1: ("headline.png", "curves_recall.png"), 8: ("headline.png", "curves_recall.png"),
                 2: ("curves_fill_in.png", "curves_cloze.png"),
                 3: ("throughput_vs_length.png", "speedup_over_lstm.png"),
                 5: ("throughput_vs_length.png", "speedup_over_lstm.png"), 6: ("gradflow.png",),
                 7: ("gradflow.png",)}


def verdict_table(claims: list[Claim]) -> list[str]:
    """The verdicts at a glance, each row linking to its claim's section."""
    lines = ["## Verdicts", "", "| # | claim | verdict |", "|---|---|---|"]
    lines += [f"| [{c.number}](#claim-{c.number}) | {c.statement} | **{c.verdict}** |" for c in claims]
    return lines + [""]


def claims_section(claims: list[Claim], drawn: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Per claim: rule, parts, links to its figures among `drawn` (file names written next to
    the report) and its numbers (the verdict table itself: verdict_table)."""
    lines = ["## Claims", "", "Each claim's rule, the parts its verdict rests on, and the numbers; the "
             "verdict table is at the top.", ""]
    for claim in claims:
        why = f" ({claim.reason})" if claim.reason and claim.verdict != NOT_RUN else ""
        lines += [f'<a id="claim-{claim.number}"></a>', "",
                  f"### Claim {claim.number}: {claim.verdict}{why}", "", claim.statement, "",
                  f"Rule: {claim.rule}", ""]
        figures = [name for name in CLAIM_FIGURES.get(claim.number, ()) if name in drawn]
        if figures:
            lines += ["Figures: " + ", ".join(f"[{name}]({name})" for name in figures)
                      + ("; numbers: the table under the parts." if claim.verdict != NOT_RUN else ""), ""]
        lines += [_part_line(p) for p in claim.parts]
        lines.append("")
        if claim.number in GPU_ANCHORS:
            lines += [f"{GPU_NOTE} {GPU_ANCHORS[claim.number]}", ""]
        if claim.verdict != NOT_RUN and claim.evidence is not None and not claim.evidence.empty:
            lines += ["<details><summary>numbers</summary>", "", markdown(claim.evidence), "</details>", ""]
    return lines


def lr_section(result: Analysis) -> list[str]:
    grid = result.grid
    if grid is None or grid.empty:
        return []
    lines = ["### Learning-rate grid", "",
             f"Rule (bench/analysis/selection.py): per (cell, init), the lr with the best mean validation "
             f"accuracy over the seeds every lr ran (diverged seeds count as {DIVERGED_VAL:g}); ties go to the "
             f"standard init, then to the middle of the tied lrs; where no lr left chance every lr ties. The "
             f"cell reports the (init, lr) that is best on validation; test scores are never used for a choice. "
             f"A choice at an edge extended the grid by a half-decade step (until the choice was interior or "
             f"the grid reached {LR_LIMITS[0]:g} / {LR_LIMITS[1]:g}); a grid where nothing left chance extended "
             f"upward to {LR_LIMITS[1]:g}. 'chosen on seeds': the tuning seeds, which the claims do not count. "
             f"A verdict needs a grid of at least {MIN_GRID} lrs per cell.", ""]
    chosen = grid[grid["selected"]]
    small = chosen[chosen["grid_size"] < MIN_GRID]
    if len(small):
        sizes = ", ".join(str(k) for k in sorted(small["grid_size"].unique()))
        lines += [f"**{len(small)} of {len(chosen)} (cell, init) choices tried fewer than {MIN_GRID} learning "
                  f"rates (grid of {sizes}): their verdicts are preliminary.**", ""]
    interior = int((~chosen["edge"]).sum())
    lines += [f"{interior} of {len(chosen)} (cell, init) choices are interior to their grid."]
    for flag, words in ((chosen["edge"] & ~chosen.get("at_limit", False), "at the grid's edge (the best lr may "
                         "lie outside it)"), (chosen.get("at_limit", pd.Series(False, index=chosen.index)),
                                             "at the grid's limit (the grid was extended as far as the rule goes)")):
        rows = chosen[flag.astype(bool)] if len(chosen) else chosen
        if len(rows):
            rows = rows.assign(variant=short_variant(rows))
            names = ", ".join(f"{r.task} [{r.variant}] {r.model} ({r.init}, lr {r.lr:g})" for r in rows.itertuples())
            lines += ["", f"**Chosen {words} ({len(rows)}):** {names}."]
    lines.append("")
    lines += ["<details><summary>validation accuracy per lr</summary>", "",
              markdown(lr_grid_table(grid, result.order)), "</details>", ""]
    return lines


def short_answer(result: Analysis) -> list[str]:
    """The short answer: mean test accuracy per task variant x model, `≤ baseline` marked."""
    if result.summary.empty:
        return []
    return ["## The short answer: mean test accuracy per cell", "",
            "Mean test accuracy over seeds at each cell's chosen learning rate (number of seeds); "
            "`≤ baseline`: at or below the trivial baseline (its own column), i.e. nothing learned "
            "that the task tests.", "",
            markdown(accuracy_matrix(result.summary, result.order)), "",
            "Variant labels omit the settings shared by every variant of a task:", "",
            *shared_text(result.selected), ""]


def results_section(result: Analysis) -> list[str]:
    lines = ["## Results", ""]
    if result.selected.empty:
        return lines + ["_(no runs)_", ""]
    lines += lr_section(result)
    for task in sorted(result.summary["task"].unique()):
        lines += [f"### Task `{task}`", "", markdown(task_table(result.summary, task)), ""]
    return lines
