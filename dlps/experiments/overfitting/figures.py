"""Figures of the overfitting experiment: the fits of one seed, and train/test error against degree."""

from __future__ import annotations

import numpy as np

from dlps.experiments.overfitting.train import fit, sample, target


PLOTS = ["mse_vs_degree.png", "fits.png"]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Fitted curves for the first seed, and the median train/test MSE of each fitted degree with its quartiles."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

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
    pos = np.arange(len(degrees))  # one slot per fitted degree: no line across degrees that were never fitted
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_yscale("log")
    for (metric, label), shift in zip((("train_mse", "train"), ("test_mse", "test")), (-0.08, 0.08)):
        per_seed = [np.array([r[metric] for r in runs[str(d)]]) for d in degrees]
        med = np.array([np.median(v) for v in per_seed])
        lo, hi = (np.array([np.percentile(v, q) for v in per_seed]) for q in (25, 75))
        ax.errorbar(pos + shift, med, yerr=[med - lo, hi - med], fmt="o", capsize=4, label=f"{label} MSE")
    ax.axhline(cfg["noise_std"] ** 2, color="0.5", ls=":", label="noise variance σ²")
    ax.set_xticks(pos, [str(d) for d in degrees])
    ax.set(xlabel="polynomial degree (the degrees fitted)", ylabel="MSE (log scale)",
           title=f"Train and test error vs degree (median, quartiles, {len(m['seeds'])} seeds)")
    ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "mse_vs_degree.png", "Median train and test MSE of each fitted degree over "
                      "seeds, with bars from the lower to the upper quartile (log scale). Medians, because the test "
                      "MSE of a high-degree fit is heavy-tailed: a few seeds extrapolate wildly, and the findings use "
                      "sign tests for that reason."))
    return files
