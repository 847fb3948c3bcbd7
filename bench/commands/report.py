"""`bench report DIR`: write DIR/report.md with tables, figures and claim verdicts.

With `--compare OTHER_DIR`, the report gains a reproduction check against OTHER_DIR (the
committed results) and the command exits 1 when any cell moved outside OTHER_DIR's interval.
"""
from __future__ import annotations

from pathlib import Path

from bench.report.build import build_report


def add_arguments(parser) -> None:
    parser.add_argument("dir", help="results folder (holding runs/ and/or results.csv)")
    parser.add_argument("--compare", metavar="OTHER_DIR", default=None,
                        help="committed results to check against; exit 1 when a cell moved")
    parser.add_argument("--no-plots", action="store_true", help="tables and verdicts only")


def main(args) -> int:
    out = Path(args.dir)
    if args.compare is not None and not Path(args.compare).is_dir():
        raise ValueError(f"--compare folder {args.compare} does not exist")
    path = build_report(out, compare_dir=args.compare, plots=not args.no_plots)
    print(f"wrote {path}")
    if args.compare is not None:
        from bench.analysis.reproduce import compare_dirs, moved

        changed = moved(compare_dirs(out, Path(args.compare)))
        for row in changed.itertuples(index=False):
            print(f"moved: {row.task} [{row.variant}] {row.model}: {row.new} vs committed "
                  f"{row.committed} [{row.low}, {row.high}] ({row.status})")
        print(f"{len(changed)} cells moved against {args.compare}")
        return 1 if len(changed) else 0
    return 0
