"""Training for the overfitting experiment: least-squares polynomials fitted to each seed's sparse noisy sample."""

from __future__ import annotations

import numpy as np


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


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    degree = int(variant)
    runs = []
    for seed in seeds:
        (x, y), (xt, yt) = sample(cfg, seed)
        model = fit(x, y, degree)
        runs.append({"seed": seed, "train_mse": float(np.mean((model(x) - y) ** 2)),
                     "test_mse": float(np.mean((model(xt) - yt) ** 2))})
    return {"runs": runs, "history": []}
