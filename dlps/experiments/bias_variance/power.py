"""Bias–variance's power calculation: the pilot's spread of the identity gap and of the log10 MSE contrasts."""

import numpy as np


def plans(pilot):
    bv = pilot.runs("all")
    gaps = [pilot.sd(np.array([(r[f"decomposed_d{k}"] - r[f"total_d{k}"]) / r[f"total_d{k}"] for r in bv]))
            for k in range(16)]

    def lg(key):
        return np.log10(np.array([r[key] for r in bv]))

    sd_end = max(pilot.sd(lg("total_d0") - lg("total_d3")), pilot.sd(lg("total_d15") - lg("total_d3")))
    peak = "dd_mse_r100"
    sd_dd = max(pilot.sd(lg(peak) - lg(k)) for k in bv[0] if k.startswith("dd_mse_r") and k != peak)
    return [
        {"finding": "identity", "rule": "TOST per degree, relative gap within ±5%, all 16", "test": "tost",
         "sds": [max(gaps)], "effect": 0.05, "at": "true gap 0", "sd": f"{max(gaps):.4f} (worst degree)"},
        {"finding": "old_claim", "rule": "one-sided paired t on log10 total, each end − optimum", "test": "t",
         "sds": [sd_end], "effect": 0.5, "at": "true 0.5 decades (×3.2)", "sd": f"{sd_end:.3f} decades"},
        {"finding": "double_descent", "rule": "one-sided paired t on log10 MSE, threshold − each of 3 points",
         "test": "t", "sds": [sd_dd], "effect": 0.5, "at": "true 0.5 decades (×3.2)",
         "sd": f"{sd_dd:.3f} decades (largest)"},
    ]
