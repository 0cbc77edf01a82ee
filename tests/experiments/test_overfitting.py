"""The overfitting experiment: data draws, fits, and the findings' verdicts by their rules."""

import numpy as np

from dlps.experiments.overfitting import spec, train
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.verdicts import p_of
from dlps.experiments import load

EXP = load("overfitting")

CFG = {"seeds": list(range(12)), "degrees": [1, 3, 15], "n_train": 30, "n_test": 500, "noise_std": 0.3,
       "alpha": 0.01}


def test_same_seed_same_data_new_seed_new_data():
    (x1, y1), (xt1, _) = train.sample(CFG, 0)
    (x2, y2), _ = train.sample(CFG, 0)
    (x3, _), _ = train.sample(CFG, 1)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and not np.array_equal(x1, x3)
    assert not np.array_equal(x1, xt1[:30])  # the test set is an independent draw


def test_fit_recovers_an_exact_polynomial():
    x = np.linspace(0, 1, 20)
    y = 1 - 2 * x + 3 * x ** 3
    assert np.allclose(train.fit(x, y, 3)(x), y)


def judged(cfg):
    runs = {v: train.train(cfg, v, cfg["seeds"], None)["runs"] for v in spec.variants(cfg)}
    findings = findings_of(EXP, cfg, aggregate(EXP, cfg, runs), runs)
    check_findings("overfitting", findings)
    return findings


def test_findings_show_under_and_overfitting():
    assert [(f["verdict"], f["primary"]) for f in judged(CFG)] == [("shown", True), ("shown", True)]


def test_findings_are_not_shown_when_the_effect_is_absent():
    cfg = CFG | {"degrees": [3, 4, 5], "seeds": [0, 1, 2]}  # nothing overfits or underfits clearly
    findings = judged(cfg)
    assert all(f["verdict"] != "shown" for f in findings)
    assert all(p_of(f) is not None and "sign test" in f["rule"] for f in findings)
