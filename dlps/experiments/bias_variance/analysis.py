"""The bias_variance experiment's descriptive analysis, apart from its judging rules: the ranking of degrees (the
one selection), the identity's relative gap, and the report's tables (geometric means, paired tests on log10 MSE)."""

from __future__ import annotations

import numpy as np

from dlps import stats
from dlps.experiments.bias_variance.spec import DD_PERCENT, DEGREES, THRESHOLD, VARIANT, p_grid
from dlps.experiments.columns import values as _col

LOW, HIGH = DEGREES[0], DEGREES[-1]
BELOW, ABOVE = DD_PERCENT[DD_PERCENT.index(THRESHOLD) - 1], DD_PERCENT[DD_PERCENT.index(THRESHOLD) + 1]
TOP = DD_PERCENT[-1]


def log10s(rows: list[dict], key: str) -> np.ndarray:
    """log10 of one field of every replicate (MSE spans decades: ratios, not differences, compare)."""
    return np.log10(_col(rows, key))


def relative_gap(rows: list[dict], d: int) -> np.ndarray:
    """Per replicate, (bias² + variance + noise − direct expected test MSE) / direct, at degree d."""
    return (_col(rows, f"decomposed_d{d}") - _col(rows, f"total_d{d}")) / _col(rows, f"total_d{d}")


def ranked_degrees(rows: list[dict]) -> list[int]:
    """Degrees from the lowest to the highest geometric-mean total over replicates (the fixed rule for 'best')."""
    return sorted(DEGREES, key=lambda d: float(np.mean(log10s(rows, f"total_d{d}"))))


def _log_comparison(rows: list[dict], a: str, b: str, label_a: str, label_b: str, what: str) -> dict:
    """A paired t-test (one-sided: a > b) of log10 values, in the shape the report's comparison table reads."""
    return {"a": label_a, "b": label_b, "metric": f"log10 {what}",
            **stats.paired_test(log10s(rows, a), log10s(rows, b), test="t", alternative="greater")}


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Within-variant tests over replicates (one variant, so `paired` across variants has nothing to pair)."""
    rows = runs[VARIANT]
    ranked = ranked_degrees(rows)
    best, runner = ranked[0], ranked[1]
    gaps = {str(d): float(np.mean(relative_gap(rows, d))) for d in DEGREES}
    geo = {d: float(10 ** np.mean(log10s(rows, f"total_d{d}"))) for d in DEGREES}
    comparisons = {
        "total_lowest_degree_vs_best": _log_comparison(rows, f"total_d{LOW}", f"total_d{best}", f"degree {LOW}",
                                                       f"degree {best}", "expected test MSE"),
        "total_highest_degree_vs_best": _log_comparison(rows, f"total_d{HIGH}", f"total_d{best}", f"degree {HIGH}",
                                                        f"degree {best}", "expected test MSE"),
        "total_runner_up_vs_best": _log_comparison(rows, f"total_d{runner}", f"total_d{best}", f"degree {runner}",
                                                   f"degree {best}", "expected test MSE"),
    }
    for role, q in (("below", BELOW), ("above", ABOVE), ("largest", TOP)):
        comparisons[f"dd_threshold_vs_{role}"] = _log_comparison(
            rows, f"dd_mse_r{THRESHOLD}", f"dd_mse_r{q}", "p = n_train", f"p = {q}% of n_train", "test MSE")
    ps = p_grid(cfg["dd_n_train"])
    dd_geo = [float(10 ** np.mean(log10s(rows, f"dd_mse_r{q}"))) for q in DD_PERCENT]
    peak = int(np.argmax(dd_geo))
    return {"comparisons": comparisons, "derived": {
        "identity": {"relative_gap_mean": gaps, "worst_degree": int(max(DEGREES, key=lambda d: abs(gaps[str(d)]))),
                     "z_per_seed_max": float(max(r["z_identity_max"] for r in rows))},
        "optimum": {"argmin_degree": best, "runner_up_degree": runner, "min_total": geo[best],
                    "argmin_per_seed": [int(r["argmin_degree"]) for r in rows],
                    "geomean_total": {str(d): geo[d] for d in DEGREES},
                    "within_10pct": [d for d in DEGREES if geo[d] <= 1.1 * geo[best]]},
        "double_descent": {"peak_p": ps[peak], "peak_ratio": ps[peak] / cfg["dd_n_train"],
                           "geomean_mse": dd_geo, "peak_ratio_per_seed": [float(r["dd_peak_ratio"]) for r in rows],
                           "max_p": ps[-1]}}}
