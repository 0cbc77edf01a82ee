"""The dropout experiment's cost: its training FLOPs for the roofline and its model for the bench
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.models.flops import image_training, mlp_forward


def train_flops(cfg: dict, runs: dict) -> float:
    f = mlp_forward([784, *cfg["hidden"], 10])
    return image_training(cfg, runs, f, lambda r: cfg["epochs"], cfg["n_train"], 2)


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    return [(f"MLP 784-{'-'.join(map(str, cfg['hidden']))}-10, batch {cfg['batch_size']} (dropout)", "fp32",
             cfg["threads"] or threads,
             "mlp", ([784, *cfg["hidden"], 10], cfg["batch_size"], False))]
