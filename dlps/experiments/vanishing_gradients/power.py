"""Vanishing gradients' power calculation: the pilot's spread of the relative rate gap; the sign test's fewest pairs."""

import numpy as np


def plans(pilot):
    from dlps.experiments.vanishing_gradients.judge import relative_gap

    vg = pilot.runs("rnn")
    rel = [pilot.sd(relative_gap(np.array([r[f"rnn_rho{rho:g}_T{t}_slope"] for r in vg]),
                                 np.array([r[f"rnn_rho{rho:g}_T{t}_predicted_rate"] for r in vg]), rho))
           for rho in (0.5, 0.9, 1.0, 1.1, 1.5) for t in (25, 50, 100, 200)]
    return [
        {"finding": "old_claim", "rule": "TOST per (ρ, T), relative gap within ±0.2, all 20", "test": "tost",
         "sds": [max(rel)], "effect": 0.2, "at": "true gap 0", "sd": f"{max(rel):.3f} (worst point)"},
        {"finding": "matched_lstm_vs_rnn", "rule": "one-sided exact sign test, matched pairs", "test": "sign",
         "at": "every pair the same sign (the fewest that can reach α)", "sd": "—"},
    ]
