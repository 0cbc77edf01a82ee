"""Training for the dropout experiment: one MLP per seed and dropout rate on a small MNIST subset."""

from __future__ import annotations

import numpy as np

from dlps.experiments.dropout.spec import HISTORY_KEYS, NAME


def train_config(cfg: dict) -> dict:
    """fit()'s settings: a fixed number of epochs, no early stopping, no L2 (dropout is the only factor)."""
    return {"epochs": cfg["epochs"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
            "lr": cfg["lr"], "momentum": cfg["momentum"], "l2": 0.0, "patience": None}


def run_seed(cfg: dict, p: float, data: dict[str, np.ndarray], seed: int, rt) -> tuple[dict, list]:
    """Train one MLP with dropout rate p on rt's device and precision; return its per-seed metrics and history.

    The final weights are tested: selecting the best-validation-loss weights would add early
    stopping, a second regulariser, to every variant, and dropout would no longer be the only factor.
    The test accuracy of the best-validation-loss weights is recorded as well, for comparison.
    """
    from dlps.data import images
    from dlps.models.vision import MLP
    from dlps.models.training import evaluate, fit, input_stats

    t = images.to_tensors(data, rt.device)
    model = MLP(int(np.prod(data["x_train"].shape[1:])), cfg["hidden"], 10, float(p)).to(rt.device)
    stats = input_stats(t["x_train"])
    history, best_state, _ = fit(model, t, train_config(cfg), seed, stats=stats, rt=rt,
                                    label=f"{NAME} p={p:g} seed {seed}")
    test_loss, test_acc = evaluate(model, t["x_test"], t["y_test"], stats, rt=rt)
    model.load_state_dict(best_state)
    _, test_acc_best_val = evaluate(model, t["x_test"], t["y_test"], stats, rt=rt)
    last = history[-1]
    val_losses = [r["val_loss"] for r in history]
    best_epoch = 1 + int(np.argmin(val_losses))
    run = {"seed": seed, "test_acc": float(test_acc), "test_loss": float(test_loss),
           "train_loss": float(last["train_loss"]), "loss_gap": float(test_loss - last["train_loss"]),
           "gap": float(last["train_acc"] - test_acc), "train_acc": float(last["train_acc"]),
           "val_acc": float(last["val_acc"]), "best_val_epoch": best_epoch,
           "val_loss_rise": float(last["val_loss"] - min(val_losses)),
           "test_acc_best_val": float(test_acc_best_val)}
    rows = [{k: (seed if k == "seed" else r[k]) for k in HISTORY_KEYS} for r in history]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one dropout rate: same data split, initial weights and batch order across rates."""
    from dlps.models.training import train_per_seed

    p = float(variant)
    rt = ctx.runtime(cfg["precision"], key=f"{NAME}.precision")
    return train_per_seed(ctx, "mnist", cfg, seeds, NAME, lambda data, seed: run_seed(cfg, p, data, seed, rt))
