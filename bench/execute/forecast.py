"""`bench run --suite NAME --dry-run`: what a suite will run and what it will cost, before it runs.

Stage one is the suite's own list; a tuned suite then adds, per tuning group, its confirming
seeds (known in advance) and, where a choice lands at a grid's edge, extensions (at most
EXTENSIONS more lrs on the tuning seeds: the worst case is printed separately). Costs come
from per-step times measured now on this machine (bench/probes/cost.py), each run to its
step cap: an upper bound, since a solved run stops early. Runs already in the results
folder cost nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from bench.execute.adaptive import tuning_groups
from bench.execute.store import atomic_write, finished_ids
from bench.probes.cost import estimate, measure
from bench.run.config import RunConfig
from tasks.base import TASKS

EXTENSIONS = 2  # the LADDER holds two half-decade steps past each end of the starting grid


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def forecast(first: list[RunConfig], confirm: Callable[[RunConfig], tuple[int, ...]] | None,
             out: Path, jobs: int, say=print) -> dict[str, float]:
    """Print the plan and its predicted cost; returns the worker-seconds per stage."""
    done = finished_ids(out) if Path(out).is_dir() else set()
    todo = [c for c in first if c.run_id(TASKS[c.task].version) not in done]
    confirmations, extensions = [], []
    for group in tuning_groups(first).values():
        base, seeds = group[0], sorted({c.seed for c in group})
        if confirm is not None:
            confirmations += [base.replace(seed=s) for s in confirm(base) if s not in seeds]
        extensions += [base.replace(seed=s) for s in seeds for _ in range(EXTENSIONS)]
    threads = max(1, (torch.get_num_threads() if jobs == 1 else max(1, _cpus() // jobs)))
    torch.set_num_threads(threads)
    say(f"measuring per-step times of {len({(c.task, repr(c.variant), c.model) for c in first})} distinct "
        f"(task, variant, model) at {threads} thread{'s' if threads != 1 else ''} ...")
    times = measure(first)
    atomic_write(Path(out) / "step_times.csv", times.to_csv(index=False).encode())
    cost = {"first stage": estimate(todo, times), "confirmations": estimate(confirmations, times),
            "extensions (worst case)": estimate(extensions, times) if confirm is not None else 0.0}
    say(f"stage one: {len(first)} runs ({len(first) - len(todo)} already done), at most "
        f"{_hours(cost['first stage'] / jobs)} on {jobs} worker{'s' if jobs != 1 else ''}")
    if confirm is not None:
        say(f"confirmations: {len(confirmations)} runs, at most {_hours(cost['confirmations'] / jobs)}")
        say(f"grid extensions past edge choices: none to {len(extensions)} runs, at most "
            f"{_hours(cost['extensions (worst case)'] / jobs)}")
    total = cost["first stage"] + cost["confirmations"]
    worst = total + cost["extensions (worst case)"]
    say(f"in all: at most {_hours(total / jobs)} without extensions, {_hours(worst / jobs)} "
        f"with every grid extended twice (every run to its cap; runs that solve stop early). Step times: "
        f"{Path(out) / 'step_times.csv'}")
    return cost


def _cpus() -> int:
    from bench.execute.plan import cpu_count

    return cpu_count()
