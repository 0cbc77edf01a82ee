"""Bias–variance's power calculation: the per-replicate spread of the log10 MSE contrasts each primary's parts test
(the identity is a check, not a primary: no plan)."""

import numpy as np

from dlps.experiments.bias_variance.analysis import ABOVE, BELOW, HIGH, LOW, TOP, ranked_degrees
from dlps.experiments.bias_variance.spec import THRESHOLD


def plans(pilot):
    bv = pilot.runs("all")

    def lg(key):
        return np.log10(np.array([r[key] for r in bv]))

    best = ranked_degrees(bv)[0]
    ends = [pilot.sd(lg(f"total_d{end}") - lg(f"total_d{best}")) for end in (LOW, HIGH)]
    # only the three grid points the rule compares with the threshold, not the whole grid
    dd = [pilot.sd(lg(f"dd_mse_r{THRESHOLD}") - lg(f"dd_mse_r{q}")) for q in (BELOW, ABOVE, TOP)]
    return [
        {"finding": "old_claim", "rule": "one-sided paired t on log10 total, each end − optimum, both required",
         "test": "t", "sds": ends, "effect": 0.5, "at": "true 0.5 decades (×3.2) in each part",
         "sd": ", ".join(f"{s:.3f}" for s in ends) + " decades"},
        {"finding": "double_descent", "rule": f"one-sided paired t on log10 MSE, threshold − each of p = {BELOW}%, "
         f"{ABOVE}%, {TOP}% of n_train, all three required", "test": "t", "sds": dd, "effect": 0.5,
         "at": "true 0.5 decades (×3.2) in each part", "sd": ", ".join(f"{s:.3f}" for s in dd) + " decades"},
    ]
