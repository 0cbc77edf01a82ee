"""Figures of the overfitting experiment: the fits of one seed, and train/test error against degree."""

from __future__ import annotations

import numpy as np

from dlps.experiments.overfitting.train import fit, sample, target


PLOTS = ["mse_vs_degree.png", "fits.png"]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Fitted curves for the first seed, and train/test MSE against degree with 95% CI bands."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save, band

    seed = m["seeds"][0]
    (x, y), (xt, yt) = sample(cfg, seed)
    grid = np.linspace(0, 1, 400)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(xt[:300], yt[:300], s=6, c="0.8", label="test points (300 shown)")
    ax.plot(grid, target(grid), "k--", lw=1.5, label="true function sin(2πx)")
    for d in sorted(cfg["degrees"]):
        ax.plot(grid, fit(x, y, d)(grid), lw=1.8, label=f"degree {d}")
    ax.scatter(x, y, s=28, c="k", zorder=5, label=f"training points (n={cfg['n_train']})")
    ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title=f"Polynomial fits to one training set (seed {seed})")
    ax.legend(fontsize=8, loc="lower left")
    files = [save(fig, out_dir / "fits.png", f"Polynomial fits of each degree to the training set of seed {seed}, "
                  "with the true function and held-out test points.")]

    degrees = sorted(cfg["degrees"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_yscale("log")
    for metric, label in (("train_mse", "train"), ("test_mse", "test")):
        band(ax, degrees, [m["variants"][str(d)][metric] for d in degrees], label=f"{label} MSE", marker="o")
    ax.axhline(cfg["noise_std"] ** 2, color="0.5", ls=":", label="noise variance σ²")
    ax.set(xlabel="polynomial degree", ylabel="MSE (log scale)",
           title=f"Train and test error vs degree (mean, 95% CI, {len(m['seeds'])} seeds)")
    ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "mse_vs_degree.png", "Mean train and test MSE against polynomial degree with "
                      "95% Student-t confidence bands over seeds (log scale; a band's lower edge is clipped "
                      "where it would go below zero)."))
    return files
