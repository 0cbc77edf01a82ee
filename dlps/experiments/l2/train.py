"""Training for the L2 experiment: one small CNN per seed and penalty strength λ on a CIFAR-10 subset."""

from __future__ import annotations

import numpy as np

from dlps.experiments.l2.spec import CURVE_KEYS, HIST_BINS, HIST_LIMIT, HISTORY_KEYS, NAME


def train_config(cfg: dict, lam: float) -> dict:
    """fit()'s settings: a fixed number of epochs (no early stopping), explicit L2 of strength λ."""
    return {"epochs": cfg["epochs"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
            "lr": cfg["lr"], "momentum": cfg["momentum"], "l2": float(lam), "patience": None,
            "channels_last": cfg["channels_last"], "train_eval_size": cfg["train_eval_size"]}


def weight_hist(model) -> list[int]:
    """Counts of all weights (conv kernels and matrices, biases excluded) in HIST_BINS fixed bins."""
    w = np.concatenate([p.detach().float().cpu().numpy().ravel() for p in model.parameters() if p.dim() >= 2])
    counts, _ = np.histogram(np.clip(w, -HIST_LIMIT, HIST_LIMIT), bins=HIST_BINS, range=(-HIST_LIMIT, HIST_LIMIT))
    return [int(c) for c in counts]


def run_seed(cfg: dict, lam: float, data: dict[str, np.ndarray], seed: int, rt) -> tuple[dict, list]:
    """Train one CNN with penalty λ on rt's device and precision; return its per-seed metrics and history rows.

    The final weights are evaluated: on the whole training subset (eval mode), the validation
    split (used to choose λ) and the test set (reported).
    """
    from dlps.data import images
    from dlps.models.vision import SmallCNN
    from dlps.models.training import evaluate, fit, input_stats, weight_norm

    t = images.to_tensors(data, rt.device)
    model = SmallCNN(10, tuple(cfg["channels"]), cfg["hidden"]).to(rt.device)
    stats = input_stats(t["x_train"])
    norms = []
    history, _, _ = fit(model, t, train_config(cfg, lam), seed, stats=stats,
                        log=lambda row: norms.append(weight_norm(model)), rt=rt,
                        label=f"{NAME} lambda={lam:g} seed {seed}")
    kw = dict(stats=stats, rt=rt, channels_last=cfg["channels_last"])
    train_loss, train_acc = evaluate(model, t["x_train"], t["y_train"], **kw)
    val_loss, val_acc = evaluate(model, t["x_val"], t["y_val"], **kw)
    test_loss, test_acc = evaluate(model, t["x_test"], t["y_test"], **kw)
    run = {"seed": seed, "val_acc": float(val_acc), "test_acc": float(test_acc), "train_acc": float(train_acc),
           "gap": float(train_acc - test_acc), "weight_norm": float(weight_norm(model)),
           "test_loss": float(test_loss), "train_loss": float(train_loss), "weight_hist": weight_hist(model),
           **{f"{k}_by_epoch": [float(r[k]) for r in history] for k in CURVE_KEYS}}
    rows = [{k: seed if k == "seed" else norm if k == "weight_norm" else r[k] for k in HISTORY_KEYS}
            for r, norm in zip(history, norms)]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one λ: same data split, initial weights and batch order across λ values."""
    from dlps.models.training import train_per_seed

    lam = float(variant)
    rt = ctx.runtime(cfg["precision"], key=f"{NAME}.precision")
    return train_per_seed(ctx, "cifar10", cfg, seeds, NAME, lambda data, seed: run_seed(cfg, lam, data, seed, rt))
