"""The vanishing-gradients experiment's cost: its training FLOPs for the roofline and its model for the bench
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.experiments.vanishing_gradients.spec import LAYER
from dlps.models.flops import recurrent_forward


def train_flops(cfg: dict, runs: dict) -> float:
    total = 0.0
    for kind, rows in runs.items():
        for r in rows:
            for steps, length in ((r["steps"], cfg["train_length"]), (r["matched_steps"], cfg["matched_length"])):
                f = recurrent_forward(LAYER[kind], cfg["hidden"], 2, length)
                total += (3 * steps * cfg["train_batch"] + steps // cfg["eval_every"] * cfg["batch"]) * f
    return total


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    """The LSTM's training job as the stage runs it: every seed batched as one model on the from-scratch cells, on
    one thread (its training sets one)."""
    n = len(cfg["seeds"])
    return [(f"{n} LSTM members batched (from-scratch cells), hidden {cfg['hidden']}, length {cfg['train_length']}, "
             f"batch {cfg['train_batch']} (vanishing_gradients)", "fp32", 1,
             "recurrent_members", ("lstm", 2, cfg["hidden"], cfg["train_length"], cfg["train_batch"], n))]
