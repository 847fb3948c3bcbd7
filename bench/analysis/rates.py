"""Solve rates: outcomes counted as they are.

On the memory tasks a run either solves (jumps to ~1.0) or stays near chance, so a cell's
mean accuracy over seeds hides what happened and a t-test's normality assumption does not
hold. A cell's **solve rate** is k of n seeds whose test accuracy reached the solve bar
(halfway between the trivial baseline and 1), with its exact 95% (Clopper-Pearson) interval.

Tests (two-sided, exact, scipy; never a p-value set by hand):
- two cells: Barnard's exact test on the 2x2 table (solved / not x cell), unconditional and
  more powerful than Fisher's at small n (5/5 vs 0/5: p = 0.002 against Fisher's 0.008);
- one cell against a rate: the exact binomial test (`binomtest`).
A difference counts only when significant and at least MIN_RATE_EFFECT in solve rate.
`min_p` is the smallest p-value a test at these n can give at all (every seed on one side):
when even that cannot pass the corrected level, the part says so instead of pretending.
Pure scipy/pandas, no torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy import stats as sps

from bench.analysis.stats import (
    ALPHA,
    BELOW_MIN_EFFECT,
    INCONCLUSIVE,
    MIN_SEEDS,
    NOT_RUN,
    OVERLAP,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
    Part,
    holm,
)

MIN_RATE_EFFECT = 0.2  # smallest difference in solve rate of interest (one seed in five)
UNREACHABLE = "no test at this n can pass"  # a reason: even the most extreme outcome is not significant


@dataclass(frozen=True)
class Rate:
    """k of n seeds solved, with the exact 95% interval of the rate."""

    k: int
    n: int

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        if not self.n:
            return math.nan, math.nan
        ci = sps.binomtest(self.k, self.n).proportion_ci(0.95, method="exact")
        return float(ci.low), float(ci.high)

    def text(self) -> str:
        if not self.n:
            return "no runs"
        lo, hi = self.interval
        return f"{self.k}/{self.n} solved (95% CI {lo:.2f}-{hi:.2f})"


def rate_of(solved) -> Rate:
    """A Rate from an iterable of booleans (one per seed)."""
    values = [bool(v) for v in solved]
    return Rate(sum(values), len(values))


def barnard_p(a: Rate, b: Rate) -> float:
    """Two-sided Barnard exact p for 'a and b solve at the same rate' (1.0 when both tables
    rows are identical extremes, where there is nothing to test)."""
    table = [[a.k, a.n - a.k], [b.k, b.n - b.k]]
    if (a.k + b.k) in (0, a.n + b.n):  # every run solved, or none: no evidence of a difference
        return 1.0
    return float(sps.barnard_exact(table, alternative="two-sided").pvalue)


def min_p_two(n_a: int, n_b: int) -> float:
    """The smallest two-sided Barnard p at these sizes (all of a solved, none of b)."""
    return barnard_p(Rate(n_a, n_a), Rate(0, n_b)) if n_a and n_b else 1.0


def binomial_p(a: Rate, rate: float) -> float:
    return float(sps.binomtest(a.k, a.n, rate, alternative="two-sided").pvalue) if a.n else math.nan


def min_p_one(n: int, rate: float) -> float:
    """The smallest two-sided binomial p at this n against `rate` (every seed on one side)."""
    if not n:
        return 1.0
    return min(binomial_p(Rate(n, n), rate), binomial_p(Rate(0, n), rate))


def _verdict(p: float, effect: float, min_effect: float, alpha: float) -> tuple[str, str]:
    if p < alpha and effect >= min_effect - 1e-9:
        return SUPPORTED, ""
    if p < alpha and effect <= -min_effect + 1e-9:
        return REFUTED, ""
    return INCONCLUSIVE, BELOW_MIN_EFFECT if p < alpha else OVERLAP


def _difference_words(effect: float, what: str) -> str:
    if abs(effect) < 1e-12:
        return f"no difference in {what}"
    return f"{abs(effect):.2f} {'higher' if effect > 0 else 'lower'} {what}"


def rate_greater(a: Rate, b: Rate, name: str, labels: tuple[str, str] = ("A", "B"),
                 min_effect: float = MIN_RATE_EFFECT, alpha: float = ALPHA) -> Part:
    """"A solves more often than B" by Barnard's exact test (A and B: different runs, paired
    or not; the exact test does not need the pairing). effect = rate A - rate B."""
    if not a.n or not b.n:
        return Part(name, NOT_RUN, f"missing runs: {labels[0]} {a.n}, {labels[1]} {b.n}")
    if min(a.n, b.n) < MIN_SEEDS:
        return Part(name, PRELIMINARY, f"{labels[0]} {a.text()} vs {labels[1]} {b.text()}: n={min(a.n, b.n)} < "
                    f"{MIN_SEEDS} seeds: not tested", effect=a.rate - b.rate, n=min(a.n, b.n))
    effect, p = a.rate - b.rate, barnard_p(a, b)
    floor = min_p_two(a.n, b.n)
    text = (f"{labels[0]} {a.text()} vs {labels[1]} {b.text()}: {_difference_words(effect, 'solve rate')} "
            f"for {labels[0]}, Barnard exact p={p:.3g} (two-sided; smallest possible at these n: {floor:.3g})")
    verdict, reason = _verdict(p, effect, min_effect, alpha)
    return Part(name, verdict, text, reason, p, math.nan, effect, math.nan, math.nan, min(a.n, b.n))


def rate_versus(a: Rate, rate: float, name: str, label: str = "A", alpha: float = ALPHA,
                min_effect: float = MIN_RATE_EFFECT) -> Part:
    """"A's solve rate is above `rate`" (supported) or below it (refuted), exact binomial test."""
    if not a.n:
        return Part(name, NOT_RUN, f"no {label} runs")
    if a.n < MIN_SEEDS:
        return Part(name, PRELIMINARY, f"{label} {a.text()}: n={a.n} < {MIN_SEEDS} seeds: not tested",
                    effect=a.rate - rate, n=a.n)
    effect, p = a.rate - rate, binomial_p(a, rate)
    text = (f"{label} {a.text()}: {_difference_words(effect, 'solve rate')} than {rate:g}, exact binomial "
            f"p={p:.3g} (two-sided; smallest possible at n={a.n}: {min_p_one(a.n, rate):.3g})")
    verdict, reason = _verdict(p, effect, min_effect, alpha)
    return Part(name, verdict, text, reason, p, math.nan, effect, math.nan, math.nan, a.n)


def mark_unreachable(parts: list[Part], floors: dict[str, float], alpha: float = ALPHA) -> list[Part]:
    """After Holm: a part left undecided that would stay undecided even at its most extreme
    outcome (`floors`: name -> smallest possible p at its n; Holm rerun with that p in its
    place, the other parts as they are) says so, reason UNREACHABLE: more seeds, not a
    different result, would decide it."""
    out = []
    for index, part in enumerate(parts):
        floor = floors.get(part.name)
        if floor is not None and part.verdict == INCONCLUSIVE and part.reason != BELOW_MIN_EFFECT:
            extreme = [replace(p, p_value=floor, verdict=SUPPORTED) if i == index else p for i, p in enumerate(parts)]
            if holm(extreme, alpha)[index].verdict != SUPPORTED:
                part = replace(part, reason=UNREACHABLE,
                               detail=f"{part.detail}; even the most extreme outcome at this n (p={floor:.3g}) "
                                      f"cannot pass the Holm-corrected level of this claim's tests")
        out.append(part)
    return out
