"""Monte Carlo simulations (NumPy only): the bias–variance decomposition of polynomial least squares, and the
double-descent curve of minimum-norm least squares on random ReLU features."""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.polynomial import legendre

FitPredict = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def target_fn(x: np.ndarray) -> np.ndarray:
    """The known regression function f(x) = sin(2πx) on [0, 1]."""
    return np.sin(2 * np.pi * x)


def polynomial_fit_predict(degree: int, ridge: float = 0.0) -> FitPredict:
    """A least-squares polynomial of `degree` (ridge penalty `ridge` on non-constant coefficients).

    The basis is Legendre polynomials of 2x - 1, which are near-orthogonal on [0, 1]; the
    monomial Vandermonde matrix would be ill-conditioned long before degree 12.
    """

    def fit_predict(x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        a = legendre.legvander(2 * x - 1, degree)
        if ridge > 0:
            penalty = np.sqrt(ridge) * np.eye(degree + 1)[1:]
            a = np.vstack([a, penalty])
            y = np.concatenate([y, np.zeros(degree)])
        coef = np.linalg.lstsq(a, y, rcond=None)[0]
        return legendre.legvander(2 * x_test - 1, degree) @ coef

    return fit_predict


def training_sets(rng: np.random.Generator, n_datasets: int, n_train: int, noise_sd: float):
    """n_datasets training sets of n_train points each: x ~ U[0, 1], y = f(x) + N(0, noise_sd²)."""
    x = rng.uniform(0, 1, (n_datasets, n_train))
    return x, target_fn(x) + noise_sd * rng.standard_normal(x.shape)


def cv_degrees(x: np.ndarray, y: np.ndarray, degrees, folds: int) -> np.ndarray:
    """The degree k-fold cross-validation picks for each training set (rows of x, y): the lowest mean held-out
    squared error of a least-squares Legendre polynomial; points are split into folds in their (random) order.
    Vectorised over training sets: every fold's fits are one batched pseudo-inverse."""
    n = x.shape[1]
    fold = np.arange(n) % folds
    errors = np.zeros((x.shape[0], len(degrees)))
    for j, d in enumerate(degrees):
        for k in range(folds):
            tr, te = fold != k, fold == k
            coef = np.linalg.pinv(legendre.legvander(2 * x[:, tr] - 1, d)) @ y[:, tr, None]
            pred = (legendre.legvander(2 * x[:, te] - 1, d) @ coef)[..., 0]
            errors[:, j] += ((pred - y[:, te]) ** 2).sum(axis=1)
    return np.asarray(degrees)[np.argmin(errors, axis=1)]


def simulate(
    models: dict[object, FitPredict],
    n_datasets: int = 500,
    n_train: int = 30,
    noise_sd: float = 0.3,
    n_test: int = 100,
    seed: int = 0,
) -> dict[object, dict[str, float]]:
    """Decompose the expected test error of each model into bias², variance and noise.

    Every model is fitted to the same `n_datasets` training sets of `n_train` points
    (x ~ U[0, 1], y = f(x) + N(0, noise_sd²)), so differences between models are not
    Monte Carlo noise in the data. At `n_test` fixed test points (drawn once from U[0, 1]):

    - bias2: mean over test points of (average prediction - f)²;
    - variance: mean over test points of the variance of the prediction across datasets;
    - noise: noise_sd²;
    - expected_mse: directly measured squared error against fresh noisy test targets,
      drawn independently for every dataset, with its standard error expected_mse_se
      (datasets are i.i.d., so the SE is that of the per-dataset mean error).

    bias2 + variance + noise should equal expected_mse within Monte Carlo error. bias2 is the
    plain plug-in estimate, which exceeds the true bias² by about variance / n_datasets: a
    negligible share of the total, but it dominates bias2 itself where the true bias is ~0.
    """
    rng = np.random.default_rng(seed)
    x, y = training_sets(rng, n_datasets, n_train, noise_sd)
    x_test = rng.uniform(0, 1, n_test)
    f_test = target_fn(x_test)
    y_test = f_test + noise_sd * rng.standard_normal((n_datasets, n_test))

    results = {}
    for name, fit_predict in models.items():
        pred = np.stack([fit_predict(x[d], y[d], x_test) for d in range(n_datasets)])
        mean_pred = pred.mean(axis=0)
        per_dataset_mse = ((pred - y_test) ** 2).mean(axis=1)
        bias2 = float(((mean_pred - f_test) ** 2).mean())
        variance = float(pred.var(axis=0).mean())
        noise = noise_sd**2
        results[name] = {
            "bias2": bias2,
            "variance": variance,
            "noise": noise,
            "decomposed_mse": bias2 + variance + noise,
            "expected_mse": float(per_dataset_mse.mean()),
            "expected_mse_se": float(per_dataset_mse.std(ddof=1) / np.sqrt(n_datasets)),
        }
    return results


def degree_sweep(degrees=range(13), **kwargs) -> dict[str, list[float]]:
    """bias², variance, noise and expected test MSE for polynomial degrees; kwargs go to `simulate`.

    Returns columns (lists of floats) keyed as in `simulate`, plus "degree".
    """
    degrees = list(degrees)
    res = simulate({d: polynomial_fit_predict(d) for d in degrees}, **kwargs)
    return _columns("degree", degrees, res)


def _columns(key: str, values: list, res: dict) -> dict[str, list[float]]:
    cols = {key: values}
    for field in next(iter(res.values())):
        cols[field] = [res[v][field] for v in values]
    return cols


def relu_features(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Random ReLU features φ(x) = relu(x·w + b) for x of shape (n, d), w (d, p), b (p,)."""
    return np.maximum(x @ w + b, 0.0)


def double_descent(
    n_features=None,
    n_train: int = 40,
    n_test: int = 500,
    input_dim: int = 5,
    noise_sd: float = 0.2,
    n_draws: int = 30,
    seed: int = 0,
) -> dict:
    """Test MSE of minimum-norm least squares on random ReLU features as the feature count p grows.

    Training targets are y = sin(2π·mean(x)) + N(0, noise_sd²) with x ~ U[0, 1]^input_dim; test
    error is measured against the noiseless function. Each draw samples a new training set,
    test set and feature map. A feature is relu(w·(x - c)) with w ~ N(0, I) and c ~ U[0, 1]^d,
    so every kink passes through the data region and no feature is dead. Every p is fitted with
    np.linalg.lstsq, which returns the minimum-norm solution once p > n_train. Test error peaks
    near the interpolation threshold p = n_train, where the square feature matrix is nearly
    singular, and falls again beyond it.

    Returns "n_features", "test_mse" (mean over draws), "test_mse_median", "test_mse_se",
    "train_mse" (lists of floats) and "interpolation_threshold" (= n_train).
    """
    if n_features is None:
        n_features = sorted({int(round(v)) for v in np.geomspace(2, 20 * n_train, 40)} | {n_train})
    n_features = list(n_features)
    p_max = max(n_features)
    rng = np.random.default_rng(seed)
    test = np.zeros((n_draws, len(n_features)))
    train = np.zeros_like(test)
    for k in range(n_draws):
        x_train = rng.uniform(0, 1, (n_train, input_dim))
        y_train = target_fn(x_train.mean(axis=1)) + noise_sd * rng.standard_normal(n_train)
        x_test = rng.uniform(0, 1, (n_test, input_dim))
        f_test = target_fn(x_test.mean(axis=1))
        w = rng.standard_normal((input_dim, p_max))
        b = -np.sum(w * rng.uniform(0, 1, (input_dim, p_max)), axis=0)
        phi_train, phi_test = relu_features(x_train, w, b), relu_features(x_test, w, b)
        for j, p in enumerate(n_features):
            # Nested feature sets (the first p columns) keep each draw's curve smooth in p.
            coef = np.linalg.lstsq(phi_train[:, :p], y_train, rcond=None)[0]
            train[k, j] = np.mean((phi_train[:, :p] @ coef - y_train) ** 2)
            test[k, j] = np.mean((phi_test[:, :p] @ coef - f_test) ** 2)
    return {
        "n_features": n_features,
        "test_mse": test.mean(axis=0).tolist(),
        "test_mse_median": np.median(test, axis=0).tolist(),
        "test_mse_se": (test.std(axis=0, ddof=1) / np.sqrt(n_draws)).tolist(),
        "train_mse": train.mean(axis=0).tolist(),
        "interpolation_threshold": n_train,
    }
