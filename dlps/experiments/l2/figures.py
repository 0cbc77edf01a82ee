"""Figures of the L2 experiment: accuracy and weight norm against λ, training curves, weight histograms."""

from __future__ import annotations

import numpy as np

from dlps.experiments.l2.spec import HIST_BINS, HIST_LIMIT, base as base_of, ordered


def _mean_curve(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and the mean of `key` over seeds at each epoch (epochs every seed reached)."""
    seeds = sorted({int(r["seed"]) for r in rows})
    curves = [[float(r[key]) for r in rows if int(r["seed"]) == s] for s in seeds]
    n = min(len(c) for c in curves)
    return np.arange(1, n + 1), np.mean([c[:n] for c in curves], axis=0)


def _positions(order: list[str]) -> tuple[list[float], float]:
    """x positions on a log axis: λ > 0 at λ, λ = 0 one decade left of the smallest positive λ."""
    positive = [float(k) for k in order if float(k) > 0]
    zero_x = min(positive) / 10 if positive else 1.0
    return [float(k) if float(k) > 0 else zero_x for k in order], zero_x


def _lam_axis(ax, order: list[str], zero_x: float) -> None:
    xs, _ = _positions(order)
    ax.set_xscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels(["0" if float(k) == 0 else k for k in order])
    ax.minorticks_off()
    ax.axvspan(zero_x / 2.2, zero_x * 2.2, color="0.92", zorder=0)
    ax.set_xlabel("L2 strength λ (log scale; λ = 0 in the shaded slot)")



def _log_ticks(axis) -> None:
    """Label a log axis at 1, 2, 3, 5 and 7 times each power of ten: a range within about one decade (the weight norms)
    would otherwise show a single label."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0, 7.0)))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


PLOTS = ["acc_vs_lam.png", "weight_norm_vs_lam.png", "curves.png", "weight_hist.png",
         {"history": {"x": "epoch", "y": ["val_loss", "val_acc"]}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Accuracy vs λ, weight norm vs λ, training curves per λ, and weight histograms λ = 0 vs λ*."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    order, base, n = ordered(cfg), base_of(cfg), len(m["seeds"])
    best = m["derived"]["best_lam"]
    xs, zero_x = _positions(order)

    def errorbars(ax, metric, label, scale, **kw):
        s = [m["variants"][k][metric] for k in order]
        mean = np.array([x["mean"] for x in s]) * scale
        err = np.array([[x["mean"] - x["ci_low"], x["ci_high"] - x["mean"]] for x in s]).T * scale
        ax.errorbar(xs, mean, yerr=err, capsize=4, marker="o", label=label, **kw)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    errorbars(ax, "val_acc", "validation", 100, lw=1.8)
    errorbars(ax, "test_acc", "test", 100, lw=1.2, ls="--")
    errorbars(ax, "train_acc", "train (eval mode)", 100, lw=1.0, ls=":")
    ax.axvline(xs[order.index(best)], color="k", lw=0.8, ls="-.", label=f"λ* = {best} (best validation)")
    _lam_axis(ax, order, zero_x)
    ax.set(ylabel="accuracy (%)", title=f"Accuracy vs L2 strength (mean, 95% CI, {n} seeds)")
    ax.legend(fontsize=8)
    files = [save(fig, out_dir / "acc_vs_lam.png",
                  "Validation, test and training accuracy (final weights) against λ with 95% Student-t confidence "
                  "intervals over seeds; λ = 0 sits in the shaded slot at the left of the log axis; λ* is chosen on "
                  "validation accuracy.")]

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    errorbars(ax, "weight_norm", "final ‖W‖", 1, lw=1.8)
    ax.set_yscale("log")
    _log_ticks(ax.yaxis)
    _lam_axis(ax, order, zero_x)
    ax.set(ylabel="weight norm ‖W‖ (log scale)", title=f"Final weight norm vs L2 strength (mean, 95% CI, {n} seeds)")
    files.append(save(fig, out_dir / "weight_norm_vs_lam.png",
                      "L2 norm of all conv kernels and weight matrices (biases excluded) after training, against λ, "
                      "with 95% confidence intervals over seeds."))

    fig, axes = plt.subplots(3, 1, figsize=(6.4, 9.6), sharex=True, layout="constrained")  # stacked: each panel legible on a phone
    for i, k in enumerate(order):
        color = f"C{i}"
        axes[0].plot(*_mean_curve(histories[k], "val_acc"), color=color, lw=1.8, label=f"λ = {k} validation")
        axes[0].plot(*_mean_curve(histories[k], "train_acc"), color=color, lw=1.1, ls="--", label=f"λ = {k} train")
        axes[1].plot(*_mean_curve(histories[k], "val_loss"), color=color, lw=1.8)
        axes[1].plot(*_mean_curve(histories[k], "train_loss"), color=color, lw=1.1, ls="--")
        axes[2].plot(*_mean_curve(histories[k], "weight_norm"), color=color, lw=1.8, label=f"λ = {k}")
    axes[0].set(ylabel="accuracy (eval mode)")
    axes[1].set(ylabel="cross-entropy (no penalty, log)", yscale="log")
    _log_ticks(axes[1].yaxis)
    axes[2].set(xlabel="epoch", ylabel="weight norm ‖W‖")
    axes[2].legend(fontsize=8)
    fig.suptitle(f"Training curves per λ (mean of {n} seeds;\nsolid validation, dashed train)")
    files.append(save(fig, out_dir / "curves.png",
                      "Per-epoch accuracy, cross-entropy (eval mode; train dashed, validation solid) and weight norm "
                      f"for each λ, mean over seeds; {cfg['n_train']} training images, training accuracy measured on "
                      f"the first {cfg['train_eval_size']} of them each epoch."))

    other = best if best != base else str(cfg["claim_lam"])
    seed = m["seeds"][0]
    edges = np.linspace(-HIST_LIMIT, HIST_LIMIT, HIST_BINS + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    largest = order[-1]
    shown = [(base, dict(color="C0", lw=1.6)), (other, dict(color="C3", lw=1.6))]
    if largest not in (base, other):
        shown.append((largest, dict(color="0.5", lw=1.0, ls="--")))
    for k, style in shown:
        counts = np.asarray(runs[k][0]["weight_hist"], dtype=float)
        label = f"λ = {k}" + (" (λ*)" if k == best else " (largest λ, for reference)" if k == largest else "")
        ax.stairs(np.maximum(counts, 0.5), edges, label=label, **style)
    ax.set_yscale("log")
    ax.set(xlabel="weight value", ylabel="count (log scale)", ylim=(0.5, None),
           title=f"Weight distribution after training (seed {seed})")
    ax.legend(fontsize=8)
    which = "λ* (chosen on validation)" if best != base else f"λ = {other} (λ* is 0 here)"
    files.append(save(fig, out_dir / "weight_hist.png",
                      f"Histogram of all conv and linear weights (biases excluded) after training, λ = {base} vs "
                      f"{which}, with the largest λ dashed for reference, seed {seed}; {HIST_BINS} bins over [−{HIST_LIMIT}, {HIST_LIMIT}], values outside "
                      "counted in the edge bins."))
    return files
