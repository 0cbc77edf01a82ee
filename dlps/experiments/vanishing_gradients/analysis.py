"""The vanishing-gradients experiment's descriptive analysis, apart from its judging rules: every sweep point over
seeds and paired Wilcoxon tests of each gated cell against the RNN, for the report's tables."""

from __future__ import annotations

from dlps.experiments.vanishing_gradients.spec import CELLS, FIELDS, GATED, configs, key
from dlps.stats import summarize


def spread(values: list[float]) -> dict:
    """summarize() plus the smallest and largest seed."""
    return {**summarize(values), "min": float(min(values)), "max": float(max(values))}


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Paired Wilcoxon tests of each gated cell against the RNN on the input-gradient log10 ratios (unbounded, so
    ranks, not means), and every sweep point over seeds."""
    comparisons = {}
    for phase in ("init", "trained", "matched"):
        for cell in GATED:
            comparisons[f"{phase}_x_log10_ratio_{cell}_vs_rnn"] = paired(cell, "rnn", f"{phase}_x_log10_ratio",
                                                                         "wilcoxon")
    derived = {}
    for cell in CELLS:
        rows = runs[cell]
        for rho in configs(cfg, cell):
            for length in cfg["lengths"]:
                k = key(cell, rho, length)
                derived[k] = {"cell": cell, **({"rho": rho} if rho is not None else {}), "length": length,
                              **{f: spread([r[f"{k}_{f}"] for r in rows]) for f in FIELDS[cell]}}
        if cell != "rnn":
            for phase in ("trained", "matched"):
                derived[f"{cell}_{phase}_gate_path"] = spread([r[f"{phase}_gate_path"] for r in rows])
                derived[f"{cell}_minus_rnn_{phase}_x_log10_ratio"] = spread([
                    g[f"{phase}_x_log10_ratio"] - r[f"{phase}_x_log10_ratio"]
                    for g, r in zip(rows, runs["rnn"], strict=True)])
    return {"comparisons": comparisons, "derived": derived}
