"""Write a results folder's report from what the store loaded: DIR/report.md with its figures
(PNG, SVG, PDF), DIR/summary.csv (one row per cell) and DIR/report.tex (LaTeX tables).

The caller loads (bench/commands/report.py: the store's load_table / load_runs / read_probe,
structure from the model registry); bench.analysis computes every number and verdict; this
module only formats. Nothing is typed in by hand.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from bench.analysis.analyze import Analysis, analyze
from bench.analysis.answer import answer
from bench.analysis.labels import short_variant, sort_cells, with_knob, with_x
from bench.analysis.reproduce import compare
from bench.report.export import write_latex, write_summary_csv
from bench.report.markdown import markdown
from bench.report.sections import claims_section, environment_section, how_to_read, overview, results_section
from bench.report.sections_probes import gradflow_section, speed_section

FORMATS = ("md", "latex", "csv")


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
                 compare_records: list[dict[str, Any]] | None = None) -> Path:
    """Analyze and write the report of folder `out`; returns the path of the first format
    written (report.md when md is asked for). `order`: model display order (the registry's)."""
    formats = check_formats(formats)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = analyze(table, records, speed, gradflow, structure, order)
    written = []
    if "md" in formats:
        comparison = (compare(table, compare_table, records, compare_records)
                      if compare_table is not None else None)
        written.append(_write_markdown(out, result, bool(records), plots, comparison, compare_label))
    if "csv" in formats and not result.summary.empty:  # a probes-only folder has no cells
        written.append(write_summary_csv(result, out / "summary.csv"))
    if "latex" in formats:
        written.append(write_latex(result, out / "report.tex"))
    if not written:
        raise ValueError(f"{out} holds no runs, so there is no summary.csv to write; ask for --format md")
    return written[0]


def _write_markdown(out: Path, result: Analysis, has_records: bool, plots: bool,
                    comparison: pd.DataFrame | None, compare_label: str) -> Path:
    lines = [f"# Benchmark report: `{out}`", "",
             f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python -m bench report` "
             "from the files in this folder; every number and verdict below is computed by code "
             "(bench/analysis, formatted by bench/report).", ""]
    drawn = {group: draw_figures(out, result, group) if plots else []
             for group in ("headline", "results", "speed", "gradflow")}
    figures = {group: figure_lines(group, pictures) for group, pictures in drawn.items()}
    names = {Path(path).name for pictures in drawn.values() for _, path in pictures}
    lines += overview(result)
    lines += answer_section(result)
    lines += figures["headline"]
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
        same = int(comparison["identical"].sum())
        lines += [f"## Reproduction check against {compare_label}", "",
                  f"{same} of {len(comparison)} cells identical to the digit. Per cell: does this "
                  "folder's mean test accuracy fall inside the other folder's 95% CI (n=1 there: "
                  "within ±0.1)? `why`: for a cell that is not identical, what differs between the "
                  "environments that computed the two (CPU, threads, torch, harness code).", "",
                  markdown(comparison), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def answer_section(result: Analysis) -> list[str]:
    """The answer first, in sentences computed from the tables below (see bench/analysis/answer.py);
    the verdicts that decide each claim follow in "Claims"."""
    lines = answer(result.summary, result.speed_ok)
    if not lines:
        return []
    intro = (["Mean test accuracy over seeds at each cell's chosen learning rate (± 95% CI); the claims' "
              "verdicts below say which of these differences survive the rules.", ""]
             if not result.summary.empty else [])
    return ["## The answer, in short", "", *intro, *lines, ""]


def draw_figures(out: Path, result: Analysis, group: str) -> list[tuple[str, Path]]:
    """Draw one group of figures into `out`; returns (caption, path) of each one drawn."""
    from bench.report import plots  # matplotlib only when figures are drawn

    order, figures = result.order, []
    if group == "headline":
        recall = result.selected[result.selected["task"] == "recall"] if not result.selected.empty else None
        if recall is not None and not recall.empty:
            figures.append(("Headline: recall accuracy against dependency distance, per model (band: 95% CI "
                            "over seeds; dashed: trivial baseline)",
                            plots.headline(with_knob(recall, "distance"), out / "headline.png", order)))
    elif group == "results" and not result.selected.empty:
        selected = result.selected
        for task in sorted(selected["task"].unique()):
            frame, knob = with_x(selected, task)
            if frame[knob].nunique() >= 2:
                figures.append((f"{task}: test accuracy against {knob} (band: 95% CI over seeds)",
                                plots.accuracy_vs_knob(frame, task, knob, out / f"accuracy_vs_{knob}_{task}.png",
                                                       order)))
        figures.append(("test accuracy against core parameters (several budgets)",
                        plots.accuracy_vs(selected, "params_core", out / "accuracy_vs_params.png", order)))
        figures.append(("test accuracy against training wall time (grey: the cost-quality frontier)",
                        plots.accuracy_vs(selected, "wall_s", out / "accuracy_vs_wall_time.png", order)))
        curves = result.curves
        for task in sorted(curves["task"].unique()) if not curves.empty else []:
            frame = sort_cells(curves[curves["task"] == task], order)
            frame = frame.assign(variant=short_variant(frame))
            figures.append((f"{task}: validation accuracy against step (band: 95% CI over seeds)",
                            plots.training_curves(frame, out / f"curves_{task}.png", order)))
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
