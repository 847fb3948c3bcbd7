"""Everything the report shows, computed in one call from what the store loaded.

`analyze(table, records, speed, gradflow, structure, order)` -> `Analysis`: the runs (one row
per run, newest task versions), the learning-rate grid and selection, one row per cell, the
claims with their verdicts, the environment of the records and the speed tables. The report
(bench/report) only formats this; a notebook can use it directly. Pure pandas (no torch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from bench.analysis.claims import evaluate_claims
from bench.analysis.speed import (
    harness_efficiency,
    ok_rows,
    speedup_ratios,
    speedup_table,
    thread_scaling,
    throughput_table,
)
from bench.analysis.stats import Claim
from bench.analysis.tables import curve_frame, environment, latest_versions, select_lr, summarize, wide_runs


@dataclass
class Analysis:
    all_runs: pd.DataFrame  # one row per run, every task version
    runs: pd.DataFrame  # newest task version of each task
    older: int  # runs of older task versions set aside
    selected: pd.DataFrame  # the runs at each cell's chosen (init, lr)
    grid: pd.DataFrame  # one row per (cell, init, lr): mean val accuracy, seeds, selected (per init), edge, cell_choice
    summary: pd.DataFrame  # one row per cell (its chosen init and lr)
    selected_init: pd.DataFrame  # the runs at each (cell, init)'s own best lr (every init reported)
    summary_init: pd.DataFrame  # one row per (cell, init)
    claims: list[Claim]
    environment: pd.DataFrame  # per distinct environment of the run records
    curves: pd.DataFrame  # validation curve points of the runs at each (cell, init)'s best lr
    speed: pd.DataFrame  # speed.csv rows as given
    speed_ok: pd.DataFrame  # ok training-throughput rows with line/setting labels
    throughput: pd.DataFrame  # tokens/s per (setting, line) x length
    speedups: pd.DataFrame  # speed-up over the LSTM, long form
    speedup_wide: pd.DataFrame  # speed-up over the LSTM per (setting, line) x length
    scaling: pd.DataFrame  # tokens/s at the most threads over the fewest, per model x length
    efficiency: pd.DataFrame  # run throughput / raw step throughput
    gradflow: pd.DataFrame
    structure: pd.DataFrame
    order: tuple[str, ...] = field(default_factory=tuple)  # model display order


def _frame(value: pd.DataFrame | None) -> pd.DataFrame:
    return value if value is not None else pd.DataFrame()


def analyze(table: pd.DataFrame, records: list[dict[str, Any]] | None = None,
            speed: pd.DataFrame | None = None, gradflow: pd.DataFrame | None = None,
            structure: pd.DataFrame | None = None, order: Sequence[str] = ()) -> Analysis:
    """The whole analysis of one results folder (its tidy table, run records and probe rows)."""
    records = records or []
    speed, gradflow, structure = _frame(speed), _frame(gradflow), _frame(structure)
    all_runs = wide_runs(_frame(table))
    runs, older = latest_versions(all_runs)
    selected, joint = select_lr(runs, order)
    selected_init, grid = select_lr(runs, order, per_init=True)
    if not grid.empty:  # the per-init grid, marking which (init, lr) each cell reports
        keys = ["task", "variant", "model", "budget_params", "init", "lr"]
        cell_choice = joint.loc[joint["selected"], keys].assign(cell_choice=True)
        grid = grid.merge(cell_choice, on=keys, how="left")
        grid["cell_choice"] = grid["cell_choice"].fillna(False).astype(bool)
    summary = summarize(selected, order) if not selected.empty else pd.DataFrame()
    summary_init = summarize(selected_init, order, per_init=True) if not selected_init.empty else pd.DataFrame()
    claims = evaluate_claims(selected, speed, gradflow, structure, selected_init)
    return Analysis(all_runs=all_runs, runs=runs, older=older, selected=selected, grid=grid,
                    summary=summary, selected_init=selected_init, summary_init=summary_init,
                    claims=claims, environment=environment(records),
                    curves=curve_frame(records, selected_init if not selected_init.empty else selected),
                    speed=speed, speed_ok=ok_rows(speed),
                    throughput=throughput_table(speed), speedups=speedup_ratios(speed),
                    speedup_wide=speedup_table(speed), scaling=thread_scaling(speed),
                    efficiency=harness_efficiency(selected, speed),
                    gradflow=gradflow, structure=structure, order=tuple(order))
