"""`bench run`: a suite, one task x models x seeds, or a grid file, into a results folder
(resumable: a finished run is never trained twice).

Every run setting is reachable: the common ones as flags (--steps, --budget-params,
--batch-size, --lr, --device), any RunConfig field with ``--set KEY=VALUE`` (repeatable;
typed by the field, ``1e5`` accepted where whole), and a whole grid with ``--config FILE``
(format: bench/grid.py, example: examples/grid.toml). The configs come from bench.grid and
run through bench.api.execute, the same two steps as ``bench.run(...)`` in Python.

    bench run --task recall --variant distance=64 --model lstm --model transformer --seeds 0,1
    bench run --task recall --set layers=1 --set dropout=0.1 --budget-params 1e5
    bench run --config examples/grid.toml --allow-plugins --jobs 2 --checkpoints --tensorboard runs/tb

Refused before any training (one line, exit 2): a --set or --variant key given twice, a
model, seed or lr listed twice, any setting out of its range, a grid of more than
bench.grid.MAX_RUNS runs without --yes, a grid file's `plugins` without --allow-plugins,
and a results folder that cannot be written.
"""
from __future__ import annotations

import sys
from pathlib import Path

import tasks  # noqa: F401  (registers tasks)
from bench.api import EXECUTORS
from bench.api import execute as execute_runs
from bench.execute.store import load_folder, load_table, open_store, write_design
from bench.execute.suites import SUITES
from bench.grid import MAX_RUNS, SETTINGS, check_size, grid, grid_from_file, parse_assignments, settings_of, typed
from bench.models import MODELS
from bench.run.config import RunConfig
from tasks.base import TASKS

DEFAULT_OUT = "runs/local"  # git-ignored: a user's runs never dirty the clone
FLAGS = ("budget_params", "steps", "batch_size", "lr", "device")  # settings with their own flag


def add_arguments(parser) -> None:
    parser.add_argument("--suite", help=f"a named suite ({', '.join(SUITES.names())}); a two-stage suite "
                        "(standard) then runs the seeds that confirm each tuned cell at its chosen lr")
    parser.add_argument("--task", help="one task (with --variant, --model)")
    parser.add_argument("--only", action="append", default=[], metavar="TASK",
                        help="with --suite: only this task's runs and their later stages, repeatable "
                             "(run a long suite in pieces; the same command without it finishes the rest)")
    parser.add_argument("--config", metavar="FILE",
                        help="a grid file (TOML, or YAML/JSON): tasks x variants x models x seeds x lrs")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="a task variant knob, repeatable")
    parser.add_argument("--model", action="append", default=[],
                        help="a model, repeatable (default: all)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds, e.g. 0,1,2 (default 0)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help=f"any run setting, repeatable: {', '.join(SETTINGS)}")
    parser.add_argument("--budget-params", type=typed("budget_params"), help="params_core target (1e5 works)")
    parser.add_argument("--steps", type=typed("steps"), help="training steps (the cap)")
    parser.add_argument("--batch-size", type=typed("batch_size"))
    parser.add_argument("--lr", type=typed("lr"))
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (suite default if omitted)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"result folder (default {DEFAULT_OUT}, git-ignored)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (lines still print)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would run and its cost, predicted from per-step times measured "
                             "now; train nothing")
    parser.add_argument("--yes", action="store_true", help=f"run a grid of more than {MAX_RUNS:,} runs")
    parser.add_argument("--allow-plugins", action="store_true",
                        help="import the plugins a --config file lists (they run code; off by default)")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic kernels (see bench/run/determinism.py)")
    parser.add_argument("--checkpoints", action="store_true",
                        help="save each run's best weights to OUT/checkpoints/<run_id>.safetensors")
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="write TensorBoard event files under DIR (needs the tensorboard extra)")
    parser.add_argument("--wandb", metavar="PROJECT", nargs="?", const=True, default=None,
                        help="log to Weights & Biases (needs the wandb extra; WANDB_MODE=offline works offline)")
    add_executor_arguments(parser)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"not an integer: {text!r}") from None
    if value < 1:
        raise ValueError(f"must be >= 1, got {value}")
    return value


_positive.__name__ = "positive integer"  # argparse names the type in its one-line error


def add_executor_arguments(parser) -> None:
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local (in-process or a process pool) or ray (a local Ray or a cluster)")
    parser.add_argument("--jobs", type=_positive, default=1,
                        help="local: worker processes (1: in this process)")
    parser.add_argument("--runs-per-gpu", type=_positive, default=1,
                        help="pack K small runs on each GPU at once (local workers, or 1/K GPU per Ray task)")
    parser.add_argument("--address", default=None,
                        help="ray: cluster address ('auto' joins a running cluster; "
                             "default: start a local Ray)")


def execute(runs: list[RunConfig], out: Path, args) -> dict[str, int]:
    """bench.api.execute with the flags' values (flags a caller's namespace lacks take defaults)."""
    return execute_runs(runs, out, executor=getattr(args, "executor", "local"),
                        jobs=getattr(args, "jobs", 1), runs_per_gpu=getattr(args, "runs_per_gpu", 1),
                        threads=getattr(args, "threads", 0) or 0,
                        deterministic=bool(getattr(args, "deterministic", False)),
                        address=getattr(args, "address", None),
                        progress=not getattr(args, "no_progress", False),
                        checkpoints=bool(getattr(args, "checkpoints", False)),
                        tensorboard=getattr(args, "tensorboard", None), wandb=getattr(args, "wandb", None))


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise ValueError("--seeds is empty")
    return seeds


def overrides_of(args) -> dict:
    """--set KEY=VALUE, then the dedicated flags; a key given both ways must agree."""
    settings = parse_assignments(args.settings)
    for key in FLAGS:
        value = getattr(args, key, None)
        if value is None:
            continue
        if key in settings and settings[key] != value:
            raise ValueError(f"{key} given twice: --set {key}={settings[key]} and --{key.replace('_', '-')} {value}")
        settings[key] = value
    return settings


def parse_variants(items: list[str], task: str | None = None) -> dict[str, str]:
    """--variant KEY=VALUE items as {key: raw text}; refused (one line) without '=' or with a key
    given twice. `task`: its valid keys go into the missing-'=' error."""
    variant: dict[str, str] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            valid = f"; valid keys: {', '.join(sorted(TASKS[task].defaults))}" if task else ""
            raise ValueError(f"--variant wants KEY=VALUE, got {item!r}{valid}")
        if key in variant:
            raise ValueError(f"--variant {key} given twice ({variant[key]} and {raw}); give it once")
        variant[key] = raw
    return variant


def configs_from_args(args) -> list[RunConfig]:
    """Every run the arguments ask for; raises ValueError on any bad input, before any work."""
    overrides = overrides_of(args)
    for model in args.model:
        MODELS[model]  # noqa: B018 - loud lookup
    if sum(bool(x) for x in (args.suite, args.task, args.config)) != 1:
        raise ValueError("give one of --suite NAME, --task NAME or --config FILE")
    if getattr(args, "only", None) and not args.suite:
        raise ValueError("--only TASK goes with --suite; for one task use --task")
    if args.config:
        if args.variant or args.model or args.seeds is not None:
            raise ValueError("--config FILE holds the variants, models and seeds; give settings only (--set)")
        return grid_from_file(args.config, overrides, allow_plugins=bool(getattr(args, "allow_plugins", False)),
                              yes=bool(getattr(args, "yes", False)))
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    if args.suite:
        if args.variant:
            raise ValueError("--variant goes with --task, not --suite")
        runs = SUITES[args.suite].runs()
        if args.only:
            in_suite = sorted({c.task for c in runs})
            unknown = [t for t in args.only if t not in in_suite]
            if unknown:
                raise ValueError(f"--only {', '.join(unknown)}: not in suite {args.suite} "
                                 f"(its tasks: {', '.join(in_suite)})")
            runs = [c for c in runs if c.task in args.only]
        if args.model:
            runs = [c for c in runs if c.model in args.model]
        if seeds is not None:
            check_size(sum(c.seed == runs[0].seed for c in runs) * len(seeds), bool(getattr(args, "yes", False)))
            runs = [c.replace(seed=s) for c in runs if c.seed == runs[0].seed for s in seeds]
        typed = settings_of(overrides)  # a suite keeps its own device unless --device is given
        return [c.replace(**typed) for c in runs]
    variant = parse_variants(args.variant, args.task)
    return grid(args.task, variant, args.model or None, seeds or [0], None, overrides,
                yes=bool(getattr(args, "yes", False)))


def confirmations(runs: list[RunConfig], out: Path, args) -> list[RunConfig]:
    """A tuned suite's next stage (bench.execute.adaptive): grid extensions past edge choices,
    then the confirming seeds at each tuning group's chosen lr, as far as the folder's finished
    runs allow. None when --seeds replaced the suite's."""
    suite = SUITES[args.suite] if args.suite else None
    if suite is None or suite.confirm is None or args.seeds is not None:
        return []
    return suite.next_runs(runs, load_table(out))


def run_and_tell(runs: list[RunConfig], out: Path, args) -> None:
    counts = execute(runs, out, args)
    print(f"{counts['asked']} runs: {counts['skipped']} already done, {counts['ok']} ok, "
          f"{counts['diverged']} diverged -> {out / 'results.csv'}")
    for note in load_folder(out).notes:  # e.g. records of other harness code the tables do not count
        print(f"note: {note}", file=sys.stderr)


def main(args) -> int:
    # the executor validates budgets, tasks and the device before writing anything, and
    # applies --threads and --deterministic in whichever process trains
    runs = configs_from_args(args)
    out = Path(args.out)
    if getattr(args, "dry_run", False):
        from bench.execute.forecast import forecast

        suite = SUITES[args.suite] if args.suite and args.seeds is None else None
        forecast(runs, suite.confirm if suite else None, out, getattr(args, "jobs", 1))
        return 0
    if args.suite and SUITES[args.suite].design:  # what it fixed before running, for the report
        open_store(out)
        write_design(out, SUITES[args.suite].design)
    run_and_tell(runs, out, args)
    done: set[str] = set()
    while True:  # a tuned suite: extend grids and confirm, stage by stage, until nothing is left to add
        second = [c for c in confirmations(runs, out, args) if c.run_id(TASKS[c.task].version) not in done]
        if not second:
            return 0
        print(f"next stage: {len(second)} runs (grid extensions past edge choices, then confirming seeds "
              "at the lr each cell chose on validation)")
        run_and_tell(second, out, args)
        done |= {c.run_id(TASKS[c.task].version) for c in second}
