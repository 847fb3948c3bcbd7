"""Which runs count as converged: the one rule the claims' cells and the summary tables share.

A run converged when early stopping ended it (validation stopped improving, or reached a
perfect score) or it ended at the step cap with no new best in its last `patience`
validations (the `converged` metric the training loop records). A run that early stopping
ended before its cap while its best validation accuracy stayed within MIN_EFFECT of the
trivial baseline has *stalled*: it never started learning and did not use its budget, so it
does not count as converged. Pure pandas, no torch.
"""
from __future__ import annotations

import pandas as pd

from bench.analysis.outcome import DIVERGED, ending, outcome
from bench.analysis.stats import MIN_EFFECT


def stalled(rows: pd.DataFrame) -> pd.Series:
    """True for runs stopped early (steps_done < step_cap) whose best validation accuracy
    stayed within MIN_EFFECT of the trivial baseline: they never started learning."""
    needed = ("steps_done", "step_cap", "val_accuracy", "trivial_baseline")
    if rows.empty or any(column not in rows for column in needed):
        return pd.Series(False, index=rows.index)
    early = rows["steps_done"] < rows["step_cap"]
    at_baseline = rows["val_accuracy"] < rows["trivial_baseline"] + MIN_EFFECT
    return (early & at_baseline).fillna(False).astype(bool)


def converged_runs(rows: pd.DataFrame, limit_known: bool = False) -> pd.Series | None:
    """Per run, converged (early stopping or a flat end at the cap) and not stalled; None when
    the runs carry no `converged` metric. limit_known: the task computes the best these runs
    can ever reach (an information limit: fill-in's left-only ceiling, the Bayes-optimal
    accuracy from the left context), so more training cannot lift them past it and every run
    counts as converged for a test against that limit."""
    if limit_known:
        return pd.Series(True, index=rows.index)
    if "converged" not in rows or not len(rows) or rows["converged"].isna().any():
        return None
    return (rows["converged"] == 1) & ~stalled(rows)


def converged_text(rows: pd.DataFrame) -> str:
    """How a cell's runs ended, in the one vocabulary of bench/analysis/outcome.py: counts of
    'solved', 'stalled at chance', 'learned, below the bar', 'diverged', and how many of the
    rest stopped early or ran to the cap, e.g. '3 solved (stopped early); 2 stalled at chance
    (at cap)'. 'unknown' for runs without metrics."""
    if rows.empty:
        return "no runs"
    counts: dict[str, dict[str, int]] = {}
    for row in rows.to_dict("records"):
        metrics = {k: v for k, v in row.items() if not (isinstance(v, float) and pd.isna(v))}
        word = outcome(metrics, str(row.get("status", "ok")))
        end = ending(metrics) or "?"
        counts.setdefault(word, {}).setdefault(end, 0)
        counts[word][end] += 1
    parts = []
    for word, ends in counts.items():
        total = sum(ends.values())
        how = ", ".join(f"{k} {e}" if len(ends) > 1 else e for e, k in ends.items() if e != "?")
        parts.append(f"{total} {word}" + (f" ({how})" if how and word != DIVERGED else ""))
    return "; ".join(parts)
