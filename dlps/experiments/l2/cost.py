"""The l2 experiment's cost: its training FLOPs for the roofline, its CNN for the bench, and what the bench's
fp32-vs-bf16 check trains (neither the spec nor the training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.experiments.l2.spec import variants
from dlps.models.flops import cnn_forward, image_training


def train_flops(cfg: dict, runs: dict) -> float:
    f = cnn_forward(cfg["channels"], cfg["hidden"])
    return image_training(cfg, runs, f, lambda r: cfg["epochs"], min(cfg["n_train"], cfg["train_eval_size"]), 1)


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    """The CNN at the stage's thread count per job, in fp32 and, if the stage differs, as the stage runs it."""
    model = f"SmallCNN {cfg['channels']}, hidden {cfg['hidden']}, batch {cfg['batch_size']}"
    n = cfg["threads"] or threads
    rows = [(f"{model} (l2)", "fp32", n, "cnn", (cfg["channels"], cfg["hidden"], cfg["batch_size"], False, False))]
    if cfg["precision"] != "fp32" or cfg["channels_last"]:
        rows.append((f"{model}{', channels_last' if cfg['channels_last'] else ''} (l2)", cfg["precision"], n, "cnn",
                     (cfg["channels"], cfg["hidden"], cfg["batch_size"], cfg["precision"] == "bf16",
                      cfg["channels_last"])))
    return rows


def precision_reference(cfg: dict) -> dict | None:
    """What the bench's precision check trains (dlps/tools/bench_precision.py): the CNN at λ = 0 in fp32 without
    channels_last, against the precision (and layout) the experiment uses; None when it already runs in fp32."""
    if cfg["precision"] == "fp32":
        return None
    return {"variant": next(v for v in variants(cfg) if float(v) == 0),
            "fp32": {"precision": "fp32", "channels_last": False}, "metrics": ("val_acc", "test_acc")}
