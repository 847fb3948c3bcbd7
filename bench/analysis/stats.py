"""Verdict primitives: Student-t confidence intervals and the CI rule that turns two sets of
numbers into `supported`, `refuted`, `inconclusive` or `not run`.

- `mean_ci(values)`: mean and 95% Student-t confidence interval over seeds (n=1: no interval).
- `greater(a, b)`: "A > B". With n >= 2 on both sides: supported when A's CI lower bound is
  above B's CI upper bound, refuted when the reverse, inconclusive when the CIs overlap.
  With n = 1 on either side there is no interval: the margin rule says supported when
  mean(A) - mean(B) > MARGIN (0.1 accuracy), refuted when < -MARGIN, else inconclusive;
  the verdict text says which rule was used. No values on a side: not run.
- `above(a, threshold)` / `below(...)`: the same against a fixed number.
- `all_of(parts)`: a conjunction: any part refuted -> refuted; every part supported ->
  supported; all parts not run -> not run; otherwise inconclusive.
- `agree(parts)`: for per-device or per-phase parts: the common verdict when every part
  that ran agrees, otherwise inconclusive (it depends on the device / phase).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

SUPPORTED, REFUTED, INCONCLUSIVE, NOT_RUN = "supported", "refuted", "inconclusive", "not run"
MARGIN = 0.1  # accuracy difference the n=1 fallback rule asks for
SPEED_MARGIN = 1.1  # a throughput ratio must pass 1.1 (or 1/1.1) to count: timing noise

def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with integer df (closed form, Abramowitz & Stegun 26.7)."""
    if df < 1 or int(df) != df:
        raise ValueError(f"t_cdf needs an integer df >= 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 1:
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):  # 1 + 2/3 c^2 + (2*4)/(3*5) c^4 + ...
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        inside = 2.0 / math.pi * (theta + (s * math.cos(theta) * total if df > 1 else 0.0))
    else:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):  # 1 + 1/2 c^2 + (1*3)/(2*4) c^4 + ...
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        inside = s * total
    return 0.5 + math.copysign(inside / 2.0, t)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with integer df (bisection on t_cdf; 1e-10 absolute)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile needs 0 < p < 1, got {p}")
    lo, hi = -1e6, 1e6
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-10:
            break
    return (lo + hi) / 2


@dataclass(frozen=True)
class Stat:
    """Mean and 95% CI over seeds; `half` is NaN when n < 2 (no interval)."""

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
    """Mean and Student-t CI half-width t_{(1+level)/2, n-1} * sd / sqrt(n); NaNs ignored."""
    array = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    n = len(array)
    if n == 0:
        return Stat(math.nan, math.nan, 0)
    if n == 1:
        return Stat(float(array[0]), math.nan, 1)
    half = t_quantile((1 + level) / 2, n - 1) * array.std(ddof=1) / math.sqrt(n)
    return Stat(float(array.mean()), float(half), n)


# ----------------------------------------------------------------------------- verdict rules
@dataclass
class Part:
    """One tested statement inside a claim, its verdict and the numbers behind it."""

    name: str
    verdict: str
    detail: str


@dataclass
class Claim:
    number: int
    statement: str
    rule: str
    verdict: str
    parts: list[Part] = field(default_factory=list)
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)  # the runs/rows behind it


def greater(a: Sequence[float], b: Sequence[float], name: str = "A > B",
            margin: float = MARGIN) -> Part:
    sa, sb = mean_ci(a), mean_ci(b)
    numbers = f"{sa.text()} vs {sb.text()}"
    if sa.n == 0 or sb.n == 0:
        return Part(name, NOT_RUN, f"missing runs: {numbers}")
    if sa.n >= 2 and sb.n >= 2:
        if sa.lo > sb.hi:
            return Part(name, SUPPORTED, f"{numbers}: CIs separate")
        if sa.hi < sb.lo:
            return Part(name, REFUTED, f"{numbers}: CIs separate the other way")
        return Part(name, INCONCLUSIVE, f"{numbers}: 95% CIs overlap")
    diff = sa.mean - sb.mean
    rule = f"n=1 on a side, margin rule |difference| > {margin}"
    if diff > margin:
        return Part(name, SUPPORTED, f"{numbers}: difference {diff:+.3f} ({rule})")
    if diff < -margin:
        return Part(name, REFUTED, f"{numbers}: difference {diff:+.3f} ({rule})")
    return Part(name, INCONCLUSIVE, f"{numbers}: difference {diff:+.3f} within ±{margin} ({rule})")


def above(a: Sequence[float], threshold: float, name: str = "A > threshold",
          margin: float = MARGIN) -> Part:
    sa = mean_ci(a)
    if sa.n == 0:
        return Part(name, NOT_RUN, "missing runs")
    numbers = f"{sa.text()} vs threshold {threshold:.3f}"
    if sa.n >= 2:
        if sa.lo > threshold:
            return Part(name, SUPPORTED, f"{numbers}: CI above")
        if sa.hi < threshold:
            return Part(name, REFUTED, f"{numbers}: CI below")
        return Part(name, INCONCLUSIVE, f"{numbers}: CI contains the threshold")
    diff = sa.mean - threshold
    rule = f"n=1, margin rule |difference| > {margin}"
    verdict = SUPPORTED if diff > margin else REFUTED if diff < -margin else INCONCLUSIVE
    return Part(name, verdict, f"{numbers}: difference {diff:+.3f} ({rule})")


def below(a: Sequence[float], threshold: float, name: str = "A < threshold",
          margin: float = MARGIN) -> Part:
    part = above(a, threshold, name, margin)
    flip = {SUPPORTED: REFUTED, REFUTED: SUPPORTED}
    return Part(name, flip.get(part.verdict, part.verdict), part.detail)


def ratio_rule(ratio: float, name: str, margin: float = SPEED_MARGIN, what: str = "ratio") -> Part:
    """'ratio > 1' with a noise margin: supported above `margin`, refuted below 1/margin."""
    if ratio is None or pd.isna(ratio):
        return Part(name, NOT_RUN, f"no {what}")
    text = f"{what} {ratio:.3g} (rule: > {margin:g} supported, < {1 / margin:.3g} refuted)"
    if ratio > margin:
        return Part(name, SUPPORTED, text)
    if ratio < 1 / margin:
        return Part(name, REFUTED, text)
    return Part(name, INCONCLUSIVE, text)


def all_of(parts: list[Part]) -> str:
    verdicts = [p.verdict for p in parts]
    if not verdicts or all(v == NOT_RUN for v in verdicts):
        return NOT_RUN
    if REFUTED in verdicts:
        return REFUTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return INCONCLUSIVE


def agree(parts: list[Part]) -> str:
    verdicts = {p.verdict for p in parts if p.verdict != NOT_RUN}
    if not verdicts:
        return NOT_RUN
    return verdicts.pop() if len(verdicts) == 1 else INCONCLUSIVE
