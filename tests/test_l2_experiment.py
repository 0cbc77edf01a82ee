"""The L2 experiment: params rules, variant names, data split, deterministic tiny training, analysis, findings, figures."""

from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from dvc.utils.serialize._yaml import loads_yaml
from tinydata import image_classes

from dlps.experiments import l2 as exp
from dlps.params import ParamError
from dlps.pipeline import aggregate

CFG = {"lam": [0, 1.0e-4, 1.0e-3, 1.0e-2, 1.0e-1], "claim_lam": 1.0e-3, "n_train": 60, "n_val": 40,
       "channels": [4, 8], "hidden": 16, "epochs": 3, "batch_size": 16, "optimizer": "sgd", "lr": 0.05,
       "momentum": 0.9, "bf16": False, "channels_last": False, "train_eval_size": 30, "alpha": 0.05}
ORDER = ["0", "0.0001", "0.001", "0.01", "0.1"]


@pytest.fixture
def ctx(tmp_path):
    """A prepared-data folder holding tiny learnable CIFAR-shaped arrays."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar10"
    folder.mkdir()
    for split, n in (("train", 150), ("test", 50)):
        x, y = image_classes(n, (3, 32, 32), rng)
        np.save(folder / f"x_{split}.npy", x)
        np.save(folder / f"y_{split}.npy", y)
    return SimpleNamespace(data=tmp_path, device="cpu")


def test_variants_match_dvc_item_strings():
    text = "lam: [0, 1.0e-4, 1.0e-3, 1.0e-2, 1.0e-1, 0.5]"
    cfg = exp.SCHEMA.check("l2", CFG | yaml.safe_load(text))
    dvc_items = [str(v) for v in loads_yaml(text)["lam"]]  # what DVC substitutes for ${item.lam}
    assert exp.variants(cfg) == dvc_items == ORDER + ["0.5"]
    assert exp.variants(exp.SCHEMA.check("l2", CFG | {"lam": [0.0, 0.0001, 1]})) == ["0.0", "0.0001", "1"]


def test_yaml_1e_minus_4_string_is_rejected_with_a_hint():
    with pytest.raises(ParamError, match=r"l2.lam\[1\].*1.0e-4"):
        exp.SCHEMA.check("l2", CFG | yaml.safe_load("lam: [0, 1e-4, 1.0e-3]"))
    with pytest.raises(ParamError, match=r"l2.lam\[1\]"):
        exp.SCHEMA.check("l2", CFG | {"lam": [0, -1.0e-3, 1.0e-3]})


@pytest.mark.parametrize("change, words", [({"lam": [1.0e-4, 1.0e-3, 1.0e-2]}, "includes 0"),
                                           ({"claim_lam": 0.5}, "one of l2.lam"),
                                           ({"n_train": 40_000, "n_val": 20_000}, "at most 10000"),
                                           ({"channels": [4, 4, 4, 4, 4, 4]}, "at most 5 stages")])
def test_check_rejects_bad_sections(change, words):
    with pytest.raises(ParamError, match=words):
        exp.check(CFG | change)


def test_train_is_deterministic_and_records_history(ctx):
    first = exp.train(CFG, "0.01", [0, 1], ctx)
    second = exp.train(CFG, "0.01", [0, 1], ctx)
    assert first == second
    for run in first["runs"]:
        assert set(run) == {"seed", "weight_hist", *exp.METRICS}
        assert all(type(run[k]) in (int, float) for k in ("seed", *exp.METRICS))
        assert run["gap"] == pytest.approx(run["train_acc"] - run["test_acc"])
        assert len(run["weight_hist"]) == exp.HIST_BINS and all(type(c) is int for c in run["weight_hist"])
    rows = first["history"]
    assert len(rows) == 2 * CFG["epochs"] and all(list(r) == list(exp.HISTORY_KEYS) for r in rows)
    assert [r["epoch"] for r in rows[: CFG["epochs"]]] == list(range(1, CFG["epochs"] + 1))
    assert rows[-1]["weight_norm"] == pytest.approx(first["runs"][-1]["weight_norm"])


def test_penalty_shrinks_weights_and_hist_counts_every_weight(ctx):
    cfg = CFG | {"epochs": 4}
    small, big = (exp.train(cfg, v, [0], ctx)["runs"][0] for v in ("0", "0.1"))
    assert big["weight_norm"] < small["weight_norm"]
    n_weights = 3 * 4 * 9 + 4 * 8 * 9 + 8 * 8 * 8 * 16 + 16 * 10  # conv kernels and matrices, no biases
    assert sum(small["weight_hist"]) == n_weights


def metrics_for(cfg, runs):
    return aggregate(exp, cfg, runs)


WOBBLE = [0.0, 1.0, -1.0]


def fake_runs(val, test, train, norm):
    """Synthetic per-seed metrics: fixed values per λ plus a small seed-dependent wobble (of a different size
    per λ, so that paired differences are not constant)."""
    return {v: [{"seed": s, "val_acc": val[i] + 0.002 * w * k, "test_acc": test[i] + 0.002 * w * k,
                 "train_acc": train[i] + 0.001 * w * k, "gap": train[i] - test[i], "weight_norm": norm[i] + 0.1 * w * k,
                 "test_loss": 1.0, "train_loss": 0.5, "weight_hist": [1] * exp.HIST_BINS}
                for s, w in enumerate(WOBBLE)] for i, (v, k) in enumerate(zip(ORDER, (1, 2, 1.5, 0.5, 3)))}


def test_best_lam_on_validation_and_claim_holds_when_distinguishable():
    # λ = 0.01 has the best *test* accuracy, but 0.001 wins on validation, so λ* = 0.001.
    runs = fake_runs(val=[0.50, 0.51, 0.56, 0.53, 0.30], test=[0.49, 0.50, 0.55, 0.56, 0.30],
                     train=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    runs["0.01"] = [r | {"test_acc": 0.52 + 0.001 * s} for s, r in enumerate(runs["0.01"])]
    m = metrics_for(CFG, runs)
    d = m["derived"]
    assert d["best_lam"] == "0.001" and d["neighbours"] == ["0.0001", "0.01"]
    assert d["improvement_pp"] == pytest.approx(6.0)
    assert d["weight_norm_monotone_mean"] and d["weight_norm_monotone_all_seeds"]
    found = exp.findings(CFG, m)
    assert [f["shown"] for f in found] == [True, True, True, True]
    assert "+" not in found[2]["text"] and "6 pp" in found[2]["text"] and "The claim holds" in found[3]["text"]


def test_findings_say_not_shown_when_effects_are_absent():
    # Flat accuracies, a norm that rises at the end, and λ* = 0.01 rather than the claimed 0.001.
    runs = fake_runs(val=[0.50, 0.50, 0.50, 0.51, 0.50], test=[0.50] * 5,
                     train=[0.9] * 5, norm=[40, 38, 25, 10, 12])
    runs["0.1"] = [r | {"train_acc": 0.9 + (0.002 if r["seed"] == 1 else -0.001)} for r in runs["0.1"]]
    m = metrics_for(CFG, runs)
    assert m["derived"]["best_lam"] == "0.01" and not m["derived"]["weight_norm_monotone_mean"]
    found = exp.findings(CFG, m)
    assert [f["shown"] for f in found] == [False, False, False, False]
    assert all("not shown" in f["text"] for f in found)
    assert "best λ here is 0.01" in found[3]["text"]


def test_lam_star_zero_is_reported_as_no_improvement():
    runs = fake_runs(val=[0.56, 0.55, 0.54, 0.53, 0.30], test=[0.55, 0.54, 0.53, 0.52, 0.30],
                     train=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    m = metrics_for(CFG, runs)
    assert m["derived"]["best_lam"] == "0" and m["derived"]["neighbours"] == ["0.0001"]
    found = exp.findings(CFG, m)
    assert not found[2]["shown"] and "no λ > 0 improves" in found[2]["text"]


def test_plot_writes_all_figures(ctx, tmp_path):
    cfg = CFG | {"lam": [0, 1.0e-3, 1.0e-1], "epochs": 2}
    results = {v: exp.train(cfg, v, [0, 1], ctx) for v in exp.variants(cfg)}
    runs = {v: r["runs"] for v, r in results.items()}
    m = metrics_for(cfg, runs)
    out = tmp_path / "figs"
    out.mkdir()
    figures = exp.plot(cfg, m, runs, {v: r["history"] for v, r in results.items()}, out)
    assert [f["file"] for f in figures] == ["acc_vs_lam.png", "weight_norm_vs_lam.png", "curves.png",
                                            "weight_hist.png"]
    assert all((out / f["file"]).stat().st_size > 0 for f in figures)
