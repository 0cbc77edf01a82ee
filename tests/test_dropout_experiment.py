"""The dropout experiment: params rules, data split, deterministic tiny training, findings' verdicts and figures."""

from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from tinydata import image_classes

from dlps.experiments import dropout as exp
from dlps.params import ParamError
from dlps.pipeline import aggregate

CFG = {"p": [0.0, 0.2, 0.5], "n_train": 60, "n_val": 40, "hidden": [32, 32], "epochs": 4, "batch_size": 16,
       "optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "bf16": False, "alpha": 0.05}


@pytest.fixture
def ctx(tmp_path):
    """A prepared-data folder holding tiny learnable MNIST-shaped arrays."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for split, n in (("train", 150), ("test", 50)):
        x, y = image_classes(n, (28, 28), rng)
        np.save(folder / f"x_{split}.npy", x)
        np.save(folder / f"y_{split}.npy", y)
    return SimpleNamespace(data=tmp_path, device="cpu")


def test_variants_match_dvc_item_strings():
    cfg = exp.SCHEMA.check("dropout", CFG | yaml.safe_load("p: [0.0, 0.2, 0.5]"))
    assert exp.variants(cfg) == ["0.0", "0.2", "0.5"]
    assert exp.variants(exp.SCHEMA.check("dropout", CFG | {"p": [0, 0.5]})) == ["0", "0.5"]


@pytest.mark.parametrize("change, words", [({"p": [0.2, 0.5]}, "includes 0.0"),
                                           ({"n_train": 50_000, "n_val": 20_000}, "at most 10000")])
def test_check_rejects_bad_sections(change, words):
    with pytest.raises(ParamError, match=words):
        exp.check(CFG | change)


def test_rate_of_one_is_rejected():
    with pytest.raises(ParamError, match=r"dropout.p\[1\]"):
        exp.SCHEMA.check("dropout", CFG | {"p": [0.0, 1.0]})


def test_train_is_deterministic_and_records_history(ctx):
    first = exp.train(CFG, "0.5", [0, 1], ctx)
    second = exp.train(CFG, "0.5", [0, 1], ctx)
    assert first == second
    for run in first["runs"]:
        assert set(run) == {"seed", *exp.METRICS}
        assert all(type(v) in (int, float) for v in run.values())
        assert run["gap"] == pytest.approx(run["train_acc"] - run["test_acc"])
        assert 1 <= run["best_val_epoch"] <= CFG["epochs"]
    rows = first["history"]
    assert len(rows) == 2 * CFG["epochs"] and all(list(r) == list(exp.HISTORY_KEYS) for r in rows)
    assert [r["epoch"] for r in rows[: CFG["epochs"]]] == list(range(1, CFG["epochs"] + 1))


def metrics_for(cfg, runs):
    return aggregate(exp, cfg, runs)


def fake_runs(acc: dict[str, float], val: dict[str, float], epochs=100):
    """Synthetic per-seed metrics: a fixed accuracy per rate plus a small seed-dependent wobble."""
    runs = {}
    for v, a in acc.items():
        runs[v] = [{"seed": s, "test_acc": a + 0.001 * w, "test_loss": 0.3, "gap": 1 - a - 0.001 * w,
                    "train_acc": 1.0, "val_acc": val[v] + 0.001 * w, "best_val_epoch": 10 if v == "0.0" else 60,
                    "val_loss_rise": 0.2 + 0.01 * w, "test_acc_best_val": a}
                   for s, w in enumerate([0.0, 1.0, -1.0])]
    return runs


def test_best_rate_is_chosen_on_validation_and_findings_show_the_effect():
    cfg = CFG | {"epochs": 100}
    # p = 0.2 has the better test accuracy, but p = 0.5 wins on validation, so 0.5 is "best".
    runs = fake_runs({"0.0": 0.90, "0.2": 0.93, "0.5": 0.92}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92})
    m = metrics_for(cfg, runs)
    assert m["derived"]["best_p"] == "0.5"
    assert m["derived"]["improvement_pp"] == pytest.approx(2.0)
    assert m["derived"]["relative_error_reduction"] == pytest.approx(0.2)
    found = exp.findings(cfg, m)
    assert [f["shown"] for f in found] == [True, True, True, True]
    assert "+2 pp" in found[2]["text"] and "20% relative" in found[2]["text"]


def test_findings_say_not_shown_when_dropout_does_not_help():
    cfg = CFG | {"epochs": 100}
    runs = fake_runs({"0.0": 0.90, "0.2": 0.90, "0.5": 0.90}, {"0.0": 0.90, "0.2": 0.90, "0.5": 0.90})
    runs["0.5"] = [r | {"test_acc": r["test_acc"] + (0.002 if r["seed"] == 1 else -0.001)} for r in runs["0.5"]]
    found = exp.findings(cfg, metrics_for(cfg, runs))
    assert not found[0]["shown"] and "not shown" in found[0]["text"]
    assert not found[2]["shown"] and "not shown on any reading" in found[2]["text"]


def test_plot_writes_both_figures(ctx, tmp_path):
    cfg = CFG | {"p": [0.0, 0.5]}
    results = {v: exp.train(cfg, v, [0, 1], ctx) for v in exp.variants(cfg)}
    runs = {v: r["runs"] for v, r in results.items()}
    m = metrics_for(cfg, runs)
    out = tmp_path / "figs"
    out.mkdir()
    figures = exp.plot(cfg, m, runs, {v: r["history"] for v, r in results.items()}, out)
    assert [f["file"] for f in figures] == ["loss_curves.png", "acc_gap_vs_p.png"]
    assert all((out / f["file"]).stat().st_size > 0 for f in figures)
