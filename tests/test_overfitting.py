"""Experiment 1.1 logic: data draws, fits and the findings' verdicts."""

import numpy as np

from dlps.experiments import overfitting as exp
from dlps.pipeline import aggregate

CFG = {"seeds": list(range(12)), "degrees": [1, 3, 15], "n_train": 30, "n_test": 500, "noise_std": 0.3,
       "alpha": 0.01}


def test_same_seed_same_data_new_seed_new_data():
    (x1, y1), (xt1, _) = exp.sample(CFG, 0)
    (x2, y2), _ = exp.sample(CFG, 0)
    (x3, _), _ = exp.sample(CFG, 1)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and not np.array_equal(x1, x3)
    assert not np.array_equal(x1, xt1[:30])  # the test set is an independent draw


def test_fit_recovers_an_exact_polynomial():
    x = np.linspace(0, 1, 20)
    y = 1 - 2 * x + 3 * x ** 3
    assert np.allclose(exp.fit(x, y, 3)(x), y)


def metrics_for(cfg):
    return aggregate(exp, cfg, {v: exp.train(cfg, v, cfg["seeds"], None)["runs"] for v in exp.variants(cfg)})


def test_findings_show_under_and_overfitting():
    findings = exp.findings(CFG, metrics_for(CFG))
    assert [f["shown"] for f in findings] == [True, True]


def test_findings_say_not_shown_when_the_effect_is_absent():
    cfg = CFG | {"degrees": [3, 4, 5], "seeds": [0, 1, 2]}  # nothing overfits or underfits clearly
    findings = exp.findings(cfg, metrics_for(cfg))
    assert not all(f["shown"] for f in findings)
    assert any("not shown" in f["text"] for f in findings)
