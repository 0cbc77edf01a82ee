"""The early-stopping experiment's descriptive analysis, apart from its judging rules: per-patience summaries and paired
t-tests of restored vs full-run accuracy for the report's tables."""

from __future__ import annotations

import numpy as np

from dlps import stats
from dlps.experiments.columns import values as _col
from dlps.experiments.early_stopping.spec import MONITORS, PER_PATIENCE, TEST_SCORED, VARIANT, col


def _paired(rows: list[dict], a: str, b: str, label_a: str, label_b: str) -> dict:
    """A paired t-test of two metrics of the same runs, shaped like the pipeline's variant comparisons."""
    d = float(np.mean(_col(rows, a) - _col(rows, b)))
    if len(rows) < 2:
        return {"a": label_a, "b": label_b, "metric": "test_acc", "test": "paired t-test (needs >= 2 seeds)",
                "alternative": "two-sided", "statistic": 0.0, "p_value": 1.0, "n": len(rows), "mean_diff": d,
                "diff_ci_low": d, "diff_ci_high": d, "ci_level": stats.CONFIDENCE}
    return {"a": label_a, "b": label_b, "metric": "test_acc",
            **stats.paired_test(_col(rows, a), _col(rows, b), test="t")}


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Per-monitor, per-patience summaries (no wall-clock values) and two-sided paired t-tests of restored vs
    full-run test accuracy, for the report's tables (keyed <monitor>_patience1, … from the shortest patience)."""
    rows = runs[VARIANT]
    per = {m: {str(p): {k: stats.summarize(_col(rows, col(k, m, p))) for k in PER_PATIENCE} for p in cfg["patience"]}
           for m in MONITORS}
    comparisons = {f"test_acc_restored_{m}_patience{i}_vs_full": _paired(
        rows, col("test_acc_restored", m, p), "test_acc_full", f"restored ({m}, patience {p})",
        "full run, final epoch") for m in MONITORS for i, p in enumerate(sorted(cfg["patience"]), 1)}
    return {"comparisons": comparisons, "derived": {"patience": per[cfg["monitor"]], "per_monitor": per,
                                                    "monitor": cfg["monitor"],
                                                    "default_patience": cfg["default_patience"],
                                                    "test_scored": TEST_SCORED}}
