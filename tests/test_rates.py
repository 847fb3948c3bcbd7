"""Outcomes counted as they are: solve rates with exact intervals and exact tests, no p-value set
by hand, and the tuning rule (ties, inits, edges) that chooses each cell's lr and init."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from bench.analysis import rates, selection, stats, tables
from bench.analysis.exact import permutation_p, sign_flip_p


def test_a_solve_rate_has_its_exact_clopper_pearson_interval():
    rate = rates.rate_of([True] * 5 + [False])
    assert (rate.k, rate.n) == (5, 6)
    lo, hi = rate.interval
    ci = sps.binomtest(5, 6).proportion_ci(method="exact")
    assert (lo, hi) == pytest.approx((ci.low, ci.high)) and 0 <= lo < hi <= 1
    assert rate.text() == f"5/6 solved (95% CI {lo:.2f}-{hi:.2f})"


def test_barnard_decides_six_against_none_and_says_when_no_outcome_can_pass():
    part = rates.rate_greater(rates.Rate(6, 6), rates.Rate(0, 6), "a > b")
    assert part.verdict == stats.SUPPORTED and part.p_value == pytest.approx(
        sps.barnard_exact([[6, 0], [0, 6]]).pvalue)
    assert rates.rate_greater(rates.Rate(0, 6), rates.Rate(6, 6), "a > b").verdict == stats.REFUTED
    assert rates.rate_greater(rates.Rate(6, 6), rates.Rate(6, 6), "a > b").p_value == 1.0
    # 3 seeds a side: even 3/3 against 0/3 (p = 0.031) cannot pass four Holm-corrected tests
    small = [rates.rate_greater(rates.Rate(3, 3), rates.Rate(0, 3), f"small {i}") for i in range(4)]
    marked = rates.mark_unreachable(stats.holm(small), {p.name: rates.min_p_two(3, 3) for p in small})
    assert all(p.verdict == stats.INCONCLUSIVE and p.reason == rates.UNREACHABLE for p in marked)
    # ...but Holm steps down: beside three decisive tests, the same 3/3 vs 0/3 passes last
    big = [rates.rate_greater(rates.Rate(6, 6), rates.Rate(0, 6), f"big {i}") for i in range(3)]
    assert stats.holm([small[0], *big])[0].verdict == stats.SUPPORTED
    assert rates.min_p_one(5, 0.5) == pytest.approx(0.0625)  # 5/5 against a rate of 0.5, two-sided
    assert rates.rate_versus(rates.Rate(2, 2), 0.5, "few").verdict == stats.PRELIMINARY


def test_zero_variance_is_decided_by_an_exact_permutation_test_never_by_hand():
    assert sign_flip_p(np.array([0.5] * 5)) == (pytest.approx(1 / 32), 1.0)
    part = stats.paired_greater({s: 1.0 for s in range(5)}, {s: 0.5 for s in range(5)})
    assert part.p_value == pytest.approx(2 / 32) and part.verdict == stats.INCONCLUSIVE  # 5 seeds cannot pass
    part = stats.paired_greater({s: 1.0 for s in range(6)}, {s: 0.5 for s in range(6)})
    assert part.p_value == pytest.approx(2 / 64) and part.verdict == stats.SUPPORTED
    assert "exact sign-flip" in part.detail
    assert permutation_p(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0])) == pytest.approx(0.1)
    assert stats.unpaired_greater([1.0] * 3, [0.0] * 3).p_value == pytest.approx(0.1)


def test_a_threshold_verdict_states_its_difference_in_words_with_the_right_sign():
    low = stats.below_threshold({0: 0.11, 1: 0.10, 2: 0.12}, 0.551, "lstm@d=32 below the bar")
    assert "0.441 below the bar" in low.detail and "+0.441" not in low.detail.split("(")[0]
    high = stats.above_threshold({0: 0.95, 1: 0.97, 2: 0.96}, 0.551, "above")
    assert "0.409 above the bar" in high.detail


def grid_runs(values: dict, seeds=(0, 1), baseline=0.1) -> pd.DataFrame:
    """{(init, lr): val accuracy} -> one row per seed of one cell."""
    return pd.DataFrame([{"task": "recall", "variant": "distance=8", "model": "lstm", "budget_params": 1000,
                          "init": init, "lr": lr, "seed": s, "status": "ok", "val_accuracy": v, "test_accuracy": v,
                          "trivial_baseline": baseline} for (init, lr), v in values.items() for s in seeds])


def test_ties_go_to_the_standard_init_then_to_the_middle_of_the_tied_lrs():
    tied = grid_runs({("standard", 1e-3): 1.0, ("standard", 3e-3): 1.0, ("standard", 1e-2): 1.0,
                      ("chrono", 1e-3): 1.0, ("chrono", 3e-3): 1.0, ("chrono", 1e-2): 0.5})
    selected, grid = selection.select_lr(tied)
    assert set(zip(selected["init"], selected["lr"])) == {("standard", 3e-3)}  # interior, not the edge 1e-3
    assert not grid.loc[grid["selected"], "edge"].any()
    per_init, grid = selection.select_lr(tied, per_init=True)
    assert set(zip(per_init["init"], per_init["lr"])) == {("standard", 3e-3), ("chrono", 1e-3)}
    assert grid.loc[grid["selected"] & (grid["init"] == "chrono"), "edge"].all()


def test_at_chance_every_lr_ties_and_an_edge_at_the_limit_says_so():
    flat = grid_runs({("standard", 1e-3): 0.11, ("standard", 3e-3): 0.10, ("standard", 1e-2): 0.12})
    selected, grid = selection.select_lr(flat)
    assert set(selected["lr"]) == {3e-3} and not grid["learned"].any()
    edge = grid_runs({("standard", 1e-4): 0.9, ("standard", 3e-4): 0.8, ("standard", 1e-3): 0.7})
    selected, grid = selection.select_lr(edge)
    assert set(selected["lr"]) == {1e-4} and bool(selected["lr_at_limit"].iloc[0])
    flags = selection.lr_grid_table(grid)
    assert "at the grid's limit" in flags.loc[flags["chosen"] == "yes", "flag"].iloc[0]


def test_a_cell_summary_carries_its_solve_rate_and_an_interval_within_zero_and_one():
    runs = grid_runs({("standard", 3e-3): 1.0}, seeds=range(6)).assign(lr_grid=3, solve_bar=0.55)
    runs.loc[runs["seed"] >= 4, ["test_accuracy", "val_accuracy"]] = 0.12
    runs["steps_to_bar"] = np.where(runs["seed"] < 4, 200.0, math.nan)
    summary = tables.summarize(runs).iloc[0]
    assert summary["n_solved"] == 4 and summary["solve_rate"] == pytest.approx(4 / 6)
    assert 0 <= summary["solve_lo"] < summary["solve_rate"] < summary["solve_hi"] <= 1
    assert 0 <= summary["ci_low"] <= summary["test_accuracy"] <= summary["ci_high"] <= 1
    assert summary["median_steps_to_bar"] == 200 and summary["outcomes"].startswith("4 solved")
