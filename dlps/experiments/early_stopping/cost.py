"""The early-stopping experiment's cost: its training FLOPs for the roofline
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.models.flops import image_training, mlp_forward


def train_flops(cfg: dict, runs: dict) -> float:
    f = mlp_forward([784, *cfg["hidden"], 10])
    return image_training(cfg, runs, f, lambda r: r["epochs_full"], cfg["n_train"], 2 + len(cfg["patience"]))
