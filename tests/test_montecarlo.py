"""Tests for the bias-variance simulation and the random-features double-descent sweep."""

import numpy as np

from dlps.models import montecarlo as bv


def test_decomposition_matches_direct_test_error():
    models = {d: bv.polynomial_fit_predict(d) for d in (1, 3, 5)}
    models["ridge"] = bv.polynomial_fit_predict(9, ridge=1e-3)
    res = bv.simulate(models, n_datasets=300, seed=1)
    for r in res.values():
        assert r["noise"] == 0.3**2
        assert r["bias2"] >= 0 and r["variance"] > 0
        assert abs(r["decomposed_mse"] - r["expected_mse"]) < 3 * r["expected_mse_se"] + 1e-3


def test_degree_sweep_has_interior_optimum():
    res = bv.degree_sweep()
    total = np.array(res["expected_mse"])
    best = int(np.argmin(total))
    assert 0 < best < len(total) - 1
    # Bias dominates at degree 0, variance at the top degree.
    assert res["bias2"][0] > res["variance"][0]
    assert res["variance"][-1] > res["bias2"][-1]


def test_simulation_is_deterministic():
    a = bv.degree_sweep(degrees=[2], n_datasets=50, seed=3)
    b = bv.degree_sweep(degrees=[2], n_datasets=50, seed=3)
    c = bv.degree_sweep(degrees=[2], n_datasets=50, seed=4)
    assert a == b and a != c


def test_double_descent_peaks_at_interpolation_threshold():
    res = bv.double_descent()
    n = res["interpolation_threshold"]
    p = np.array(res["n_features"])
    test = np.array(res["test_mse"])
    peak = int(np.argmax(test))
    assert 0.75 * n <= p[peak] <= 1.25 * n
    # First descent: a classical optimum well below the threshold, far under the peak.
    assert test[p < 0.75 * n].min() < test[peak] / 10
    # Second descent: error keeps falling beyond the peak and ends far below it.
    beyond = test[p >= 2 * n]
    assert beyond[-1] < beyond[0] < test[peak] / 10
    assert beyond[-1] < test[p < 0.75 * n].min()
    # Past the threshold the minimum-norm solution interpolates the training data.
    assert max(np.array(res["train_mse"])[p >= 2 * n]) < 1e-8


def test_cross_validation_picks_the_true_degree_of_a_noiseless_polynomial():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (20, 30))
    y = 1 - 2 * x + 3 * x ** 3 + 1e-6 * rng.standard_normal(x.shape)
    picked = bv.cv_degrees(x, y, range(8), folds=5)
    assert picked.min() >= 3 and np.bincount(picked).argmax() == 3  # never too simple; mostly exactly right
