"""`bench rerun FOLDER --out NEW`: train again the runs a results folder holds (or a slice of
them), to check a committed result on another machine or at another thread count.

    bench rerun results/standard --task recall --variant distance=8 --threads 2 --out runs/repro
    bench report runs/repro --compare results/standard     # cell by cell and run by run

Reads FOLDER's counted run records (one per config, from the current harness code: the
configs the committed tables rest on), keeps those matching every filter given (--task,
--variant KEY=VALUE, --model, --init, --seeds; each repeatable except --seeds), and trains their
configs unchanged into NEW through the same executor as `bench run` (so the run ids match
and the comparison pairs each run with its committed twin). Refused with one line: no record
matches, or NEW is FOLDER itself (a rerun never touches the folder it checks).
"""
from __future__ import annotations

from pathlib import Path

import tasks  # noqa: F401  (registers tasks)
from bench.commands.run import add_executor_arguments, execute, parse_seeds, parse_variants
from bench.execute.store import load_folder
from bench.run.config import RunConfig


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="a results folder with runs/ (e.g. results/standard)")
    parser.add_argument("--out", required=True, help="where the reruns go (not FOLDER)")
    parser.add_argument("--task", action="append", default=[], help="keep this task's runs, repeatable")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="keep runs whose variant has KEY=VALUE, repeatable (all must hold)")
    parser.add_argument("--model", action="append", default=[], help="keep this model's runs, repeatable")
    parser.add_argument("--init", action="append", default=[], help="keep this init's runs, repeatable")
    parser.add_argument("--seeds", default=None, help="keep these seeds, comma-separated")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (lines still print)")
    parser.add_argument("--dry-run", action="store_true", help="print how many runs match; train nothing")
    add_executor_arguments(parser)


def _same(value, text: str) -> bool:
    """A variant value against its command-line text: 8 matches '8' and '8.0'; 'tail' matches 'tail'."""
    if str(value) == text:
        return True
    try:
        return float(value) == float(text)
    except (TypeError, ValueError):
        return False


def selected(records: list[dict], args) -> list[RunConfig]:
    """The configs of the records that pass every filter, in run-id order."""
    wanted = parse_variants(args.variant)
    seeds = set(parse_seeds(args.seeds)) if args.seeds is not None else None
    configs = []
    for record in sorted(records, key=lambda r: r["run_id"]):
        config = record["config"]
        variant = config.get("variant") or {}
        if ((args.task and config["task"] not in args.task) or (args.model and config["model"] not in args.model)
                or (args.init and config.get("init", "standard") not in args.init)
                or (seeds is not None and config["seed"] not in seeds)
                or any(key not in variant or not _same(variant[key], raw) for key, raw in wanted.items())):
            continue
        configs.append(RunConfig.from_dict(config))
    return configs


def main(args) -> int:
    folder, out = Path(args.folder), Path(args.out)
    if out.resolve() == folder.resolve():
        raise ValueError(f"--out {out} is the folder being checked; rerun into another folder")
    configs = selected(load_folder(folder).records, args)
    if not configs:
        raise ValueError(f"no run of {folder} matches the filters given")
    print(f"{len(configs)} runs of {folder} to rerun into {out}")
    if getattr(args, "dry_run", False):
        return 0
    counts = execute(configs, out, args)
    print(f"{counts['asked']} runs: {counts['skipped']} already done, {counts['ok']} ok, "
          f"{counts['diverged']} diverged; next: bench report {out} --compare {folder}")
    return 0
