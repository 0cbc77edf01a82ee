"""Training for the early-stopping experiment: one full run per seed, and every patience read off it."""

from __future__ import annotations

import math

import numpy as np

from dlps.experiments.early_stopping.spec import HISTORY_KEYS, MONITORS, NAME, col


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


def curve(history: list[dict], monitor: str) -> list[float]:
    """A monitor's validation curve as a loss to minimise (accuracy negated), as early_stop_epoch reads it."""
    return [(-r[monitor] if monitor == "val_acc" else r[monitor]) for r in history]


def full_run(cfg: dict, t: dict, seed: int, rt=None):
    """Train for max_epochs, keeping a deep copy of the weights at every new best of any monitor.

    Early stopping with any patience on any monitor ends this curve at `early_stop_epoch`'s stop epoch and
    restores the weights of its best epoch, which is always a new running best of that monitor; so one full run
    gives every (monitor, patience)'s stopped-and-restored model. Returns (model, stats, history, snapshots by
    epoch).
    """
    from dlps.models.training import clone_state, fit, input_stats

    model = make_model(cfg, t, rt)
    stats_ = input_stats(t["x_train"])
    snapshots: dict[int, dict] = {}
    best = {m: math.inf for m in MONITORS}

    def log(row: dict) -> None:  # called after each epoch's evaluation, same tie-breaking as fit's best_state
        new = False
        for m in MONITORS:
            x = curve([row], m)[0]
            if math.isfinite(x) and x < best[m]:
                best[m], new = x, True
        if new or not snapshots:
            snapshots[row["epoch"]] = clone_state(model)

    history, _, _ = fit(model, t, train_config(cfg), seed, stats=stats_, log=log, rt=rt,
                          label=f"{NAME} seed {seed}")
    return model, stats_, history, snapshots


def run_seed(cfg: dict, data: dict[str, np.ndarray], seed: int, rt) -> tuple[dict, list]:
    """One full run; per monitor and patience: stop and best epoch, epochs and time saved, restored vs final test
    accuracy."""
    from dlps.data import images
    from dlps.models.training import early_stop_epoch, evaluate

    t = images.to_tensors(data, rt.device)
    model, st, history, snapshots = full_run(cfg, t, seed, rt)
    test = lambda: evaluate(model, t["x_test"], t["y_test"], st, rt=rt)[1]  # noqa: E731
    test_acc_full = test()
    val_losses = [r["val_loss"] for r in history]
    times = np.array([r["epoch_time_s"] for r in history])
    n, n_max = len(history), cfg["max_epochs"]
    run = {"seed": seed, "epochs_full": n, "test_acc_full": float(test_acc_full), "time_full_s": float(times.sum())}
    for m in MONITORS:
        values = curve(history, m)
        best_full = early_stop_epoch(values, n + 1, 0.0)[1]  # patience longer than the run: the overall best
        model.load_state_dict(snapshots[best_full])
        run |= {f"best_epoch_full_{m}": best_full, f"test_acc_best_full_{m}": float(test())}
        for p in cfg["patience"]:
            stop, best = early_stop_epoch(values, p, cfg["min_delta"])
            model.load_state_dict(snapshots[best])
            acc = test()
            run |= {col("stop_epoch", m, p): stop, col("best_epoch", m, p): best, col("stopped", m, p): int(stop < n),
                    col("epochs_saved", m, p): n_max - stop, col("epochs_saved_frac", m, p): (n_max - stop) / n_max,
                    # the patience's overhead: epochs trained past the full run's best epoch of the monitor
                    col("epochs_past_best", m, p): stop - best_full,
                    col("test_acc_restored", m, p): float(acc),
                    col("acc_change_pp", m, p): float(100 * (acc - test_acc_full)),
                    col("time_saved_s", m, p): float(times[stop:].sum()),
                    col("time_saved_frac", m, p): float(times[stop:].sum() / times.sum())}
    run["val_loss_rise"] = float(val_losses[-1] - val_losses[run["best_epoch_full_val_loss"] - 1])
    rows = [{k: (seed if k == "seed" else r[k]) for k in HISTORY_KEYS} for r in history]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed's full run (its own training subset, initial weights and batch order)."""
    from dlps.models.training import train_per_seed

    rt = ctx.runtime(cfg["precision"], key=f"{NAME}.precision")
    return train_per_seed(ctx, "fashion_mnist", cfg, seeds, NAME, lambda data, seed: run_seed(cfg, data, seed, rt))
