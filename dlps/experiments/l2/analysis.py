"""The L2 experiment's descriptive analysis, apart from its judging rules: λ* on validation (the one selection), its
per-seed choices and paired t-tests for the report's tables."""

from __future__ import annotations

import numpy as np

from dlps.experiments.columns import col as _col
from dlps.experiments.l2.spec import TEST_SCORED, base as base_of, ordered


def mean_of(runs: dict, variant: str, metric: str) -> float:
    return float(np.mean(_col(runs, variant, metric)))


def best_lam(cfg: dict, runs: dict) -> str:
    """λ* = the highest mean validation accuracy (ties: the smaller λ): the one selection."""
    return max(ordered(cfg), key=lambda v: mean_of(runs, v, "val_acc"))


def best_per_seed(cfg: dict, runs: dict) -> list[str]:
    """Each seed's own λ* (highest validation accuracy in that seed): how stable the choice is."""
    order = ordered(cfg)
    return [max(order, key=lambda v: runs[v][i]["val_acc"]) for i in range(len(runs[order[0]]))]


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """λ* on validation; paired t-tests on test accuracy (λ* vs 0, λ* vs its lower and higher neighbours), train
    accuracy (largest λ vs 0) and weight norm (each λ vs the next larger one: lam1 vs lam2, … in λ order)."""
    order, base = ordered(cfg), base_of(cfg)
    best = best_lam(cfg, runs)
    i = order.index(best)
    neighbours = {role: order[j] for role, j in (("lower", i - 1), ("higher", i + 1)) if 0 <= j < len(order)}
    comparisons = {"test_acc_best_vs_baseline": paired(best, base, "test_acc", "t")}
    for role, nb in neighbours.items():
        comparisons[f"test_acc_best_vs_{role}"] = paired(best, nb, "test_acc", "t")
    comparisons["train_acc_largest_vs_baseline"] = paired(order[-1], base, "train_acc", "t")
    for j, (a, b) in enumerate(zip(order, order[1:]), 1):
        comparisons[f"weight_norm_lam{j}_vs_lam{j + 1}"] = paired(a, b, "weight_norm", "t")
    derived = {"best_lam": best, "best_lam_per_seed": best_per_seed(cfg, runs), "neighbours": list(neighbours.values()),
               "improvement_pp": 100 * (mean_of(runs, best, "test_acc") - mean_of(runs, base, "test_acc")),
               "val_acc_by_lam": {v: mean_of(runs, v, "val_acc") for v in order}, "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}
