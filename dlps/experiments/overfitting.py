"""Experiment 1.1: under- and overfitting with polynomial regression on sparse noisy data."""

from __future__ import annotations

import numpy as np

from dlps.params import Float, Int, ListOf, ParamError, Section, SEEDS
from dlps.report_text import fmt, fmt_p, summary_text

NAME = "overfitting"
TITLE = "Over- and underfitting (polynomial regression)"
QUESTION = ("Does a too-simple model underfit (high train and test error) and a too-flexible one overfit "
            "(lowest train error but higher test error than a model of the right complexity)?")
METRICS = ("train_mse", "test_mse")

SCHEMA = Section({
    "seeds": SEEDS,
    "degrees": ListOf(Int(0, 30), min_len=3, unique=True),
    "n_train": Int(2, 10_000),
    "n_test": Int(10, 1_000_000),
    "noise_std": Float(0, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for i, d in enumerate(cfg["degrees"]):
        if d >= cfg["n_train"]:
            raise ParamError(f"overfitting.degrees[{i}]: got {d}; allowed: below overfitting.n_train "
                             f"({cfg['n_train']}), or the least-squares fit is not unique")


def target(x: np.ndarray) -> np.ndarray:
    """The smooth nonlinear truth every training set is drawn around."""
    return np.sin(2 * np.pi * x)


def draw(rng: np.random.Generator, n: int, noise_std: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(0.0, 1.0, n)
    return x, target(x) + rng.normal(0.0, noise_std, n)


def sample(cfg: dict, seed: int):
    """The seed's training set and an independent test set from the same distribution."""
    rng = np.random.default_rng(seed)
    return draw(rng, cfg["n_train"], cfg["noise_std"]), draw(rng, cfg["n_test"], cfg["noise_std"])


def fit(x: np.ndarray, y: np.ndarray, degree: int) -> np.polynomial.Legendre:
    """Least-squares polynomial in the Legendre basis on [0, 1] (well conditioned up to high degree)."""
    return np.polynomial.Legendre.fit(x, y, degree, domain=[0.0, 1.0])


def variants(cfg: dict) -> list[str]:
    return [str(d) for d in cfg["degrees"]]


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    degree = int(variant)
    runs = []
    for seed in seeds:
        (x, y), (xt, yt) = sample(cfg, seed)
        model = fit(x, y, degree)
        runs.append({"seed": seed, "train_mse": float(np.mean((model(x) - y) ** 2)),
                     "test_mse": float(np.mean((model(xt) - yt) ** 2))})
    return {"runs": runs, "history": []}


def _roles(cfg: dict) -> tuple[int, list[int], int]:
    degrees = sorted(cfg["degrees"])
    return degrees[0], degrees[1:-1], degrees[-1]


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Paired Wilcoxon tests (MSE over seeds is heavy-tailed): the extremes against each middle degree."""
    low, middle, high = _roles(cfg)
    comparisons = {}
    for mid in middle:
        comparisons[f"train_mse_{low}_vs_{mid}"] = paired(str(low), str(mid), "train_mse", "wilcoxon")
        comparisons[f"test_mse_{low}_vs_{mid}"] = paired(str(low), str(mid), "test_mse", "wilcoxon")
        comparisons[f"test_mse_{high}_vs_{mid}"] = paired(str(high), str(mid), "test_mse", "wilcoxon")
    return {"comparisons": comparisons, "derived": {}}


def findings(cfg: dict, m: dict) -> list[dict]:
    """Verdicts computed from the metrics: each says whether the classic effect is there."""
    low, middle, high = _roles(cfg)
    alpha, v, c = cfg["alpha"], m["variants"], m["comparisons"]
    out = []
    for mid in middle:
        tr, te = c[f"train_mse_{low}_vs_{mid}"], c[f"test_mse_{low}_vs_{mid}"]
        shown = tr["mean_diff"] > 0 and tr["p_value"] < alpha and te["mean_diff"] > 0 and te["p_value"] < alpha
        out.append({"claim": f"Degree {low} underfits compared with degree {mid}", "shown": shown, "text": (
            f"Degree {low}: train MSE {summary_text(v[str(low)]['train_mse'])} vs {summary_text(v[str(mid)]['train_mse'])} "
            f"for degree {mid} ({fmt_p(tr['p_value'])}); test MSE {summary_text(v[str(low)]['test_mse'])} vs "
            f"{summary_text(v[str(mid)]['test_mse'])} ({fmt_p(te['p_value'])}). "
            + ("Both errors are significantly higher: it underfits." if shown else
               f"Not both significantly higher at α = {alpha}: underfitting is not shown."))})
        te = c[f"test_mse_{high}_vs_{mid}"]
        lowest_train = v[str(high)]["train_mse"]["mean"] <= min(v[k]["train_mse"]["mean"] for k in v)
        shown = lowest_train and te["mean_diff"] > 0 and te["p_value"] < alpha
        out.append({"claim": f"Degree {high} overfits compared with degree {mid}", "shown": shown, "text": (
            f"Degree {high}: train MSE {summary_text(v[str(high)]['train_mse'])} "
            f"({'the lowest' if lowest_train else 'not the lowest'} of all degrees); test MSE "
            f"{summary_text(v[str(high)]['test_mse'])} vs {summary_text(v[str(mid)]['test_mse'])} for degree {mid} "
            f"(median {fmt(v[str(high)]['test_mse']['median'])} vs {fmt(v[str(mid)]['test_mse']['median'])}; "
            f"{fmt_p(te['p_value'])}). "
            + ("It fits the training points best and generalises significantly worse: it overfits." if shown else
               f"The overfitting pattern is not shown at α = {alpha}."))})
    return out


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
