"""Training for the bias_variance experiment: per seed, one Monte Carlo replicate of the polynomial degree sweep
(bias², variance, noise and the directly measured expected test MSE) and of the random-feature double descent."""

from __future__ import annotations

import numpy as np

from dlps.models import montecarlo as mc
from dlps.experiments.bias_variance.spec import DD_PERCENT, DEGREES, p_grid


def degree_metrics(cfg: dict, seed: int) -> dict:
    """bias², variance, the decomposed and directly measured test MSE and their z score, per degree."""
    cols = mc.degree_sweep(DEGREES, n_datasets=cfg["n_datasets"], n_train=cfg["n_train"],
                           noise_sd=cfg["noise_std"], n_test=cfg["n_test"], seed=seed)
    row = {"noise": float(cols["noise"][0])}
    for i, d in enumerate(DEGREES):
        se = cols["expected_mse_se"][i]
        row |= {f"bias2_d{d}": cols["bias2"][i], f"variance_d{d}": cols["variance"][i],
                f"decomposed_d{d}": cols["decomposed_mse"][i], f"total_d{d}": cols["expected_mse"][i],
                f"total_se_d{d}": se, f"z_d{d}": float((cols["decomposed_mse"][i] - cols["expected_mse"][i]) / se)}
    totals = cols["expected_mse"]
    best = int(np.argmin(totals))
    row |= {"z_identity_max": float(max(abs(row[f"z_d{d}"]) for d in DEGREES)),
            "argmin_degree": DEGREES[best], "min_total": float(totals[best])}
    return row


def cv_metrics(cfg: dict, seed: int, totals: dict[int, float], best: int) -> dict:
    """k-fold cross-validation on each of the replicate's training sets (the same sets the sweep fits): how often
    it picks the degree of lowest expected test MSE (`best`), how far off it lands, and what that costs in
    expected test MSE relative to the best degree's."""
    x, y = mc.training_sets(np.random.default_rng(seed), cfg["n_datasets"], cfg["n_train"], cfg["noise_std"])
    picked = mc.cv_degrees(x, y, DEGREES, cfg["cv_folds"])
    off = np.abs(picked - best)
    excess = np.array([totals[int(d)] for d in picked]) / totals[best] - 1
    return {"cv_hits": int(np.sum(off == 0)), "cv_within1": int(np.sum(off <= 1)),
            "cv_mean_abs_degree_error": float(off.mean()), "cv_median_degree": float(np.median(picked)),
            "cv_mean_excess_mse": float(excess.mean()), "cv_median_excess_mse": float(np.median(excess))}


def dd_metrics(cfg: dict, seed: int) -> dict:
    """Double-descent test MSE at each feature count, and where its peak lies."""
    n = cfg["dd_n_train"]
    ps = p_grid(n)
    res = mc.double_descent(ps, n_train=n, n_test=cfg["dd_n_test"], input_dim=cfg["dd_input_dim"],
                            noise_sd=cfg["dd_noise_std"], n_draws=cfg["dd_draws"], seed=seed)
    mse = [float(v) for v in res["test_mse"]]
    peak = int(np.argmax(mse))
    row = {f"dd_mse_r{q}": v for q, v in zip(DD_PERCENT, mse)}
    return row | {"dd_peak_p": ps[peak], "dd_peak_ratio": ps[peak] / n, "dd_peak_mse": mse[peak],
                  "dd_mse_at_max_p": mse[-1], "dd_best_under_mse": min(v for p, v in zip(ps, mse) if p < n)}


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Each seed is an independent replicate of both simulations (own datasets, test points, features)."""
    from threadpoolctl import threadpool_limits

    # Thousands of tiny least-squares fits: threaded BLAS only adds overhead (20x slower on busy shared
    # cores), and one thread keeps the summation order, hence the numbers, identical across machines.
    with threadpool_limits(limits=1, user_api="blas"):
        runs = []
        for seed in seeds:
            row = degree_metrics(cfg, seed)
            totals = {d: row[f"total_d{d}"] for d in DEGREES}
            runs.append({"seed": seed} | row | cv_metrics(cfg, seed, totals, int(row["argmin_degree"]))
                        | dd_metrics(cfg, seed))
    return {"runs": runs, "history": []}
