"""Figures of the bias_variance experiment: the decomposition against degree, and the double-descent curve."""

from __future__ import annotations

import numpy as np

from dlps import stats
from dlps.experiments.bias_variance.spec import DD_PERCENT, DEGREES, THRESHOLD, VARIANT, p_grid


def _geometric(values) -> dict:
    """A summarize()-shaped dict on the original scale from the mean and t interval of log10 values."""
    s = stats.summarize(np.log10(np.asarray(values, dtype=float)))
    return {k: 10 ** s[k] for k in ("mean", "ci_low", "ci_high")}


PLOTS = ["decomposition.png", "double_descent.png"]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """bias², variance, noise and total against degree; the double-descent curve with the threshold marked."""
    import matplotlib.pyplot as plt

    from dlps.plotting import band, save

    s, rows, k = m["variants"][VARIANT], runs[VARIANT], len(m["seeds"])
    degrees = list(DEGREES)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_yscale("log")
    for key, label in (("bias2", "bias²"), ("variance", "variance"), ("total", "expected test MSE (direct)")):
        band(ax, degrees, [_geometric([r[f"{key}_d{d}"] for r in rows]) for d in degrees], label=label, marker="o",
             ms=3)
    ax.plot(degrees, [_geometric([r[f"decomposed_d{d}"] for r in rows])["mean"] for d in degrees], "k+", ms=8,
            label="bias² + variance + noise")
    ax.axhline(s["noise"]["mean"], color="0.5", ls=":", label="noise σ²")
    best = m["derived"]["optimum"]["argmin_degree"]
    ax.axvline(best, color="0.3", ls="--", lw=1, label=f"lowest total (degree {best})")
    ax.set(xlabel="polynomial degree", ylabel="squared error (log scale)",
           title=f"Bias–variance decomposition (n_train={cfg['n_train']}, geometric mean, 95% CI, {k} seeds)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7)
    files = [save(fig, out_dir / "decomposition.png",
                  f"Bias², variance, noise and directly measured expected test MSE against polynomial degree, each "
                  f"from {cfg['n_datasets']} training sets per replicate (geometric mean over {k} replicates with "
                  "the 95% t interval of the mean log10; log scale). Crosses: bias² + variance + noise, which should "
                  "lie on the direct total. bias² is the plug-in estimate, which exceeds the true bias² by about "
                  "variance / n_datasets: at high degree that excess, not real bias, is what the bias² curve shows.")]

    n = cfg["dd_n_train"]
    ps = p_grid(n)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set(xscale="log", yscale="log")
    band(ax, ps, [_geometric([r[f"dd_mse_r{q}"] for r in rows]) for q in DD_PERCENT],
         label="test MSE (min-norm least squares)", marker="o", ms=3)
    i = DD_PERCENT.index(THRESHOLD)
    ax.axvspan(ps[i - 1], ps[i + 1], color="0.88", label=f"grid neighbours p = {ps[i - 1]}, {ps[i + 1]}")
    ax.axvline(n, color="k", ls="--", lw=1, label=f"interpolation threshold p = n_train = {n}")
    ax.set(xlabel="number of random ReLU features p (log scale)", ylabel="test MSE (log scale)",
           title=f"Double descent ({cfg['dd_draws']} draws per seed, geometric mean, 95% CI, {k} seeds)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7)
    files.append(save(fig, out_dir / "double_descent.png",
                      "Test MSE of minimum-norm least squares on random ReLU features against the number of "
                      f"features, with the interpolation threshold p = n_train = {n} and its grid neighbours marked "
                      f"(geometric mean over {k} replicates with the 95% t interval of the mean log10; log–log)."))
    return files
