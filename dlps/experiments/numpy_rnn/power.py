"""The NumPy RNN's power calculation: the per-seed spread of the RNN-to-bigram loss ratio (agreement with PyTorch
is a check, not a primary: no plan)."""


def plans(pilot):
    ratio = pilot.col("rnn", "rnn_over_bigram")
    return [{"finding": "beats_bar", "rule": "one-sided t, RNN/bigram test loss − 0.85", "test": "t",
             "sds": [pilot.sd(ratio)], "effect": 0.05, "at": "true ratio 0.80 (0.05 below the bar)",
             "sd": f"{pilot.sd(ratio):.4f}"}]
