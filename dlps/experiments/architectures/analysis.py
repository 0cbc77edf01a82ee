"""The architectures experiment's descriptive analysis, apart from its judging rules: per-lag summaries, success rates
and paired t-tests on log10 test MSE for the report's tables."""

from __future__ import annotations

import numpy as np

from dlps import stats
from dlps.experiments.architectures.spec import LAG_METRICS, MODELS, lag_key, parent


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Per-lag summaries, success rates, and paired t-tests on log10 test MSE at the longest lag: LSTM and GRU
    against the RNN, and every ablation against its unablated parent."""
    lags = sorted(cfg["lags"])
    longest = lags[-1]
    key = lag_key("log10_test_mse", longest)
    comparisons = {}
    for m in ("lstm", "gru"):
        comparisons[f"log10_test_mse_{m}_vs_rnn"] = paired(m, "rnn", key, "t")
    for v in runs:
        if v not in MODELS and parent(v) in runs:
            comparisons[f"log10_test_mse_{v}_vs_{parent(v)}"] = paired(v, parent(v), key, "t")
    per_lag = {v: {str(lag): {k: stats.summarize([r[lag_key(k, lag)] for r in rows]) for k in LAG_METRICS}
                   for lag in lags} for v, rows in runs.items()}
    success_rate = {v: {str(lag): float(np.mean([r[lag_key("success", lag)] for r in rows])) for lag in lags}
                    for v, rows in runs.items()}
    return {"comparisons": comparisons, "derived": {"longest_lag": longest, "per_lag": per_lag,
                                                    "success_rate": success_rate}}
