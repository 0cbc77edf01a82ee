"""The architectures' power calculation: the pilot's spread of the gated-minus-RNN log10 test MSE."""


def plans(pilot):
    key = "log10_test_mse_lag100"
    sd = max(pilot.sd(pilot.col(c, key) - pilot.col("rnn", key)) for c in ("lstm", "gru"))
    return [{"finding": "gated_vs_rnn", "rule": "one-sided paired t on log10 test MSE, LSTM − RNN and GRU − RNN",
             "test": "t", "sds": [sd], "effect": 1.0, "at": "true −1 decade (×10 lower MSE)",
             "sd": f"{sd:.2f} decades (larger)"}]
