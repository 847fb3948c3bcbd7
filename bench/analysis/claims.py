"""The nine claims and their verdicts, computed from result tables by pure functions (never by
hand). The rules are in plain words in each claim's `rule`; the shared machinery is in
bench.analysis.cells (cells of runs, paired comparisons, the LR-grid and convergence gates)
and bench.analysis.stats (paired t-test, smallest effect, Holm, preliminary).

- claims_recall: 1 (forgetting with distance), 8 (gates also fall), 9 (init decides how far);
- claims_accuracy: 2 (reading the future);
- claims_speed: 3 (attention's speed-up grows with length), 4 (parameters at equal width:
  arithmetic), 5 (GRU faster than LSTM);
- claims_gradients: 6 (vanishing gradients), 7 (clipping).
"""
from __future__ import annotations

import pandas as pd

from bench.analysis.claims_accuracy import claim_bidirectional
from bench.analysis.claims_gradients import claim_clipping, claim_vanishing
from bench.analysis.claims_recall import claim_forgetting, claim_gates_mitigate, claim_init_decides
from bench.analysis.claims_speed import GPU_ANCHORS, claim_gru_faster, claim_parallel_speedup, claim_params_at_width
from bench.analysis.selection import with_init
from bench.analysis.stats import Claim


def evaluate_claims(runs: pd.DataFrame, speed: pd.DataFrame | None = None,
                    gradflow: pd.DataFrame | None = None,
                    structure: pd.DataFrame | None = None,
                    runs_by_init: pd.DataFrame | None = None) -> list[Claim]:
    """Every claim, in order, each with its verdict; missing inputs give `not run`.
    `runs`: one row per run at each cell's chosen (init, lr) (bench.analysis.selection.select_lr);
    `runs_by_init`: at each (cell, init)'s own best lr (claim 9; default: `runs`)."""
    columns = ["task", "variant", "model", "seed", "status", "test_accuracy", "init"]
    runs = runs if runs is not None and not runs.empty else pd.DataFrame(columns=columns)
    by_init = runs_by_init if runs_by_init is not None and not runs_by_init.empty else runs
    by_init = with_init(by_init)  # claims 1, 8, 9 read every init at its own best lr (one init per model: 1, 8)
    return [claim_forgetting(by_init), claim_bidirectional(runs), claim_parallel_speedup(speed),
            claim_params_at_width(structure), claim_gru_faster(speed), claim_vanishing(gradflow),
            claim_clipping(gradflow), claim_gates_mitigate(by_init), claim_init_decides(by_init)]


__all__ = ["GPU_ANCHORS", "claim_bidirectional", "claim_clipping", "claim_forgetting", "claim_gates_mitigate",
           "claim_init_decides",
           "claim_gru_faster", "claim_parallel_speedup", "claim_params_at_width", "claim_vanishing",
           "evaluate_claims"]
