"""Figures of the early-stopping experiment: where each patience stops on the full run's curves (on the registered
monitor), and epochs saved against restored test accuracy (both monitors)."""

from __future__ import annotations

import numpy as np

from dlps.experiments.early_stopping.spec import MONITORS, VARIANT, col
from dlps.fmt import fmt


def _curves(rows: list[dict], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mine = [r for r in rows if int(r["seed"]) == seed]
    return (np.array([int(r["epoch"]) for r in mine]), np.array([float(r["val_loss"]) for r in mine]),
            np.array([float(r["train_loss"]) for r in mine]), np.array([float(r["val_acc"]) for r in mine]))


PLOTS = ["val_loss.png", "saved_vs_acc.png", {"history": {"x": "epoch", "y": "val_loss"}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Validation curves with the registered monitor's stop and best epochs marked; epochs saved vs test accuracy
    per monitor and patience."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    rows, hist, mon = runs[VARIANT], histories[VARIANT], cfg["monitor"]
    shown = rows[:3]
    all_p = sorted(cfg["patience"])
    fig, axes = plt.subplots(1, len(shown), figsize=(4.4 * len(shown), 3.8), squeeze=False)
    for ax, run in zip(axes[0], shown):
        epochs, val, train, acc = _curves(hist, run["seed"])
        ax.plot(epochs, val, "k-", lw=1.8, label="validation loss")
        ax.plot(epochs, train, color="0.6", ls="--", lw=1.2, label="training loss (eval mode)")
        ax2 = ax.twinx()
        ax2.plot(epochs, 100 * acc, color="C4", lw=1.4, label="validation accuracy (right axis)")
        ax2.set(ylabel="validation accuracy (%)")
        watched, wax = (val, ax) if mon == "val_loss" else (100 * acc, ax2)
        for i, p in enumerate(all_p):
            stop, best = run[col("stop_epoch", mon, p)], run[col("best_epoch", mon, p)]
            ax.axvline(stop, color=f"C{i}", ls=":", lw=1.5, label=f"stop, patience {p}")
            wax.plot(best, watched[best - 1], "o", color=f"C{i}", ms=8 - 1.5 * i, mfc="none", mew=1.8,
                     label=f"restored (best) epoch, patience {p}")
        ax.set(yscale="log", xlabel="epoch", ylabel="cross-entropy (log scale)", title=f"seed {run['seed']}")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Full {cfg['max_epochs']}-epoch runs: where early stopping on {mon} would stop and which epoch "
                 "it restores")
    files = [save(fig, out_dir / "val_loss.png",
                  "Validation loss (black), eval-mode training loss (dashed) and validation accuracy (purple, right "
                  "axis) of the full run per seed, with the stop epoch (dotted line) and the restored best epoch "
                  "(circle, on the monitored curve) for each patience under the registered monitor. A run stopped "
                  "early with the same seed follows exactly these curves up to its stop epoch.")]

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    per_mon = m["derived"]["per_monitor"]
    full = m["variants"][VARIANT]["test_acc_full"]
    ax.axhspan(100 * full["ci_low"], 100 * full["ci_high"], color="0.85", label="full run, final epoch (95% CI)")
    ax.axhline(100 * full["mean"], color="0.4", lw=1.2)
    ax.axhline(100 * full["mean"] - cfg["max_acc_drop_pp"], color="C3", ls="--", lw=1,
               label=f"bar: full − {fmt(cfg['max_acc_drop_pp'])} pp")
    ax.axvline(100 * cfg["min_saved_frac"], color="C3", ls=":", lw=1,
               label=f"bar: {fmt(100 * cfg['min_saved_frac'])}% of epochs saved")
    for w in MONITORS:
        for i, p in enumerate(all_p):
            s, a = per_mon[w][str(p)]["epochs_saved_frac"], per_mon[w][str(p)]["test_acc_restored"]
            ax.errorbar(100 * s["mean"], 100 * a["mean"],
                        xerr=[[100 * (s["mean"] - s["ci_low"])], [100 * (s["ci_high"] - s["mean"])]],
                        yerr=[[100 * (a["mean"] - a["ci_low"])], [100 * (a["ci_high"] - a["mean"])]],
                        fmt="o" if w == mon else "s", mfc=None if w == mon else "none", color=f"C{i}", capsize=3,
                        label=f"{w}, patience {p}" + (" (default)" if p == cfg["default_patience"] else "")
                        + ("" if w == mon else " (secondary)"))
    ax.set(xlabel="epochs saved vs the full run (%)", ylabel="test accuracy (%)",
           title=f"Epochs saved vs restored test accuracy (mean, 95% CI, {len(m['seeds'])} seeds)")
    ax.legend(fontsize=7)
    files.append(save(fig, out_dir / "saved_vs_acc.png",
                      "Per monitor (filled: the registered one; hollow squares: the other) and patience: fraction of the epoch budget saved by stopping early against the test accuracy "
                      "of the restored best weights, mean with 95% Student-t intervals over seeds; the grey band "
                      "is the full run's final test accuracy, the red lines the bar."))
    return files
