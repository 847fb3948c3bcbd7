"""Write a results folder's report from what the store loaded: DIR/report.md and DIR/report.html
(the same report as one self-contained page) with their figures (PNG, SVG, PDF), DIR/summary.csv
(one row per cell) and DIR/report.tex (LaTeX tables). Every file is written atomically.

The report answers first: its opening lines are the answer sentences (bench/analysis/answer.py),
then the headline figure, the verdict table and the short answer (mean accuracy per cell,
`≤ baseline` marked); the rules, the claims' details and every table follow.

The caller loads (bench/commands/report.py: the store's load_table / load_runs / read_probe,
structure from the model registry); bench.analysis computes every number and verdict; this
module only formats. Nothing is typed in by hand.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from bench.analysis.analyze import Analysis, analyze
from bench.analysis.answer import answer
from bench.analysis.labels import short_variant, sort_cells, with_knob, with_x
from bench.analysis.reproduce import MISSING, compare, compare_runs
from bench.report.export import write_latex, write_summary_csv
from bench.report.files import write_text
from bench.report.html import to_html
from bench.report.markdown import markdown
from bench.report.sections import (
    claims_section,
    environment_section,
    how_to_read,
    overview,
    results_section,
    short_answer,
    verdict_table,
)
from bench.report.sections_probes import gradflow_section, speed_section

FORMATS = ("md", "html", "latex", "csv")  # md brings html with it (the same report as one page)


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats asked for, each one of FORMATS (a ValueError names the valid ones)."""
    formats = tuple(f.strip() for f in formats if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format {unknown[0] if unknown else '(none)'!r}; valid: "
                         f"{', '.join(FORMATS)} (comma-separated)")
    return formats


def write_report(out: Path, table: pd.DataFrame, records: list[dict[str, Any]] | None = None,
                 speed: pd.DataFrame | None = None, gradflow: pd.DataFrame | None = None,
                 structure: pd.DataFrame | None = None, compare_table: pd.DataFrame | None = None,
                 formats: Sequence[str] = ("md", "csv"), plots: bool = True, order: Sequence[str] = (),
                 compare_label: str = "the committed results",
                 compare_records: list[dict[str, Any]] | None = None, notes: Sequence[str] = (),
                 echo: Callable[[str], None] | None = None, design: str = "") -> Path:
    """Analyze and write the report of folder `out`; returns the path of the first format
    written (report.md when md is asked for). `order`: model display order (the registry's);
    `notes`: what the store left out (bench.execute.store.Folder.notes), shown near the top;
    `echo`: called with the answer and the verdict table as plain text (the terminal's);
    `design`: what the suite fixed before running (bench.execute.store.read_design), shown
    before any result."""
    formats = check_formats(formats)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = analyze(table, records, speed, gradflow, structure, order)
    written = []
    if "md" in formats or "html" in formats:
        comparison = (compare(table, compare_table, records, compare_records)
                      if compare_table is not None else None)
        per_run = (compare_runs(table, compare_table, records, compare_records)
                   if compare_table is not None else None)
        text = "\n".join(report_lines(out, result, bool(records), plots, comparison, compare_label, notes,
                                       design, per_run))
        if "md" in formats:
            written.append(write_text(out / "report.md", text))
        written.append(write_text(out / "report.html", to_html(text, out, f"Benchmark report: {out}")))
    if "csv" in formats and not result.summary.empty:  # a probes-only folder has no cells
        written.append(write_summary_csv(result, out / "summary.csv"))
    if "latex" in formats:
        written.append(write_latex(result, out / "report.tex"))
    if not written:
        raise ValueError(f"{out} holds no runs, so there is no summary.csv to write; ask for --format md")
    if echo is not None:
        echo(terminal_text(result))
    return written[0]


def report_lines(out: Path, result: Analysis, has_records: bool, plots: bool,
                 comparison: pd.DataFrame | None, compare_label: str, notes: Sequence[str] = (),
                 design: str = "", per_run: pd.DataFrame | None = None) -> list[str]:
    """The markdown report, answer first."""
    drawn = {group: draw_figures(out, result, group) if plots else []
             for group in ("headline", "results", "speed", "gradflow")}
    figures = {group: figure_lines(group, pictures) for group, pictures in drawn.items()}
    names = {Path(path).name for pictures in drawn.values() for _, path in pictures}
    lines = [f"# Benchmark report: `{out}`", ""]
    lines += answer_lines(result)
    lines += [line for note in notes for line in (f"> **Note:** {note}", "")]  # what the store left out
    lines += figures["headline"]
    lines += verdict_table(result.claims)
    lines += short_answer(result)
    lines += [f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python -m bench report` "
              "from the files in this folder; every number and verdict in it is computed by code "
              "(bench/analysis, formatted by bench/report).", ""]
    if design.strip():
        lines += ["## Design: fixed before any run", "", design.strip(), ""]
    lines += overview(result)
    lines += how_to_read()
    lines += environment_section(result, has_records)
    lines += claims_section(result.claims, names)
    lines += results_section(result)
    lines += figures["results"]
    if not has_records and not result.selected.empty:
        lines += ["_No runs/ folder: training curves not drawn._", ""]
    lines += speed_section(result)
    lines += figures["speed"]
    lines += gradflow_section(result)
    lines += figures["gradflow"]
    if comparison is not None:
        lines += reproduction_lines(comparison, per_run, compare_label)
    return lines


def reproduction_lines(comparison: pd.DataFrame, per_run: pd.DataFrame | None, label: str) -> list[str]:
    """The reproduction check: per cell, then per run (the finer one), each difference with its why."""
    rerun = comparison[comparison["status"] != MISSING]
    not_rerun = len(comparison) - len(rerun)
    same = int(rerun["identical"].sum())
    lines = [f"## Reproduction check against {label}", "",
             f"{same} of {len(rerun)} cells rerun here identical to the digit"
             + (f" ({not_rerun} cells of {label} were not rerun here: a slice)" if not_rerun else "")
             + ". Per cell: does this folder's mean test accuracy fall inside the other folder's 95% CI (n=1 "
             "there: within ±0.1)? `why`: for a cell that is not identical, what differs between the "
             "environments that computed the two (CPU, threads, torch, harness code).", "",
             markdown(rerun), ""]
    if per_run is None or per_run.empty:
        return lines
    differ = per_run[~per_run["identical"]]
    flips = int(per_run["outcome_changed"].sum())
    lines += [f"Per run ({len(per_run)} run ids in both folders: same config, same harness code): "
              f"{len(per_run) - len(differ)} identical in every score (test and validation accuracy and loss, "
              f"steps done, best step); {len(differ)} differ, {flips} of them in outcome (solved on one side "
              "only). Each differing run, with the absolute difference per score and what differs between "
              "the two environments:", ""]
    if not differ.empty:
        shown = differ.drop(columns=["identical"]).copy()
        for column in [c for c in shown.columns if c.startswith("diff_")]:  # 1e-9 must not read 0.000
            shown[column] = [f"{x:.2g}" if pd.notna(x) else "–" for x in shown[column]]
        lines += [markdown(shown), ""]
    return lines


def answer_lines(result: Analysis) -> list[str]:
    """Whatever bench/analysis/answer.py says, first, as it says it (nothing when it says nothing)."""
    lines = list(answer(result.summary, result.speed_ok, getattr(result, "summary_init", None)))
    return [*lines, ""] if lines else []


def plain_text(line: str) -> str:
    """A markdown line as terminal text: no **bold**, `code` or [link](target) markup."""
    line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
    return line.replace("**", "").replace("`", "")


def terminal_text(result: Analysis) -> str:
    """The answer and the verdict table, as `bench report` prints them."""
    lines = [plain_text(x) for x in answer_lines(result)]
    if result.claims:
        width = max(len(c.verdict) for c in result.claims)
        lines += ["Verdicts (the rules and numbers: report.md, section Claims):"]
        lines += [f"  {c.number}  {c.verdict:<{width}}  {c.statement}" for c in result.claims]
    return "\n".join(lines).rstrip()


def draw_figures(out: Path, result: Analysis, group: str) -> list[tuple[str, Path]]:
    """Draw one group of figures into `out`; returns (caption, path) of each one drawn. One
    figure per idea: recall's distance sweep is the headline, not also a results figure."""
    from bench.report import plots  # matplotlib only when figures are drawn

    order, figures, selected = result.order, [], result.selected
    cells = result.summary
    if group == "headline":
        # every init at its own best lr (colour: model, line style: init), not only each cell's choice
        by_init = getattr(result, "selected_init", None)
        source = by_init if by_init is not None and not by_init.empty else selected
        init_cells = getattr(result, "summary_init", None)
        cells_source = init_cells if init_cells is not None and not init_cells.empty else cells
        recall = source[source["task"] == "recall"] if not source.empty else None
        if recall is not None and not recall.empty:
            recall_cells = with_knob(cells_source[cells_source["task"] == "recall"], "distance")
            several = "n" in recall_cells and recall_cells["n"].max() > 1  # one seed: no interval, no solve panel
            solve = several and "solve_rate" in recall_cells and recall_cells["solve_rate"].notna().any()
            caption = ("Headline: how far each model remembers. Recall test accuracy against dependency "
                       "distance " + ("(points: seeds; line: mean; bars: 95% interval)" if several else
                                      "(one seed per cell: each marker is its run)")
                       + ("; right: solve rate with its exact interval" if solve else ""))
            figures.append((caption, plots.headline(with_knob(recall, "distance"), out / "headline.png", order,
                                                    cells=recall_cells)))
    elif group == "results" and not selected.empty:
        for task in sorted(selected["task"].unique()):
            frame, knob = with_x(selected, task)
            if task != "recall" and frame[knob].nunique() >= 2:
                task_cells = with_knob(cells[cells["task"] == task], knob)  # empty: the runs' own means
                figures.append((f"{task}: test accuracy against {knob} (points: seeds; line: mean)",
                                plots.knob_figure(frame, task_cells, task, knob,
                                                  out / f"accuracy_vs_{knob}_{task}.png", order)))
        figures.append(("test accuracy against core parameters (several budgets)",
                        plots.accuracy_vs(selected, "params_core", out / "accuracy_vs_params.png", order)))
        if "imdb" in set(selected["task"]):
            figures.append(("At what cost: IMDB test accuracy against training wall time per model (small "
                            "points: seeds; large: mean)", plots.cost(selected, out / "cost_imdb.png", order)))
        figures.append(("test accuracy against training wall time, the other tasks (grey: the cost-quality "
                        "frontier)", plots.accuracy_vs(selected, "wall_s", out / "accuracy_vs_wall_time.png",
                                                      order, exclude=("imdb",))))
        curves = result.curves
        for task in sorted(curves["task"].unique()) if not curves.empty else []:
            frame = sort_cells(curves[curves["task"] == task], order)
            frame = frame.assign(variant=short_variant(frame))
            levels = selected[selected["task"] == task]
            levels = levels.assign(variant=short_variant(levels))
            figures.append((f"{task}: validation accuracy against step (one line per seed)",
                            plots.training_curves(frame, out / f"curves_{task}.png", order, levels=levels)))
    elif group == "speed" and not result.speed_ok.empty:
        figures.append(("training throughput against length (log-log)",
                        plots.throughput(result.speed_ok, out / "throughput_vs_length.png", order)))
        figures.append(("speed-up over the LSTM against length (log-log)",
                        plots.speedup(result.speedups, out / "speedup_over_lstm.png", order)))
    elif group == "gradflow" and not result.gradflow.empty:
        figures.append(("gradient flow", plots.gradflow(result.gradflow, out / "gradflow.png", order)))
    return [(caption, Path(path)) for caption, path in figures if path is not None]


def figure_lines(group: str, figures: list[tuple[str, Path]]) -> list[str]:
    """The markdown that embeds one group's drawn figures (the results group under a heading)."""
    lines = ["### Figures", ""] if group == "results" and figures else []
    for caption, path in figures:
        lines += [f"**{caption}**", "", f"![{caption}]({path.name})", ""]
    return lines
