"""One vocabulary for how a run ended, shared by the terminal line, every table and the report.

A run's **outcome** (from its metrics, test score against the task's trivial baseline):
- `solved`: test accuracy at or above the solve bar, halfway between the trivial baseline
  and 1 (`solve_bar`, recorded by the training loop);
- `stalled at chance`: best validation accuracy within LEARNING_MARGIN (0.05) of the trivial
  baseline: it never started learning (the loop then runs it to its step cap);
- `learned, below the bar`: neither (it left chance but did not reach the bar);
- `diverged`: its loss went non-finite (no test score).
And how it **ended**: `stopped early` (solved on validation, or a plateau after learning)
or `at cap` (it used its whole step budget).

A task without a trivial baseline has no bar: its runs are `ok`. Pure Python, no torch.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

LEARNING_MARGIN = 0.05  # the training loop's bench.run.loop.LEARNING_MARGIN (tests keep them equal)
SOLVED, STALLED, LEARNED, DIVERGED, OK = "solved", "stalled at chance", "learned, below the bar", "diverged", "ok"
STOPPED_EARLY, AT_CAP = "stopped early", "at cap"


def _number(metrics: Mapping[str, Any], name: str) -> float:
    value = metrics.get(name)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def bar_of(baseline: float) -> float:
    """The solve bar for a trivial baseline: halfway between it and 1."""
    return (baseline + 1.0) / 2.0


def outcome(metrics: Mapping[str, Any], status: str = "ok") -> str:
    """SOLVED, STALLED, LEARNED, DIVERGED (or OK without a baseline) for one run's metrics."""
    if status == "diverged":
        return DIVERGED
    baseline = _number(metrics, "trivial_baseline")
    if math.isnan(baseline):
        return OK
    bar = _number(metrics, "solve_bar")
    bar = bar_of(baseline) if math.isnan(bar) else bar
    test, val = _number(metrics, "test_accuracy"), _number(metrics, "val_accuracy")
    if not math.isnan(test) and test >= bar:
        return SOLVED
    if not math.isnan(val) and val < baseline + LEARNING_MARGIN:
        return STALLED
    return LEARNED


def ending(metrics: Mapping[str, Any]) -> str:
    """STOPPED_EARLY or AT_CAP ('' when the run carries no step counts)."""
    done, cap = _number(metrics, "steps_done"), _number(metrics, "step_cap")
    if math.isnan(done) or math.isnan(cap):
        return ""
    return STOPPED_EARLY if done < cap else AT_CAP


def describe(metrics: Mapping[str, Any], status: str = "ok") -> str:
    """'solved, stopped early at step 100 of 600' and the like: the terminal's words."""
    words = outcome(metrics, status)
    if words == DIVERGED:
        return words
    done, cap = _number(metrics, "steps_done"), _number(metrics, "step_cap")
    if math.isnan(done) or math.isnan(cap):
        return words
    if done < cap:
        return f"{words}, stopped early at step {done:.0f} of {cap:.0f}"
    return f"{words}, at cap ({cap:.0f} steps)"
