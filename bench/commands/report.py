"""`bench report DIR`: tables, figures, claim verdicts and exports for a results folder.

Loads with the store (the tidy table, the run records, speed.csv and gradflow.csv), computes
the parameter counts at equal widths from the model registry (claim 4), and hands everything
to bench.report.build.write_report. A folder holding only probe results (no runs) reports
fine. With `--compare OTHER_DIR`, the report gains a reproduction check against OTHER_DIR
(the committed results), cell by cell and run by run, and the command exits 1 when a rerun cell
moved outside its interval or a run changed its outcome (cells the folder did not rerun, a slice,
are listed, not failed).
"""
from __future__ import annotations

import sys
from pathlib import Path

from bench.analysis.analyze import analyze
from bench.analysis.anchors import anchor_table
from bench.analysis.reproduce import MISSING, compare, compare_runs, differing, moved
from bench.execute.store import CODES, check_folder, load_folder, read_design, read_probe
from bench.models import MODELS
from bench.probes.structure import structural_params
from bench.report.build import FORMATS, check_formats, write_report
from bench.report.markdown import markdown


def add_arguments(parser) -> None:
    parser.add_argument("dir", help="results folder (holding runs/, results.csv and/or probe files)")
    parser.add_argument("--compare", metavar="OTHER_DIR", default=None,
                        help="committed results to check against; exit 1 when a cell moved")
    parser.add_argument("--no-plots", action="store_true", help="tables and verdicts only")
    parser.add_argument("--anchors", metavar="FILE", default=None,
                        help="also write the published-anchor comparison (our cells beside published numbers) to FILE")
    parser.add_argument("--format", default="md,csv",
                        help=f"comma-separated outputs among {','.join(FORMATS)} (default md,csv): "
                             "report.md (and report.html beside it), report.html, report.tex, summary.csv")
    parser.add_argument("--code", choices=CODES, default="current",
                        help="which record of each config counts: current (computed by the code on disk "
                             "now; the default) or any (the current one, else the newest)")


# the file each format writes
OUTPUTS = {"md": "report.md", "html": "report.html", "latex": "report.tex", "csv": "summary.csv"}


def write(folder: str | Path, compare: str | Path | None = None, formats=("md", "csv"),
          plots: bool = True, code: str = "current", echo=None) -> Path:
    """Load `folder` with the store and write its report (the API's `bench.report`); returns
    the path of the first format written. `compare`: a committed results folder to check
    against (read with code="any": committed records come from older code by nature);
    code: which record of each config counts (bench.execute.store: "current" or "any");
    echo: called with the answer and the verdict table as text (the CLI prints them)."""
    out = Path(folder)
    formats = check_formats(formats.split(",") if isinstance(formats, str) else formats)
    check_folder(out)
    if compare is not None:
        try:
            check_folder(Path(compare))
        except ValueError as error:
            raise ValueError(f"--compare: {error}") from None
    loaded = load_folder(out, code)
    speed, gradflow = read_probe(out, "speed.csv"), read_probe(out, "gradflow.csv")
    # refused, never a report without its runs: records that are all from other code would
    # otherwise leave a probes-only report over the folder's own (results/standard's)
    if loaded.table.empty and (loaded.usable or (speed.empty and gradflow.empty)):
        why = "; ".join(loaded.notes) or "no runs/, results.csv, speed.csv or gradflow.csv"
        raise ValueError(f"results folder {out} holds nothing to report ({why})")
    committed = load_folder(Path(compare), "any") if compare is not None else None
    return write_report(out, loaded.table, loaded.records, speed, gradflow, structural_params(),
                        compare_table=committed.table if committed else None,
                        compare_records=committed.records if committed else None,
                        formats=formats, plots=plots, order=tuple(MODELS), compare_label=f"`{compare}`",
                        notes=loaded.notes, echo=echo, design=read_design(out))


def write_anchors(folder: Path, path: Path, code: str = "current") -> Path:
    """The published anchors beside `folder`'s cells, as a markdown file."""
    result = analyze(load_folder(folder, code).table, order=tuple(MODELS))
    lines = [f"# Published anchors beside our numbers (`{folder}`)", "",
             "Published numbers as their papers and example code report them (their settings and sources: "
             "the `published setting` column; the papers: Keras IMDB examples, Bai et al. 2018 (TCN), Tallec & "
             "Ollivier 2018, Arora et al. 2023 (Zoology), Tay et al. 2020 (LRA)); ours "
             "are mean ± 95% CI over seeds at each cell's validation-chosen learning rate, at the closest "
             "setting that fits on a 2-core CPU. Written by `bench report DIR --anchors FILE`.", "",
             markdown(anchor_table(result.summary, result.summary_init)), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def _stamp(path: Path) -> int | None:
    """A file's mtime in ns (None when absent): was it written by this command?"""
    return path.stat().st_mtime_ns if path.exists() else None


def main(args) -> int:
    formats = check_formats(args.format.split(","))
    code = getattr(args, "code", "current")
    shown = (*formats, "html") if "md" in formats and "html" not in formats else formats  # md brings html
    before = {f: _stamp(Path(args.dir) / OUTPUTS[f]) for f in shown}
    path = write(args.dir, args.compare, formats, plots=not args.no_plots, code=code, echo=print)
    if args.anchors is not None:
        print(f"wrote {write_anchors(Path(args.dir), Path(args.anchors), code)}")
    others = [f for f in shown if OUTPUTS[f] != Path(path).name
              and _stamp(Path(args.dir) / OUTPUTS[f]) not in (None, before[f])]
    print(f"wrote {path}" + (f" (and {', '.join(others)})" if others else ""))
    for note in load_folder(Path(args.dir), code).notes:  # what the tables left out, also atop the report
        print(f"note: {note}", file=sys.stderr)
    if args.compare is not None:
        mine, theirs = load_folder(Path(args.dir), code), load_folder(Path(args.compare), "any")
        comparison = compare(mine.table, theirs.table, mine.records, theirs.records)
        for row in differing(comparison).itertuples(index=False):
            print(f"{row.status}: {row.task} [{row.variant}] {row.model}: {row.new:.4f} vs committed "
                  f"{row.committed:.4f} [{row.low:.4f}, {row.high:.4f}]; differs in: {row.why}")
        changed = moved(comparison)
        shifted = changed[changed["status"] != MISSING]  # a cell not rerun here (a slice) is not a move
        rerun = comparison[comparison["status"] != MISSING]
        print(f"{int(rerun['identical'].sum())} of {len(rerun)} rerun cells identical to the digit, {len(shifted)} "
              f"moved against {args.compare}" + (f"; {len(changed) - len(shifted)} of its cells not rerun here"
                                                  if len(changed) > len(shifted) else ""))
        per_run = compare_runs(mine.table, theirs.table, mine.records, theirs.records)
        flips = int(per_run["outcome_changed"].sum()) if not per_run.empty else 0
        if not per_run.empty:
            print(f"per run: {int(per_run['identical'].sum())} of {len(per_run)} identical in every score, "
                  f"{flips} changed outcome (solved on one side only)")
        return 1 if len(shifted) or flips else 0
    return 0
