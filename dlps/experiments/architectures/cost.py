"""The architectures experiment's cost: its training FLOPs for the roofline and its model for the bench
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

import math

from dlps.experiments.architectures.spec import CONFIGS
from dlps.models.flops import recurrent_forward


def train_flops(cfg: dict, runs: dict) -> float:
    total = 0.0
    for variant, rows in runs.items():
        kind = CONFIGS[variant][0]
        for r in rows:
            for lag in cfg["lags"]:
                f, steps = recurrent_forward(kind, cfg["hidden"], 2, lag), r[f"steps_lag{lag}"]
                evals = math.ceil(steps / cfg["eval_every"])
                total += (3 * steps * cfg["batch"] + evals * cfg["n_val"] + cfg["n_test"]) * f
    return total


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    """The LSTM at the longest lag as the stage trains it: the members of its first LSTM job (every LSTM variant
    over a chunk of seeds) on the from-scratch cells, batched as one model."""
    from dlps.experiments.architectures.train import groups

    lag = max(cfg["lags"])
    variants, seeds = next(g for g in groups(cfg, cfg["variants"]) if CONFIGS[g[0][0]][0] == "lstm")
    members = len(variants) * len(seeds)
    return [(f"{members} LSTM members batched (from-scratch cells), hidden {cfg['hidden']}, length {lag}, batch "
             f"{cfg['batch']} (architectures)", "fp32", cfg["threads"] or threads, "recurrent_members",
             ("lstm", 2, cfg["hidden"], lag, cfg["batch"], members))]
