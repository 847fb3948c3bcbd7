"""The later stages of a tuned suite: a learning-rate grid that contains its optimum, then
the confirming seeds. Computed from what the results folder already holds, so `bench run
--suite NAME` can be run (or resumed) any number of times and always adds what is next.

A suite's first stage tunes each *tuning group* (one cell and init: every config field but
lr and seed equal) over START_LRS on its tuning seeds. Then, per group, once every tuning
run of its current grid has finished:
1. choose the lr on validation by the report's own rule (bench.analysis.selection);
2. if the choice is the smallest or largest lr tried and the LADDER has a next value within
   the limits (bench.analysis.selection.LR_LIMITS), add that lr on the tuning seeds (the
   grid extends itself by one step past an edge choice, until the choice is interior or
   the limit is reached). A group where no lr has started learning (every mean validation
   accuracy within 0.05 of the trivial baseline) counts every lr as tied: its choice is the
   middle lr, and nothing is extended (an edge at chance says nothing about the optimum);
3. otherwise add the group's confirming seeds at the chosen lr.
Groups still running add nothing; a rerun picks them up. Imports torch (run ids).
"""
from __future__ import annotations

from typing import Callable, Sequence

import pandas as pd

from bench.analysis.selection import LR_LIMITS, select_lr
from bench.analysis.tables import wide_runs
from bench.run.config import RunConfig
from tasks.base import TASKS

LADDER = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # half-decade steps, LR_LIMITS at both ends
START_LRS = (1e-3, 3e-3, 1e-2)


def _key(config: RunConfig) -> str:
    values = config.to_dict()
    return repr(sorted((k, repr(v)) for k, v in values.items() if k not in ("lr", "seed")))


def tuning_groups(runs: Sequence[RunConfig]) -> dict[str, list[RunConfig]]:
    """The groups of a first stage that tune: several lrs, each run with the same seeds."""
    groups: dict[str, list[RunConfig]] = {}
    for config in runs:
        groups.setdefault(_key(config), []).append(config)
    out = {}
    for key, group in groups.items():
        lrs = {c.lr for c in group}
        seeds = {lr: frozenset(c.seed for c in group if c.lr == lr) for lr in lrs}
        if len(lrs) > 1 and len(set(seeds.values())) == 1:
            out[key] = group
    return out


def _neighbour(lr: float, direction: int) -> float | None:
    """The LADDER value one step below (-1) or above (+1) `lr`, within LR_LIMITS; None past it."""
    near = min(range(len(LADDER)), key=lambda i: abs(LADDER[i] / lr - 1.0))
    if abs(LADDER[near] / lr - 1.0) > 1e-6:
        return None  # an lr off the ladder: no extension
    step = near + direction
    if not 0 <= step < len(LADDER) or not LR_LIMITS[0] * (1 - 1e-9) <= LADDER[step] <= LR_LIMITS[1] * (1 + 1e-9):
        return None
    return LADDER[step]


def next_runs(first: Sequence[RunConfig], table: pd.DataFrame,
              confirm: Callable[[RunConfig], Sequence[int]]) -> list[RunConfig]:
    """The extension and confirmation runs the folder's `table` (tidy rows) calls for now.
    `confirm(config)` gives the seeds a tuning group is confirmed with (empty: none)."""
    out: list[RunConfig] = []
    runs = wide_runs(table) if not table.empty else pd.DataFrame()
    done = set(runs["run_id"]) if not runs.empty else set()
    for group in tuning_groups(first).values():
        base, seeds = group[0], sorted({c.seed for c in group})
        lrs = sorted({c.lr for c in group})
        while True:  # earlier extensions of this group already in the folder join its grid
            below, above = _neighbour(lrs[0], -1), _neighbour(lrs[-1], +1)
            extra = [lr for lr in (below, above) if lr is not None
                     and all(base.replace(lr=lr, seed=s).run_id(TASKS[base.task].version) in done for s in seeds)]
            if not extra:
                break
            lrs = sorted(set(lrs) | set(extra))
        grid = {base.replace(lr=lr, seed=s).run_id(TASKS[base.task].version): (lr, s) for lr in lrs for s in seeds}
        if not set(grid) <= done:
            continue  # still tuning
        rows = runs[runs["run_id"].isin(grid)]
        selected, choice = select_lr(rows, per_init=True)
        picked = choice[choice["selected"]].iloc[0]
        lr = float(picked["lr"])
        learned = bool(choice["learned"].any()) if "learned" in choice else True
        if learned:  # past an edge choice, by one step
            step = -1 if lr == lrs[0] else +1 if lr == lrs[-1] else 0
            nxt = _neighbour(lr, step) if step else None
        else:  # no lr left chance: larger steps may still escape the plateau, so extend upward to the limit
            nxt = _neighbour(lrs[-1], +1)
        if nxt is not None:
            out += [base.replace(lr=nxt, seed=s) for s in seeds]
        else:
            out += [base.replace(lr=lr, seed=s) for s in confirm(base) if s not in seeds]
    return out


__all__ = ["LADDER", "LR_LIMITS", "START_LRS", "next_runs", "tuning_groups"]
