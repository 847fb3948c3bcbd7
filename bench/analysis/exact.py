"""Exact permutation tests for the cases a t-test cannot decide (zero variance: the t
statistic is 0/0 or d/0). Enumerated, never sampled, so the p-value is exact and repeatable.
Pure numpy."""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np


def sign_flip_p(d: np.ndarray) -> tuple[float, float]:
    """Exact one-sided p-values of the paired sign-flip test of mean(d) (n <= 20)."""
    n = len(d)
    if n > 20:
        raise ValueError(f"sign_flip_p enumerates 2^n patterns; n={n} is too many")
    signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2 - 1  # (2^n, n) every sign pattern
    means = (signs * np.abs(d)[None, :]).mean(axis=1)
    observed = d.mean()
    return float((means >= observed - 1e-12).mean()), float((means <= observed + 1e-12).mean())


def permutation_p(x: np.ndarray, y: np.ndarray) -> float:
    """Exact two-sided p of the two-sample permutation test of mean(x) - mean(y): every split
    of the pooled values into groups of len(x) and len(y) equally likely (C(n, k) <= 1e5)."""
    pooled, k = np.concatenate([x, y]), len(x)
    if math.comb(len(pooled), k) > 100_000:
        raise ValueError("permutation_p: too many splits to enumerate")
    observed = abs(x.mean() - y.mean())
    total = pooled.sum()
    diffs = [abs(pooled[list(c)].sum() / k - (total - pooled[list(c)].sum()) / len(y))
             for c in combinations(range(len(pooled)), k)]
    return float(np.mean(np.asarray(diffs) >= observed - 1e-12))
