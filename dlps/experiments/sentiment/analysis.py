"""The sentiment experiment's descriptive analysis, apart from its judging rules: the best recurrent model on validation
(the one selection), per-seed McNemar counts and paired t-tests for the report's tables."""

from __future__ import annotations

import numpy as np

from dlps.experiments.sentiment.reviews import discordant
from dlps.experiments.sentiment.spec import BASELINE, SAME_TEXT, TEST_SCORED, TFIDF, recurrent


def mean_of(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def minus_pp(runs: dict, a: str | None, b: str) -> float | None:
    return 100 * (mean_of(runs[a], "test_acc") - mean_of(runs[b], "test_acc")) if a else None


def best_recurrent(runs: dict) -> str | None:
    """The recurrent model with the highest mean validation accuracy (None if none ran): the one selection."""
    neural = recurrent(runs)
    return max(neural, key=lambda v: mean_of(runs[v], "val_acc")) if neural else None


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """The model chosen on mean validation accuracy; every recurrent model against both TF-IDF variants and TF-IDF
    on the recurrent models' tokens against whole reviews (what truncation costs a bag of words), by per-seed exact
    McNemar counts on the test reviews and, with >= 2 seeds, paired t-tests of test accuracy over seeds."""
    chosen, best = max(runs, key=lambda v: mean_of(runs[v], "val_acc")), best_recurrent(runs)
    comparisons = {}
    for a, b in [(v, b) for v in recurrent(runs) for b in TFIDF] + [(SAME_TEXT, BASELINE)]:
        per_seed = discordant(runs, a, b)
        if per_seed is not None:
            comparisons[f"mcnemar_{a}_vs_{b}"] = {"a": a, "b": b, "metric": "test reviews right",
                                                  "test": "exact McNemar (two-sided)", "per_seed": per_seed}
        if len(cfg["seeds"]) >= 2:
            comparisons[f"test_acc_{a}_vs_{b}"] = paired(a, b, "test_acc", "t")
    derived = {"chosen_model": chosen, "chosen_test_acc": mean_of(runs[chosen], "test_acc"), "best_neural": best,
               "best_neural_minus_tfidf_pp": minus_pp(runs, best, BASELINE),
               f"best_neural_minus_{SAME_TEXT}_pp": minus_pp(runs, best, SAME_TEXT),
               f"{SAME_TEXT}_minus_{BASELINE}_pp": minus_pp(runs, SAME_TEXT, BASELINE), "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}
