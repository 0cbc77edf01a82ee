"""Statistics over seeds: mean, std, Student-t 95% confidence intervals and paired tests."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def summarize(values) -> dict:
    """Mean, sample std, 95% Student-t CI of the mean, median and n (CI collapses to the mean when n = 1)."""
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        raise ValueError("summarize needs at least one value")
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * std / math.sqrt(n)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half,
            "ci_level": CONFIDENCE, "median": float(np.median(x)), "n": n}


def paired_test(a, b, *, test: str = "t", alternative: str = "two-sided") -> dict:
    """Test a paired difference a - b over seeds.

    `test` is "t" (paired Student t, for roughly normal differences) or "wilcoxon" (signed-rank,
    for heavy-tailed ones such as MSE of an overfit polynomial). `alternative` follows scipy:
    "greater" tests mean(a - b) > 0.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("paired_test needs two equal-length samples of at least 2 values")
    d = a - b
    if test == "t":
        if np.all(d == d[0]):  # scipy returns nan for zero variance; the difference is exact
            p = 0.0 if _agrees(d[0], alternative) else 1.0
            res_stat, res_p, name = (math.copysign(math.inf, d[0]) if d[0] else 0.0), p, "paired t-test"
        else:
            res = stats.ttest_rel(a, b, alternative=alternative)
            res_stat, res_p, name = float(res.statistic), float(res.pvalue), "paired t-test"
    elif test == "wilcoxon":
        if np.all(d == 0):
            res_stat, res_p = 0.0, 1.0
        else:
            res = stats.wilcoxon(a, b, alternative=alternative)
            res_stat, res_p = float(res.statistic), float(res.pvalue)
        name = "Wilcoxon signed-rank test (paired)"
    else:
        raise ValueError(f"unknown test {test!r}")
    diff = summarize(d)
    return {
        "test": name,
        "alternative": alternative,
        "statistic": _finite(res_stat),
        "p_value": res_p,
        "n": int(a.size),
        "mean_diff": diff["mean"],
        "diff_ci_low": diff["ci_low"],
        "diff_ci_high": diff["ci_high"],
        "ci_level": CONFIDENCE,
    }


def _agrees(d: float, alternative: str) -> bool:
    return {"greater": d > 0, "less": d < 0}.get(alternative, d != 0)


def _finite(x: float) -> float:
    """JSON has no infinity; a zero-variance difference is reported with a capped statistic."""
    return float(np.clip(x, -1e300, 1e300))
