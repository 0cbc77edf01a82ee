"""L2's power calculation: the pilot's spread of the per-step weight-norm drops and of the accuracy gain."""

LAMS = ["0", "0.0001", "0.001", "0.01", "0.1"]  # the pilot's λ grid
CANDIDATES = ["0.0001", "0.001", "0.01"]  # the λ that could be λ* (0.1 underfits: τ = 20 steps); largest sd counts


def plans(pilot):
    norms = {k: pilot.col(k, "weight_norm") for k in LAMS}
    sds = [pilot.sd((norms[x] - norms[y]) / norms[x]) for x, y in zip(LAMS, LAMS[1:])]
    base = pilot.col("0", "test_acc")
    acc = [pilot.sd(pilot.col(k, "test_acc") - base) for k in CANDIDATES]
    return [
        {"finding": "weight_norm_decreases", "rule": "one-sided t per λ step, relative drop − 1%, all steps",
         "test": "t", "sds": sds, "effect": 0.01, "at": "true drop 2% per step (2 × min_norm_drop)",
         "sd": f"{100 * max(sds):.2f}% (largest step)"},
        {"finding": "beats_baseline", "rule": "one-sided paired t, test accuracy λ* − 0", "test": "t",
         "sds": [max(acc)], "effect": 0.01, "at": "true gain 1 pp (min_gain)",
         "sd": f"{100 * max(acc):.2f} pp (largest of λ = {', '.join(CANDIDATES)} vs 0)"},
    ]
