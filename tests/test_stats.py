"""Tests of the verdict rules in bench/analysis/stats.py; each pins one rule and fails if it breaks."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from bench.analysis import stats as S
from bench.analysis.stats import (
    BELOW_MIN_EFFECT,
    INCONCLUSIVE,
    NOT_RUN,
    NOT_SIGNIFICANT_AFTER_HOLM,
    OVERLAP,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
    UNDERTRAINED,
    Part,
)

pytestmark = pytest.mark.filterwarnings("error")  # scipy's 0/0 warnings must not happen


def seeds(*values, start=0):
    return {start + i: v for i, v in enumerate(values)}


# ----------------------------------------------------------------------------- mean_ci
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [2, 3, 5, 20])
def test_mean_ci_matches_scipy_t_interval(n, level):
    x = np.random.default_rng(n).normal(0.7, 0.05, n)
    lo, hi = sps.t.interval(level, n - 1, loc=x.mean(), scale=sps.sem(x))
    stat = S.mean_ci(x, level)
    assert stat.n == n and stat.lo == pytest.approx(lo, rel=1e-12) and stat.hi == pytest.approx(hi, rel=1e-12)


def test_mean_ci_small_n_and_nan():
    assert math.isnan(S.mean_ci([0.5]).half) and S.mean_ci([0.5]).mean == 0.5
    assert S.mean_ci([]).n == 0 and S.mean_ci([0.4, float("nan"), None, 0.6]).n == 2


# ----------------------------------------------------------------------------- few seeds
@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_seeds_are_preliminary_even_with_a_big_gap(n):
    part = S.paired_greater(seeds(*[0.9] * n), seeds(*[0.1] * n), "x")
    assert part.verdict == PRELIMINARY and part.n == n and math.isnan(part.p_value)
    assert "0.900" in part.detail and "0.100" in part.detail and f"n={n}" in part.detail
    assert S.above_threshold(seeds(*[0.9] * n), 0.5).verdict == PRELIMINARY


def test_only_common_seeds_are_paired():
    part = S.paired_greater({0: .9, 1: .9, 2: .9}, {0: .1, 1: .1, 7: .1})
    assert part.verdict == PRELIMINARY and part.n == 2 and "[2, 7]" in part.detail
    assert S.paired_greater({0: .9}, {1: .1}).verdict == NOT_RUN
    assert S.paired_greater({}, {1: .1}).verdict == NOT_RUN
    assert S.paired_greater({0: .9, 1: float("nan"), 2: .9, 3: .9}, seeds(.1, .1, .1, .1)).n == 3
    with pytest.raises(TypeError):
        S.paired_greater([0.9, 0.9, 0.9], [0.1, 0.1, 0.1])


# ----------------------------------------------------------------------------- zero variance
SIX = 6  # equal per-seed gaps are decided by the exact sign-flip test: 2 / 2^6 = 0.031 two-sided


def test_zero_variance_gap_below_min_effect_is_inconclusive():
    part = S.paired_greater(seeds(*[.80] * SIX), seeds(*[.77] * SIX))
    assert part.verdict == INCONCLUSIVE and part.reason == BELOW_MIN_EFFECT
    assert part.p_value == pytest.approx(2 / 2 ** SIX) and part.effect == pytest.approx(0.03)
    assert S.paired_greater(seeds(*[.80] * SIX), seeds(*[.77] * SIX), min_effect=0.02).verdict == SUPPORTED


def test_zero_variance_gap_above_min_effect_is_decided_by_an_exact_test_never_by_hand():
    part = S.paired_greater(seeds(*[.90] * SIX), seeds(*[.80] * SIX))
    assert part.verdict == SUPPORTED and part.p_value == pytest.approx(2 / 2 ** SIX)
    assert part.effect_lo == pytest.approx(0.1) and part.effect_hi == pytest.approx(0.1)
    assert S.paired_greater(seeds(*[.80] * SIX), seeds(*[.90] * SIX)).verdict == REFUTED
    # a constant per-seed gap with varying seed levels is zero variance too
    assert S.paired_greater(seeds(.95, .75, .85, .9, .7, .8), seeds(.85, .65, .75, .8, .6, .7)).verdict == SUPPORTED
    same = S.paired_greater(seeds(1.0, 1.0, 1.0), seeds(1.0, 1.0, 1.0))
    assert same.verdict == INCONCLUSIVE and same.p_value == 1.0 and same.reason == OVERLAP
    # three seeds: the exact test's smallest p is 2/8 = 0.25, so nothing can be decided
    three = S.paired_greater(seeds(.9, .9, .9), seeds(.1, .1, .1))
    assert three.verdict == INCONCLUSIVE and three.p_value == pytest.approx(0.25)


def test_gap_of_exactly_min_effect_counts_despite_float_error():
    assert 0.85 - 0.80 < 0.05  # the float trap
    assert S.paired_greater(seeds(*[.85] * SIX), seeds(*[.80] * SIX)).verdict == SUPPORTED


def test_zero_variance_thresholds():
    assert S.above_threshold(seeds(*[1.0] * SIX), 0.6).verdict == SUPPORTED
    assert S.above_threshold(seeds(*[.62] * SIX), 0.6).reason == BELOW_MIN_EFFECT
    assert S.below_threshold(seeds(*[.2] * SIX), 0.6).verdict == SUPPORTED
    assert S.below_threshold(seeds(*[1.0] * SIX), 0.6).verdict == REFUTED


# ----------------------------------------------------------------------------- paired test
def test_paired_test_sees_a_consistent_gain_that_unpaired_cis_call_overlap():
    base = np.array([0.55, 0.70, 0.85, 0.62, 0.78])  # seeds differ a lot
    b = base
    a = base + 0.06 + np.array([0.004, -0.003, 0.002, -0.001, 0.003])  # same gain every seed
    ca, cb = S.mean_ci(a), S.mean_ci(b)
    assert ca.lo < cb.hi  # the old unpaired CI rule says "overlap"
    part = S.paired_greater(seeds(*a), seeds(*b))
    assert part.verdict == SUPPORTED and part.effect == pytest.approx(0.061) and part.effect_lo > 0.05
    assert S.paired_greater(seeds(*b), seeds(*a)).verdict == REFUTED  # symmetric
    shuffled = S.paired_greater(seeds(*a), seeds(*b[[2, 0, 4, 1, 3]]))  # pairing broken
    assert shuffled.verdict == INCONCLUSIVE and shuffled.reason == OVERLAP


def test_p_value_and_interval_match_scipy_ttest_rel():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 0.05, 6), rng.normal(0.75, 0.05, 6)
    part = S.paired_greater(seeds(*a), seeds(*b))
    res = sps.ttest_rel(a, b)
    assert part.p_value == pytest.approx(res.pvalue, rel=1e-10)
    ci = res.confidence_interval(0.95)
    assert (part.effect_lo, part.effect_hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert part.p_value == pytest.approx(2 * sps.ttest_rel(a, b, alternative="greater").pvalue)


def test_significant_but_small_is_below_min_effect_not_supported():
    a = np.array([0.80, 0.81, 0.82, 0.83])
    part = S.paired_greater(seeds(*a), seeds(*(a - 0.03 + np.array([0.001, -0.001, 0.002, 0]))))
    assert part.p_value < 0.05 and part.verdict == INCONCLUSIVE and part.reason == BELOW_MIN_EFFECT


def test_threshold_tests_match_one_sample_t():
    x = np.array([0.70, 0.74, 0.69, 0.73])
    part = S.above_threshold(seeds(*x), 0.6)
    assert part.verdict == SUPPORTED and part.p_value == pytest.approx(sps.ttest_1samp(x, 0.6).pvalue)
    assert S.below_threshold(seeds(*x), 0.6).verdict == REFUTED
    assert S.above_threshold(seeds(*x), 0.715).reason == OVERLAP
    assert S.above_threshold({}, 0.5).verdict == NOT_RUN


# ----------------------------------------------------------------------------- undertrained
HI, LO = seeds(.9, .92, .91), seeds(.6, .61, .63)


def test_losing_side_unconverged_cannot_give_supported_or_refuted():
    part = S.paired_greater(HI, LO, converged_b=False)  # B lost and did not converge
    assert part.verdict == INCONCLUSIVE and part.reason == UNDERTRAINED and not math.isnan(part.p_value)
    part = S.paired_greater(LO, HI, converged_a=False)  # A lost and did not converge
    assert part.verdict == INCONCLUSIVE and part.reason == UNDERTRAINED


def test_winning_side_unconverged_keeps_the_verdict():
    assert S.paired_greater(HI, LO, converged_a=False).verdict == SUPPORTED
    assert S.paired_greater(LO, HI, converged_b=False).verdict == REFUTED
    assert S.paired_greater(seeds(.9), seeds(.1), converged_b=False).verdict == PRELIMINARY


def test_undertrained_thresholds_and_helper():
    assert S.above_threshold(LO, 0.8, converged=False).reason == UNDERTRAINED  # A low: refuted
    assert S.above_threshold(HI, 0.8, converged=False).verdict == SUPPORTED
    assert S.below_threshold(LO, 0.8, converged=False).reason == UNDERTRAINED  # A low: supported
    assert S.below_threshold(HI, 0.8, converged=False).verdict == REFUTED
    part = Part("x", INCONCLUSIVE, "d", OVERLAP)
    assert S.undertrained(part, False) is part
    assert S.undertrained(Part("x", SUPPORTED, "d"), True).verdict == SUPPORTED


# ----------------------------------------------------------------------------- Holm
def holm_brute(p, alpha):
    """Adjusted p per element without sorting: min(1, max over p_j <= p_k of (m - r_j + 1) p_j),
    r_j = 1 + #{p < p_j}; and rejections by the literal step-down loop."""
    m = len(p)
    adj = [min(1.0, max((m - sum(q < pj for q in p)) * pj for pj in p if pj <= pk)) for pk in p]
    reject, order = [False] * m, sorted(range(m), key=lambda i: p[i])
    for step, i in enumerate(order):
        if p[i] >= alpha / (m - step):
            break
        reject[i] = True
    return adj, reject


def test_holm_hand_example():
    parts = [Part(str(i), SUPPORTED, "", p_value=p) for i, p in enumerate([0.01, 0.04, 0.03, 0.005])]
    out = S.holm(parts)
    assert [p.p_adjusted for p in out] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [p.verdict for p in out] == [SUPPORTED, INCONCLUSIVE, INCONCLUSIVE, SUPPORTED]
    assert out[1].reason == NOT_SIGNIFICANT_AFTER_HOLM and parts[1].verdict == SUPPORTED  # no mutation


@pytest.mark.parametrize("trial", range(300))
def test_holm_equals_brute_force_with_ties(trial):
    rng = np.random.default_rng(trial)
    m = int(rng.integers(1, 13))
    p = list(np.round(rng.uniform(0, 0.1 if trial % 2 else 1, m), 2 + trial % 3))  # rounding -> ties
    parts = [Part(str(i), SUPPORTED if i % 2 else REFUTED, "", p_value=float(x)) for i, x in enumerate(p)]
    parts.insert(1, Part("pre", PRELIMINARY, ""))  # no p-value: not counted, left alone
    parts.append(Part("ratio", SUPPORTED, ""))
    out = S.holm(parts, alpha=0.05)
    adj, reject = holm_brute(p, 0.05)
    tested = [q for q in out if q.name not in ("pre", "ratio")]
    assert [q.p_adjusted for q in tested] == pytest.approx(adj, abs=1e-12)
    assert [q.verdict in (SUPPORTED, REFUTED) for q in tested] == reject
    assert out[1] == parts[1] and out[-1] == parts[-1]


def test_holm_counts_inconclusive_tests_and_keeps_their_reason():
    parts = [Part("a", SUPPORTED, "", p_value=0.02), Part("b", INCONCLUSIVE, "", UNDERTRAINED, p_value=0.001),
             Part("c", INCONCLUSIVE, "", OVERLAP, p_value=0.5)]
    out = S.holm(parts)
    assert out[0].p_adjusted == pytest.approx(0.04) and out[0].verdict == SUPPORTED
    assert out[1].reason == UNDERTRAINED and out[2].p_adjusted == 0.5


# ----------------------------------------------------------------------------- combining
def P(v, reason=""):
    return Part(v, v, "", reason)


def test_all_of():
    assert S.all_of([]) == NOT_RUN and S.all_of([P(NOT_RUN)] * 2) == NOT_RUN
    assert S.all_of([P(SUPPORTED)] * 3) == SUPPORTED
    assert S.all_of([P(SUPPORTED), P(PRELIMINARY)]) == PRELIMINARY
    assert S.all_of([P(INCONCLUSIVE), P(PRELIMINARY), P(NOT_RUN)]) == PRELIMINARY
    assert S.all_of([P(REFUTED), P(PRELIMINARY)]) == REFUTED
    assert S.all_of([P(SUPPORTED), P(NOT_RUN)]) == INCONCLUSIVE
    assert S.all_of([P(SUPPORTED), P(INCONCLUSIVE, OVERLAP)]) == INCONCLUSIVE


def test_agree_and_reasons():
    assert S.agree([P(SUPPORTED), P(NOT_RUN), P(SUPPORTED)]) == SUPPORTED
    assert S.agree([P(SUPPORTED), P(REFUTED)]) == INCONCLUSIVE and S.agree([P(NOT_RUN)]) == NOT_RUN
    parts = [Part("a", INCONCLUSIVE, "", OVERLAP), Part("b", SUPPORTED, ""), Part("c", NOT_RUN, ""),
             Part("d", INCONCLUSIVE, "", OVERLAP)]
    assert S.reasons(parts) == "overlap: a, d; not run: c"
    assert S.Claim(1, "", "", INCONCLUSIVE, parts).reason == "overlap: a, d; not run: c"


def test_ratio_rule():
    assert S.ratio_rule(1.2, "x").verdict == SUPPORTED and S.ratio_rule(0.85, "x").verdict == REFUTED
    mid = S.ratio_rule(1.05, "x")
    assert mid.verdict == INCONCLUSIVE and math.isnan(mid.p_value)
    assert S.ratio_rule(float("nan"), "x").verdict == NOT_RUN


def test_module_imports_no_torch():
    code = "import sys, bench.analysis.stats; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1], check=True)


def test_unpaired_greater_uses_welch_and_the_same_rules():
    """Two data sets (one model at two distances): Welch's test, not pairing by seed."""
    from bench.analysis.stats import unpaired_greater

    a, b = {0: 0.95, 1: 0.97, 2: 0.93}, {0: 0.20, 1: 0.35, 2: 0.10}
    part = unpaired_greater(a, b, "a > b")
    welch = sps.ttest_ind(list(a.values()), list(b.values()), equal_var=False)
    assert part.verdict == SUPPORTED and abs(part.p_value - welch.pvalue) < 1e-12
    assert unpaired_greater({0: 0.5, 1: 0.6}, b, "few").verdict == PRELIMINARY
    same = unpaired_greater({0: 0.50, 1: 0.50, 2: 0.50}, {0: 0.48, 1: 0.48, 2: 0.48}, "tiny gap")
    assert same.verdict == INCONCLUSIVE  # zero variance cannot pass a gap below the min effect
    assert unpaired_greater(b, a, "reverse", converged_a=False).reason == UNDERTRAINED
