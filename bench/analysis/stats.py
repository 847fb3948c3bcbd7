"""Verdicts from per-seed numbers: paired t-tests, a smallest effect of interest, Holm.

A claim such as "LSTM beats RNN on recall at distance 32" is split into parts; each part gets
one verdict: `supported`, `refuted`, `inconclusive` (with a `reason`), `not run` (no runs), or
`preliminary` (fewer than MIN_SEEDS = 3 seeds: too few to test anything, so no verdict yet).

The rule for "A > B", in plain words (the one-sample rules against a threshold are the same):
1. Pair the runs by seed: seed s of A with seed s of B (same data order and initialisation
   stream), and keep only seeds that both sides have. n = number of pairs.
2. With n < 3 we do not test: the part is `preliminary` (its detail shows the means and n).
3. With n >= 3 we look at the per-seed differences d_s = A_s - B_s. Seed-to-seed variation
   that hits both models alike cancels in d_s, so a paired test sees a small but consistent
   gain that two separate confidence intervals would call overlap (Dror et al., 2018).
   The effect is mean(d) with its 95% Student-t interval, and the p-value is that of the
   paired t-test (scipy `ttest_1samp(d, 0)`, which is `ttest_rel(A, B)`), two-sided: we ask
   both one-sided questions (A > B? A < B?) at 2.5% each, so when A and B are really equal
   the chance of any wrong verdict is 5%, and p < 0.05 exactly when the 95% interval of
   the effect excludes 0.
4. supported: p < alpha and effect >= +min_effect (so the interval lies above 0).
   refuted:   p < alpha and effect <= -min_effect (the mirror image).
   otherwise inconclusive, reason "overlap" (p >= alpha: the interval contains 0) or
   "below min effect" (a real but smaller difference than the smallest effect of interest,
   MIN_EFFECT = 0.05 accuracy unless a call sets another).
5. Zero variance (every d_s equal to the same d) makes the t statistic 0/0 or d/0; there the
   exact sign-flip permutation test decides (defined for any data: with n equal positive
   differences p = 2 / 2^n two-sided, so n = 5 seeds can never reach 0.05 that way, and the
   part says so rather than pretend). No p-value is ever set by hand. Such a part still
   needs |d| >= min_effect.
6. A claim with several parts is a family of tests: `holm` corrects its p-values and turns a
   supported/refuted part whose corrected p is >= alpha into inconclusive.
7. A verdict resting on the low score of a model that did not converge is not trusted:
   `undertrained`. Only the losing side matters: an unconverged winner would only win by more.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from bench.analysis.exact import permutation_p, sign_flip_p

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
NOT_RUN, PRELIMINARY = "not run", "preliminary"
# reasons an inconclusive part gives ("baseline" is for claim code: a model at the trivial baseline)
OVERLAP, BELOW_MIN_EFFECT, UNDERTRAINED = "overlap", "below min effect", "undertrained"
NOT_SIGNIFICANT_AFTER_HOLM, BASELINE = "not significant after Holm", "baseline"
MIN_SEEDS = 3  # fewer paired seeds than this: preliminary, no test
MIN_EFFECT = 0.05  # smallest effect of interest (accuracy); overridable per call
ALPHA = 0.05  # significance level (two-sided); also the family level for Holm
SPEED_MARGIN = 1.1  # a throughput ratio must pass 1.1 (or 1/1.1) to count: timing noise
EPS = 1e-9  # float slack: an accuracy gap of exactly 0.05 (e.g. 0.85 - 0.80) counts as 0.05


@dataclass(frozen=True)
class Stat:
    """Mean and confidence interval over seeds; `half` is NaN when n < 2 (no interval)."""

    mean: float
    half: float
    n: int

    @property
    def lo(self) -> float:
        return self.mean - self.half if self.n >= 2 else self.mean

    @property
    def hi(self) -> float:
        return self.mean + self.half if self.n >= 2 else self.mean

    def text(self, digits: int = 3) -> str:
        if self.n == 0:
            return "no runs"
        if self.n == 1:
            return f"{self.mean:.{digits}f} (n=1, no CI)"
        return f"{self.mean:.{digits}f} ± {self.half:.{digits}f} (n={self.n})"


def mean_ci(values: Iterable[float], level: float = 0.95) -> Stat:
    """Mean and Student-t interval: half-width = t_{(1+level)/2, n-1} * sd / sqrt(n), with the
    sample sd (ddof=1). NaN and None are ignored; n < 2 gives half = NaN (no interval)."""
    array = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    n = len(array)
    if n == 0:
        return Stat(math.nan, math.nan, 0)
    if n < 2:
        return Stat(float(array[0]), math.nan, n)
    half = sps.t.ppf((1 + level) / 2, n - 1) * array.std(ddof=1) / math.sqrt(n)
    return Stat(float(array.mean()), float(half), n)


@dataclass
class Part:
    """One tested statement inside a claim: its verdict, why, and the numbers behind it.
    effect/effect_lo/effect_hi: mean difference and its 95% interval (a ratio for ratio_rule);
    p_value: two-sided paired t-test (NaN when nothing was tested); p_adjusted: after Holm."""

    name: str
    verdict: str
    detail: str
    reason: str = ""
    p_value: float = math.nan
    p_adjusted: float = math.nan
    effect: float = math.nan
    effect_lo: float = math.nan
    effect_hi: float = math.nan
    n: int = 0


@dataclass
class Claim:
    number: int
    statement: str
    rule: str
    verdict: str
    parts: list[Part] = field(default_factory=list)
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)  # the runs/rows behind it

    @property
    def reason(self) -> str:
        """Why the claim is not supported/refuted (empty when it is): see `reasons`."""
        return "" if self.verdict in (SUPPORTED, REFUTED) else reasons(self.parts)


# ----------------------------------------------------------------------------- tests
def _by_seed(values) -> dict:
    """{seed: value} without missing values (a diverged run reported as NaN drops out)."""
    items = values.items() if isinstance(values, Mapping) else enumerate(values)
    return {s: float(v) for s, v in items if v is not None and not pd.isna(v)}


def _p_values(d: np.ndarray) -> tuple[float, float]:
    """One-sided p-values (mean(d) > 0, mean(d) < 0): the one-sample t-test, or, when every d
    is the same number (the t statistic is 0/0 or d/0), the exact sign-flip permutation
    test, which is defined there: each of the 2^n sign patterns of |d| equally likely under
    'no difference' (5 equal positive differences: p = 1/32 per side)."""
    if np.ptp(d) > 1e-12:
        return (float(sps.ttest_1samp(d, 0.0, alternative="greater").pvalue),
                float(sps.ttest_1samp(d, 0.0, alternative="less").pvalue))
    return sign_flip_p(d)


def _verdict(p: float, effect: float, min_effect: float, alpha: float) -> tuple[str, str]:
    """Significant (p < alpha) and at least the min effect either way: supported / refuted;
    otherwise inconclusive, with the reason (significant but small, or not significant)."""
    if p < alpha and effect >= min_effect - EPS:
        return SUPPORTED, ""
    if p < alpha and effect <= -min_effect + EPS:
        return REFUTED, ""
    return INCONCLUSIVE, BELOW_MIN_EFFECT if p < alpha else OVERLAP


def difference_words(effect: float, above: str = "higher", below: str = "lower", what: str = "") -> str:
    """'0.441 lower' / '0.020 higher' (with `what` appended): a difference in words, no sign
    for a reader to misread."""
    if abs(effect) < 1e-12:
        return f"no difference{(' ' + what) if what else ''}"
    return f"{abs(effect):.3f} {above if effect > 0 else below}{(' ' + what) if what else ''}"


def _decide(d: np.ndarray, name: str, numbers: str, min_effect: float, alpha: float,
            words=difference_words, gap: str = "A - B") -> Part:
    """Verdict on "mean(d) > 0" by the rule in the module docstring (steps 2-5); `words`
    turns the effect into text (a threshold test says 'below the bar')."""
    n = len(d)
    if n == 0:
        return Part(name, NOT_RUN, numbers)
    effect = float(d.mean())
    if n < MIN_SEEDS:
        return Part(name, PRELIMINARY, f"{numbers}: {words(effect)}, n={n} < {MIN_SEEDS} "
                    "seeds: not tested", effect=effect, n=n)
    p_greater, p_less = _p_values(d)
    p = min(1.0, 2 * min(p_greater, p_less))
    ci = mean_ci(d, 1 - alpha)
    test = "paired t" if np.ptp(d) > 1e-12 else "exact sign-flip (every seed differs by the same amount)"
    text = (f"{numbers}: {words(effect)} ({1 - alpha:.0%} CI of {gap}: {ci.lo:+.3f} to {ci.hi:+.3f}), "
            f"{test} p={p:.3g} (two-sided), n={n}, min effect {min_effect:g}")
    verdict, reason = _verdict(p, effect, min_effect, alpha)
    return Part(name, verdict, text, reason, p, math.nan, effect, ci.lo, ci.hi, n)


def undertrained(part: Part, converged: bool) -> Part:
    """A part whose verdict rests on a model that did not converge becomes inconclusive with
    reason "undertrained". The caller passes `converged` of the side that LOST (scored lower):
    its low score may be a training shortfall, not a property of the model. Parts that are not
    supported/refuted are returned unchanged."""
    if converged or part.verdict not in (SUPPORTED, REFUTED):
        return part
    return replace(part, verdict=INCONCLUSIVE, reason=UNDERTRAINED,
                   detail=f"{part.detail}; would be {part.verdict}, but the lower side did not converge")


def paired_greater(a: Mapping, b: Mapping, name: str = "A > B", min_effect: float = MIN_EFFECT,
                   alpha: float = ALPHA, converged_a: bool = True, converged_b: bool = True) -> Part:
    """"A > B" by the paired rule (module docstring), a and b as {seed: value}. Seeds present
    on one side only are dropped (the detail names them). converged_a / converged_b: every run
    of that side converged. Supported needs B converged (B lost); refuted needs A converged
    (A lost); otherwise the verdict is inconclusive (undertrained)."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        raise TypeError("paired_greater pairs by seed: pass {seed: value} dicts")
    a, b = _by_seed(a), _by_seed(b)
    if not a or not b:
        return Part(name, NOT_RUN, f"missing runs: A has {len(a)} seeds, B has {len(b)}")
    seeds = sorted(set(a) & set(b), key=str)
    if not seeds:
        return Part(name, NOT_RUN, f"no seed in common: A {sorted(a, key=str)}, B {sorted(b, key=str)}")
    x, y = np.array([a[s] for s in seeds]), np.array([b[s] for s in seeds])
    numbers = f"A {x.mean():.3f} vs B {y.mean():.3f} over {len(seeds)} paired seeds"
    if dropped := sorted((set(a) | set(b)) - set(seeds), key=str):
        numbers += f" (unpaired seeds dropped: {dropped})"
    part = _decide(x - y, name, numbers, min_effect, alpha)
    return undertrained(part, converged_b if part.verdict == SUPPORTED else converged_a)


def unpaired_greater(a: Mapping, b: Mapping, name: str = "A > B", min_effect: float = MIN_EFFECT,
                     alpha: float = ALPHA, converged_a: bool = True, converged_b: bool = True) -> Part:
    """"A > B" when A and B are different data sets (one model at two distances: the same seed
    draws different sequences, so nothing pairs): Welch's two-sample t-test, two-sided p, the
    difference of means with its Welch 95% interval; otherwise the paired rule (n < 3 per side
    preliminary, min effect, zero variance on both sides by hand, the losing side converged)."""
    x, y = np.array(list(_by_seed(a).values())), np.array(list(_by_seed(b).values()))
    if not len(x) or not len(y):
        return Part(name, NOT_RUN, f"missing runs: A has {len(x)} seeds, B has {len(y)}")
    effect, n = float(x.mean() - y.mean()), min(len(x), len(y))
    numbers = f"A {x.mean():.3f} (n={len(x)}) vs B {y.mean():.3f} (n={len(y)}), unpaired"
    if n < MIN_SEEDS:
        return Part(name, PRELIMINARY, f"{numbers}: difference {effect:+.3f}, n={n} < {MIN_SEEDS} seeds: "
                    "not tested", effect=effect, n=n)
    if np.ptp(x) <= 1e-12 and np.ptp(y) <= 1e-12:  # Welch is 0/0: the exact permutation test
        p, lo, hi = permutation_p(x, y), effect, effect
    else:
        test = sps.ttest_ind(x, y, equal_var=False)
        interval = test.confidence_interval(1 - alpha)
        p, lo, hi = float(test.pvalue), float(interval.low), float(interval.high)
    test = "Welch t" if np.ptp(x) > 1e-12 or np.ptp(y) > 1e-12 else "exact permutation"
    text = (f"{numbers}: {difference_words(effect, what='for A')} ({1 - alpha:.0%} CI of A - B: "
            f"{lo:+.3f} to {hi:+.3f}), {test} p={p:.3g} (two-sided), min effect {min_effect:g}")
    verdict, reason = _verdict(p, effect, min_effect, alpha)
    part = Part(name, verdict, text, reason, p, math.nan, effect, lo, hi, n)
    return undertrained(part, converged_b if part.verdict == SUPPORTED else converged_a)


def above_threshold(values_by_seed, threshold: float, name: str = "A > threshold",
                    min_effect: float = MIN_EFFECT, alpha: float = ALPHA,
                    converged: bool = True) -> Part:
    """"A > threshold": one-sample t-test of d_s = A_s - threshold, same rule as paired_greater
    (n < 3 preliminary, zero variance by hand, |mean - threshold| >= min_effect). A refuted
    verdict (A below) needs A converged, else inconclusive (undertrained)."""
    x = np.array(list(_by_seed(values_by_seed).values()))
    numbers = f"A {x.mean():.3f} against the bar {threshold:.3f}" if len(x) else "no runs"
    part = _decide(x - threshold, name, numbers, min_effect, alpha,
                   lambda e: difference_words(e, "above", "below", "the bar"), "A - bar")
    return undertrained(part, converged or part.verdict != REFUTED)


def below_threshold(values_by_seed, threshold: float, name: str = "A < threshold",
                    min_effect: float = MIN_EFFECT, alpha: float = ALPHA,
                    converged: bool = True) -> Part:
    """"A < threshold": the mirror of above_threshold (d_s = threshold - A_s). A supported
    verdict (A below) needs A converged, else inconclusive (undertrained)."""
    x = np.array(list(_by_seed(values_by_seed).values()))
    numbers = f"A {x.mean():.3f} against the bar {threshold:.3f}" if len(x) else "no runs"
    part = _decide(threshold - x, name, numbers, min_effect, alpha,
                   lambda e: difference_words(e, "below", "above", "the bar"), "bar - A")
    return undertrained(part, converged or part.verdict != SUPPORTED)


# ----------------------------------------------------------------------------- correction
def holm(parts: list[Part], alpha: float = ALPHA) -> list[Part]:
    """Holm-Bonferroni over the parts of one claim that were tested (finite p_value; not run,
    preliminary and ratio parts have none and are left alone). Sort the m p-values,
    p_(1) <= ... <= p_(m); adjusted p_(i) = max over j <= i of min(1, (m - j + 1) * p_(j)).
    A supported/refuted part whose adjusted p is >= alpha becomes inconclusive ("not
    significant after Holm"). The chance that the claim has any false verdict stays <= alpha
    however many parts it tests. Returns new parts in the same order, p_adjusted filled in."""
    out = list(parts)
    tested = sorted((i for i, p in enumerate(parts) if not math.isnan(p.p_value)),
                    key=lambda i: parts[i].p_value)
    running = 0.0
    for rank, i in enumerate(tested):  # rank 0 is the smallest p: multiplier m
        running = max(running, min(1.0, (len(tested) - rank) * parts[i].p_value))
        out[i] = replace(parts[i], p_adjusted=running)
        if out[i].verdict in (SUPPORTED, REFUTED) and running >= alpha:
            out[i] = replace(out[i], verdict=INCONCLUSIVE, reason=NOT_SIGNIFICANT_AFTER_HOLM,
                             detail=f"{out[i].detail}; Holm-adjusted p={running:.3g} over "
                                    f"{len(tested)} tests: would be {parts[i].verdict}")
    return out


# ----------------------------------------------------------------------------- combining parts
def all_of(parts: list[Part]) -> str:
    """A conjunction ("X and Y and ..."): no parts or all not run -> not run; any part
    refuted -> refuted (a refuted part passed a real test with >= 3 seeds, so the conjunction
    fails whatever the others say); every part supported -> supported; otherwise, any part
    preliminary -> preliminary (run more seeds before judging); else inconclusive (see
    `reasons` for why)."""
    verdicts = [p.verdict for p in parts]
    if not verdicts or all(v == NOT_RUN for v in verdicts):
        return NOT_RUN
    if REFUTED in verdicts:
        return REFUTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return PRELIMINARY if PRELIMINARY in verdicts else INCONCLUSIVE


def agree(parts: list[Part]) -> str:
    """For per-device or per-phase parts: the common verdict when every part that ran agrees,
    otherwise inconclusive (the answer depends on the device / phase); none ran: not run."""
    verdicts = {p.verdict for p in parts if p.verdict != NOT_RUN}
    if not verdicts:
        return NOT_RUN
    return verdicts.pop() if len(verdicts) == 1 else INCONCLUSIVE


def reasons(parts: list[Part]) -> str:
    """Why parts are neither supported nor refuted, grouped: "overlap: p1, p2; not run: p3"."""
    groups: dict[str, list[str]] = {}
    for p in parts:
        if p.verdict not in (SUPPORTED, REFUTED):
            groups.setdefault(p.reason or p.verdict, []).append(p.name)
    return "; ".join(f"{why}: {', '.join(names)}" for why, names in groups.items())


def ratio_rule(ratio: float, name: str, margin: float = SPEED_MARGIN, what: str = "ratio") -> Part:
    """"ratio > 1" for deterministic measurements (throughput, gradient-norm ratios) that have
    no seeds to test over: a noise band replaces the t-test. Supported when ratio > margin,
    refuted when ratio < 1/margin, inconclusive ("below min effect") in between. There is no
    p-value, so Holm leaves these parts alone; effect holds the ratio."""
    if ratio is None or pd.isna(ratio):
        return Part(name, NOT_RUN, f"no {what}")
    text = f"{what} {ratio:.3g} (rule: > {margin:g} supported, < {1 / margin:.3g} refuted)"
    verdict = SUPPORTED if ratio > margin else REFUTED if ratio < 1 / margin else INCONCLUSIVE
    return Part(name, verdict, text, BELOW_MIN_EFFECT if verdict == INCONCLUSIVE else "",
                effect=float(ratio))
