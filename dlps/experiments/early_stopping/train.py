"""Training for the early-stopping experiment: one full run per seed, and every patience read off it."""

from __future__ import annotations

import math

import numpy as np

from dlps.experiments.early_stopping.spec import HISTORY_KEYS, NAME


def train_config(cfg: dict, patience: int | None = None) -> dict:
    """fit()'s settings: no L2, no dropout; `patience` None runs all max_epochs (the full run)."""
    return {"epochs": cfg["max_epochs"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
            "lr": cfg["lr"], "momentum": cfg["momentum"], "l2": 0.0, "patience": patience,
            "min_delta": cfg["min_delta"]}


def make_model(cfg: dict, data: dict, rt=None):
    """The MLP, on rt's device (None: where torch puts it)."""
    from dlps.models.vision import MLP

    model = MLP(int(np.prod(tuple(data["x_train"].shape[1:]))), cfg["hidden"], 10)
    return model if rt is None else model.to(rt.device)


def full_run(cfg: dict, t: dict, seed: int, rt=None):
    """Train for max_epochs, keeping a deep copy of the weights at every new validation-loss minimum.

    Early stopping with any patience ends this curve at `early_stop_epoch`'s stop epoch and restores
    the weights of its best epoch, which is always a new running minimum; so one full run gives every
    patience's stopped-and-restored model. Returns (model, stats, history, snapshots by epoch).
    """
    from dlps.models.training import clone_state, fit, input_stats

    model = make_model(cfg, t, rt)
    stats_ = input_stats(t["x_train"])
    snapshots: dict[int, dict] = {}
    best = [math.inf]

    def log(row: dict) -> None:  # called after each epoch's evaluation, same tie-breaking as fit's best_state
        loss = row["val_loss"]
        if not snapshots or (math.isfinite(loss) and loss < best[0]):
            snapshots[row["epoch"]] = clone_state(model)
            best[0] = loss if math.isfinite(loss) else math.inf

    history, _, _ = fit(model, t, train_config(cfg), seed, stats=stats_, log=log, rt=rt,
                          label=f"{NAME} seed {seed}")
    return model, stats_, history, snapshots


def run_seed(cfg: dict, data: dict[str, np.ndarray], seed: int, rt) -> tuple[dict, list]:
    """One full run; per patience: stop and best epoch, epochs and time saved, restored vs final test accuracy."""
    from dlps.data import images
    from dlps.models.training import early_stop_epoch, evaluate

    t = images.to_tensors(data, rt.device)
    model, st, history, snapshots = full_run(cfg, t, seed, rt)
    test = lambda: evaluate(model, t["x_test"], t["y_test"], st, rt=rt)[1]  # noqa: E731
    test_acc_full = test()
    val_losses = [r["val_loss"] for r in history]
    times = np.array([r["epoch_time_s"] for r in history])
    n = len(history)
    best_full = early_stop_epoch(val_losses, n + 1, 0.0)[1]  # patience longer than the run: the overall minimum
    model.load_state_dict(snapshots[best_full])
    run = {"seed": seed, "epochs_full": n, "best_epoch_full": best_full,
           "val_loss_rise": float(val_losses[-1] - val_losses[best_full - 1]),
           "test_acc_full": float(test_acc_full), "test_acc_best_full": float(test()),
           "time_full_s": float(times.sum())}
    for p in cfg["patience"]:
        stop, best = early_stop_epoch(val_losses, p, cfg["min_delta"])
        model.load_state_dict(snapshots[best])
        acc = test()
        run |= {f"stop_epoch_p{p}": stop, f"best_epoch_p{p}": best, f"stopped_p{p}": int(stop < n),
                f"epochs_saved_p{p}": cfg["max_epochs"] - stop,
                f"epochs_saved_frac_p{p}": (cfg["max_epochs"] - stop) / cfg["max_epochs"],
                f"test_acc_restored_p{p}": float(acc), f"acc_change_pp_p{p}": float(100 * (acc - test_acc_full)),
                f"time_saved_s_p{p}": float(times[stop:].sum()),
                f"time_saved_frac_p{p}": float(times[stop:].sum() / times.sum())}
    rows = [{k: (seed if k == "seed" else r[k]) for k in HISTORY_KEYS} for r in history]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed's full run (its own training subset, initial weights and batch order)."""
    from dlps.models.training import train_per_seed

    rt = ctx.runtime(cfg["precision"], key=f"{NAME}.precision")
    return train_per_seed(ctx, "fashion_mnist", cfg, seeds, NAME, lambda data, seed: run_seed(cfg, data, seed, rt))
