"""The architectures' power calculation: the pilot's spread of the gated-minus-RNN log10 test MSE, each cell at its
chosen learning rate (metrics/pilot_v2/architectures/, lag 100 only)."""


def plans(pilot):
    key = "log10_test_mse_lag100"
    sds = [pilot.sd(pilot.col(c, key) - pilot.col("rnn", key)) for c in ("lstm", "gru")]
    return [{"finding": "gated_vs_rnn", "rule": "one-sided paired t on log10 test MSE, LSTM − RNN and GRU − RNN "
                                                "(intersection–union)",
             "test": "t", "sds": sds, "effect": 1.0, "at": "true −1 decade (×10 lower MSE) for each gated cell",
             "sd": f"LSTM − RNN {sds[0]:.2f}, GRU − RNN {sds[1]:.2f} decades"}]
