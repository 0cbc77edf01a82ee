"""The overfitting experiment's descriptive analysis, apart from its judging rules: the middle degrees by role and
paired Wilcoxon tests for the report's tables."""

from __future__ import annotations

from dlps.experiments.overfitting.spec import roles


def middles(cfg: dict) -> dict[str, int]:
    """The middle degrees by role: "mid" (one), else "mid1", "mid2", … in order; ids and keys name the role."""
    _, middle, _ = roles(cfg)
    return {"mid": middle[0]} if len(middle) == 1 else {f"mid{i}": d for i, d in enumerate(middle, 1)}


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Paired Wilcoxon tests (MSE over seeds is heavy-tailed): the extremes against each middle degree."""
    low, _, high = roles(cfg)
    comparisons = {}
    for role, mid in middles(cfg).items():
        comparisons[f"train_mse_low_vs_{role}"] = paired(str(low), str(mid), "train_mse", "wilcoxon")
        comparisons[f"test_mse_low_vs_{role}"] = paired(str(low), str(mid), "test_mse", "wilcoxon")
        comparisons[f"test_mse_high_vs_{role}"] = paired(str(high), str(mid), "test_mse", "wilcoxon")
    return {"comparisons": comparisons, "derived": {}}
