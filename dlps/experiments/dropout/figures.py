"""Figures of the dropout experiment: loss curves per rate, and test accuracy and loss gap against the rate."""

from __future__ import annotations

import numpy as np

from dlps.experiments.dropout.spec import variants
from dlps.fmt import fmt


def mean_curve(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and the mean of `key` over seeds at each epoch (epochs every seed reached)."""
    seeds = sorted({int(r["seed"]) for r in rows})
    curves = [[float(r[key]) for r in rows if int(r["seed"]) == s] for s in seeds]
    n = min(len(c) for c in curves)
    return np.arange(1, n + 1), np.mean([c[:n] for c in curves], axis=0)


PLOTS = ["loss_curves.png", "acc_gap_vs_p.png", {"history": {"x": "epoch", "y": "val_loss"}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Loss curves per dropout rate, and test accuracy and loss gap against p with 95% CI bands."""
    import matplotlib.pyplot as plt

    from dlps.plotting import band, save

    names = variants(cfg)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_yscale("log")
    for i, name in enumerate(names):
        color = f"C{i}"
        ax.plot(*mean_curve(histories[name], "val_loss"), color=color, lw=1.8, label=f"p = {name} validation")
        ax.plot(*mean_curve(histories[name], "train_loss"), color=color, lw=1.2, ls="--", label=f"p = {name} train")
    ax.set(xlabel="epoch", ylabel="cross-entropy (eval mode, log scale)",
           title=f"Train and validation loss per dropout rate (mean of {len(m['seeds'])} seeds)")
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    files = [save(fig, out_dir / "loss_curves.png",
                  "Training loss (eval mode, dashed) and validation loss (solid) per epoch for each dropout rate, "
                  f"mean over seeds; {cfg['n_train']} training images, final weights tested.")]

    ps = [float(n) for n in names]
    low = min(float(r["train_acc"]) for rows in runs.values() for r in rows)
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.8))
    panels = (("test_acc", "test accuracy (%)", 100), ("loss_gap", "loss gap: test − train cross-entropy", 1))
    for ax, (metric, label, scale) in zip(axes, panels):
        scaled = [{k: x if k == "n" else scale * x for k, x in m["variants"][n][metric].items()} for n in names]
        band(ax, ps, scaled, label=label, marker="o")
        ax.set(xlabel="dropout rate p", ylabel=label)
    fig.suptitle(f"Test accuracy and generalisation gap against dropout rate (mean, 95% CI, {len(m['seeds'])} seeds)")
    files.append(save(fig, out_dir / "acc_gap_vs_p.png",
                      "Mean test accuracy (left) and generalisation gap in loss (right: test minus training "
                      "cross-entropy, eval mode, final weights) against dropout rate, with 95% Student-t confidence "
                      f"bands. The gap is shown in loss: the lowest training accuracy of any run is {fmt(100 * low, 4)}%, "
                      "so an accuracy gap would be little more than the test error."))
    return files
