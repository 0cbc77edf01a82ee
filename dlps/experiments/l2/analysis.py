"""The L2 experiment's descriptive analysis, apart from its judging rules: λ* on validation (the one selection), its
per-seed choices, the penalty's decay time constants against the training length, and paired t-tests for the
report's tables."""

from __future__ import annotations

import math

import numpy as np

from dlps.experiments.columns import col as _col
from dlps.experiments.l2.spec import TEST_SCORED, base as base_of, ordered


def mean_of(runs: dict, variant: str, metric: str) -> float:
    return float(np.mean(_col(runs, variant, metric)))


def total_steps(cfg: dict) -> int:
    """SGD steps in one run: minibatches per epoch (the last one partial) times epochs."""
    return math.ceil(cfg["n_train"] / cfg["batch_size"]) * cfg["epochs"]


def decay_steps(cfg: dict, lam: float) -> float:
    """The penalty's decay time constant in SGD steps, (1 − momentum)/(lr·λ): with momentum μ the λW term shrinks
    the weights by a factor e each that many steps (where the loss gradient does not push back); inf at λ = 0."""
    return math.inf if lam == 0 else (1 - cfg["momentum"]) / (cfg["lr"] * lam)


def decay_text(cfg: dict) -> str:
    """Each λ > 0's decay time constant against the run's length, for the report's set-up."""
    t = total_steps(cfg)
    ratio = lambda x: f"{x:.2g}" if x < 10 else f"{x:,.0f}"  # noqa: E731
    taus = {v: decay_steps(cfg, float(v)) for v in ordered(cfg) if float(v) > 0}
    rows = [f"λ = {v}: τ = {tau:,.0f} steps (the run lasts {ratio(t / tau)} τ)" for v, tau in taus.items()]
    return f"the run has {t:,} SGD steps; τ = (1 − momentum)/(lr·λ) at " + "; ".join(rows)


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
               "val_acc_by_lam": {v: mean_of(runs, v, "val_acc") for v in order}, "test_scored": TEST_SCORED,
               "total_steps": total_steps(cfg), "decay_steps": {v: decay_steps(cfg, float(v)) for v in order[1:]},
               "decay_text": decay_text(cfg)}
    return {"comparisons": comparisons, "derived": derived}
