"""`bench run`: a suite, or one task x models x seeds, into a result folder (resumable)."""
from __future__ import annotations

from pathlib import Path

import tasks  # noqa: F401  (registers tasks)
from bench.execute.local import run_local
from bench.execute.ray_executor import run_ray
from bench.execute.suites import SUITES
from bench.models import MODELS
from bench.run.config import RunConfig, resolve_device
from tasks.base import TASKS, parse_variant_value

EXECUTORS = ("local", "ray")
DEFAULTS = RunConfig(task="-", model="-")


def add_arguments(parser) -> None:
    parser.add_argument("--suite", help=f"a named suite ({', '.join(SUITES.names())})")
    parser.add_argument("--task", help="one task (with --variant, --model)")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="a task variant knob, repeatable")
    parser.add_argument("--model", action="append", default=[],
                        help="a model, repeatable (default: all)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("--budget-params", type=int, help="params_core target")
    parser.add_argument("--steps", type=int, help="training steps")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (suite default if omitted)")
    parser.add_argument("--out", default="results/runs-local", help="result folder")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic kernels (see bench/determinism.py)")
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
    """Dispatch to the executor the flags ask for (see add_executor_arguments)."""
    executor = getattr(args, "executor", "local")
    common = {"progress": not getattr(args, "no_progress", False),
              "runs_per_gpu": getattr(args, "runs_per_gpu", 1),
              "threads": getattr(args, "threads", 0) or 0,
              "deterministic": bool(getattr(args, "deterministic", False))}
    if executor == "ray":
        if getattr(args, "jobs", 1) != 1:
            raise ValueError("--jobs is for --executor local; Ray schedules by its CPU count")
        return run_ray(runs, out, address=getattr(args, "address", None), **common)
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if getattr(args, "address", None) is not None:
        raise ValueError("--address goes with --executor ray")
    return run_local(runs, out, jobs=getattr(args, "jobs", 1), **common)


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise ValueError("--seeds is empty")
    return seeds


def configs_from_args(args) -> list[RunConfig]:
    """Every run the arguments ask for; raises ValueError on any bad input, before any work."""
    overrides = {key: value for key, value in (("budget_params", args.budget_params),
                                                ("steps", args.steps), ("batch_size", args.batch_size),
                                                ("lr", args.lr)) if value is not None}
    if args.device is not None:
        overrides["device"] = resolve_device(args.device)
    for model in args.model:
        MODELS[model]  # noqa: B018 - loud lookup
    if args.suite and args.task:
        raise ValueError("give --suite or --task, not both")
    if args.suite:
        if args.variant:
            raise ValueError("--variant goes with --task, not --suite")
        runs = SUITES[args.suite].runs()
        if args.model:
            runs = [c for c in runs if c.model in args.model]
        if args.seeds != "0":
            seeds = parse_seeds(args.seeds)
            runs = [c.replace(seed=s) for c in runs if c.seed == runs[0].seed for s in seeds]
        return [c.replace(**overrides) for c in runs]
    if not args.task:
        raise ValueError("give --suite NAME or --task NAME")
    task = TASKS[args.task]
    variant = {}
    for item in args.variant:
        if "=" not in item:
            raise ValueError(f"--variant wants KEY=VALUE, got {item!r}; "
                             f"valid keys: {', '.join(sorted(task.defaults))}")
        key, raw = item.split("=", 1)
        variant[key] = parse_variant_value(task, key, raw)
    resolved = task.variant(variant)
    models = args.model or list(MODELS)
    overrides.setdefault("device", resolve_device("auto"))
    return [RunConfig(task=args.task, model=m, variant=resolved, seed=s, **overrides)
            for m in models for s in parse_seeds(args.seeds)]


def main(args) -> int:
    # the executor validates budgets, tasks and the device before writing anything, and
    # applies --threads and --deterministic in whichever process trains
    runs = configs_from_args(args)
    out = Path(args.out)
    counts = execute(runs, out, args)
    print(f"{counts['asked']} runs: {counts['skipped']} already done, {counts['ok']} ok, "
          f"{counts['diverged']} diverged -> {out / 'results.csv'}")
    return 0
