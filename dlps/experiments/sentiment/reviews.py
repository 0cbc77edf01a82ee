"""Which test reviews each sentiment run got right, and the sampling variance of accuracies over those reviews."""

from __future__ import annotations

import numpy as np
from scipy import stats

from dlps.experiments.sentiment.spec import CORRECT_KEY, unpack_correct


def n_test(row: dict) -> int:
    return int(row["test_tn"] + row["test_fp"] + row["test_fn"] + row["test_tp"])


def correct_count(row: dict) -> np.ndarray:
    """A 0/1 vector with the run's number of right test reviews (all a rate needs: k of n)."""
    return np.arange(n_test(row)) < int(row["test_tn"] + row["test_tp"])


def correct(row: dict) -> np.ndarray | None:
    """Which test reviews the run got right (in test order), or None for runs stored without it."""
    return unpack_correct(row[CORRECT_KEY], n_test(row)) if CORRECT_KEY in row else None


def discordant(runs: dict, a: str, b: str) -> list[dict] | None:
    """Per seed: b = test reviews a gets right and b wrong, c = the reverse, and the two-sided exact McNemar p
    (scipy.stats.binomtest on the discordant reviews); None when the runs lack per-review correctness."""
    out = []
    for ra, rb in zip(runs[a], runs[b]):
        ca, cb = correct(ra), correct(rb)
        if ca is None or cb is None:
            return None
        n_b, n_c = int(np.sum(ca & ~cb)), int(np.sum(~ca & cb))
        p = float(stats.binomtest(n_b, n_b + n_c, 0.5).pvalue) if n_b + n_c else 1.0
        out.append({"seed": ra["seed"], "b": n_b, "c": n_c, "p_value": p})
    return out


def test_sampling_var(rows: list[dict]) -> float:
    """The binomial variance of one run's test accuracy over its test reviews, averaged over the runs."""
    return float(np.mean([r["test_acc"] * (1 - r["test_acc"]) / n_test(r) for r in rows]))


def paired_sampling_var(a_rows: list[dict], b_rows: list[dict]) -> float:
    """The variance of one seed's accuracy difference a − b over the shared test reviews (per-review differences
    are −1, 0 or 1: ((b + c)/N − d²)/N), averaged over the seeds."""
    out = []
    for ra, rb in zip(a_rows, b_rows):
        ca, cb = correct(ra), correct(rb)
        d = float(np.mean(ca) - np.mean(cb))
        out.append((float(np.mean(ca != cb)) - d * d) / ca.size)
    return float(np.mean(out))
