"""`bench report DIR`: tables, figures, claim verdicts and exports for a results folder.

Loads with the store (the tidy table, the run records, speed.csv and gradflow.csv), computes
the parameter counts at equal widths from the model registry (claim 4), and hands everything
to bench.report.build.write_report. A folder holding only probe results (no runs) reports
fine. With `--compare OTHER_DIR`, the report gains a reproduction check against OTHER_DIR
(the committed results) and the command exits 1 when any cell moved outside its interval.
"""
from __future__ import annotations

from pathlib import Path

from bench.analysis.analyze import analyze
from bench.analysis.anchors import anchor_table
from bench.analysis.reproduce import compare, differing, moved
from bench.execute.store import load_runs, load_table, read_probe
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
                        help="also write the published-anchor comparison (our cells beside ANCHORS.md) to FILE")
    parser.add_argument("--format", default="md,csv",
                        help=f"comma-separated outputs among {','.join(FORMATS)} (default md,csv): "
                             "report.md, report.tex, summary.csv")


def write(folder: str | Path, compare: str | Path | None = None, formats=("md", "csv"),
          plots: bool = True) -> Path:
    """Load `folder` with the store and write its report (the API's `bench.report`); returns
    the path of the first format written. `compare`: a committed results folder to check against."""
    out = Path(folder)
    formats = check_formats(formats.split(",") if isinstance(formats, str) else formats)
    if not out.is_dir():
        raise ValueError(f"results folder {out} does not exist")
    if compare is not None and not Path(compare).is_dir():
        raise ValueError(f"--compare folder {compare} does not exist")
    committed = load_table(Path(compare)) if compare is not None else None
    committed_records = load_runs(Path(compare)) if compare is not None else None
    return write_report(out, load_table(out), load_runs(out), read_probe(out, "speed.csv"),
                        read_probe(out, "gradflow.csv"), structural_params(), compare_table=committed,
                        compare_records=committed_records,
                        formats=formats, plots=plots, order=tuple(MODELS), compare_label=f"`{compare}`")


def write_anchors(folder: Path, path: Path) -> Path:
    """The published anchors beside `folder`'s cells, as a markdown file."""
    summary = analyze(load_table(folder), order=tuple(MODELS)).summary
    lines = [f"# Published anchors beside our numbers (`{folder}`)", "",
             "Published numbers as their papers and example code report them (shared ANCHORS.md); ours "
             "are mean ± 95% CI over seeds at each cell's validation-chosen learning rate, at the closest "
             "setting that fits on a 2-core CPU. Written by `bench report DIR --anchors FILE`.", "",
             markdown(anchor_table(summary)), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def main(args) -> int:
    formats = check_formats(args.format.split(","))
    path = write(args.dir, args.compare, formats, plots=not args.no_plots)
    if args.anchors is not None:
        print(f"wrote {write_anchors(Path(args.dir), Path(args.anchors))}")
    print(f"wrote {path}" + (f" (and {', '.join(f for f in formats if f != 'md')})" if len(formats) > 1 else ""))
    if args.compare is not None:
        mine, theirs = Path(args.dir), Path(args.compare)
        comparison = compare(load_table(mine), load_table(theirs), load_runs(mine, warn=False),
                             load_runs(theirs, warn=False))
        for row in differing(comparison).itertuples(index=False):
            print(f"{row.status}: {row.task} [{row.variant}] {row.model}: {row.new:.4f} vs committed "
                  f"{row.committed:.4f} [{row.low:.4f}, {row.high:.4f}]; differs in: {row.why}")
        changed = moved(comparison)
        same = int(comparison["identical"].sum())
        print(f"{same} of {len(comparison)} cells identical to the digit, {len(changed)} moved or missing "
              f"against {args.compare}")
        return 1 if len(changed) else 0
    return 0
