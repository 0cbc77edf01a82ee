"""The numpy_rnn experiment's descriptive analysis, apart from its judging rules: the baselines' constant losses and the
derived numbers the findings and figures quote."""

from __future__ import annotations

import numpy as np

from dlps.experiments.columns import values as _col
from dlps.experiments.numpy_rnn.spec import LN2, VARIANT


def constant(rows: list[dict], key: str) -> float:
    """A baseline's loss: deterministic given params, so one value for every seed (checked, not assumed)."""
    values = set(_col(rows, key).tolist())
    if len(values) != 1:
        raise ValueError(f"{key} differs between seeds ({sorted(values)}); the baselines must not depend on the seed")
    return values.pop()


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """One variant and constant baselines, so there is nothing to pair; the derived numbers the findings and
    figures quote."""
    rows = runs[VARIANT]
    bigram = constant(rows, "bigram_test_nats")
    return {"comparisons": {}, "derived": {
        "bigram_test_nats": bigram, "unigram_test_nats": constant(rows, "unigram_test_nats"),
        "bar_test_nats": cfg["bar"] * bigram,
        "rnn_minus_bigram_test_bits": float(np.mean(_col(rows, "rnn_test_nats")) - bigram) / LN2,
        "twin_max_abs_dloss_f64_worst_seed": float(max(_col(rows, "twin_max_abs_dloss_f64"))),
        "twin_max_abs_dloss_f32_worst_seed": float(max(_col(rows, "twin_max_abs_dloss_f32"))),
        "numpy_f32_vs_f64_max_abs_dloss_worst_seed": float(max(_col(rows, "numpy_f32_vs_f64_max_abs_dloss"))),
        "train_chars_per_seed": cfg["steps"] * cfg["batch"] * cfg["seq_len"],
        "split_chars": rows[0].get("split_chars"),
    }}
