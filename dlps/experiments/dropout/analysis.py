"""The dropout experiment's descriptive analysis, apart from its judging rules: the rate chosen on validation (the one
selection) and paired t-tests for the report's tables."""

from __future__ import annotations

import numpy as np

from dlps.experiments.columns import col
from dlps.experiments.dropout.spec import TEST_SCORED, rates


def best_rate(cfg: dict, runs: dict) -> str:
    """The p > 0 with the highest mean validation accuracy (ties: the first listed): the one selection."""
    _, ps = rates(cfg)
    return max(ps, key=lambda v: float(np.mean(col(runs, v, "val_acc"))))


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Pick the best p > 0 on validation accuracy; paired t-tests of every rate (rate1, rate2, … in params order)
    against p = 0 (test accuracy and the loss gap)."""
    base, ps = rates(cfg)
    best = best_rate(cfg, runs)
    comparisons = {}
    for i, v in enumerate(ps, 1):
        comparisons[f"test_acc_rate{i}_vs_baseline"] = paired(v, base, "test_acc", "t")
        comparisons[f"loss_gap_baseline_vs_rate{i}"] = paired(base, v, "loss_gap", "t")
    acc0, acc1 = (float(np.mean(col(runs, v, "test_acc"))) for v in (base, best))
    gap0, gap1 = (float(np.mean(col(runs, v, "loss_gap"))) for v in (base, best))
    derived = {"best_p": best, "improvement_pp": 100 * (acc1 - acc0),
               "relative_error_reduction": (acc1 - acc0) / (1 - acc0) if acc0 < 1 else 0.0,
               "loss_gap_reduction": gap0 - gap1, "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}
