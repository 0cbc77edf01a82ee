"""The vanishing-gradients experiment's cost: its training FLOPs for the roofline
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.models.flops import recurrent_forward


def train_flops(cfg: dict, runs: dict) -> float:
    total = 0.0
    for kind, rows in runs.items():
        for r in rows:
            for steps, length in ((r["steps"], cfg["train_length"]), (r["matched_steps"], cfg["matched_length"])):
                f = recurrent_forward(kind, cfg["hidden"], 2, length)
                total += (3 * steps * cfg["train_batch"] + steps // cfg["eval_every"] * cfg["batch"]) * f
    return total
