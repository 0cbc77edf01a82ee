"""The L2 experiment: params rules, variant names, deterministic tiny training, the findings' rules on hand-built
runs (the old claim is refuted only by a significantly better λ), figures."""

import numpy as np
import pytest
import yaml
from dvc.utils.serialize._yaml import loads_yaml

from dlps.experiments.l2 import spec, train
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.schema import ParamError
from dlps.experiments import load
from conftest import train_and_plot

EXP = load("l2")

CFG = {"seeds": [0, 1], "workers": 1, "threads": 0, "lam": [0, 1.0e-4, 1.0e-3, 1.0e-2, 1.0e-1], "claim_lam": 1.0e-3, "n_train": 60,
       "n_val": 40, "channels": [4, 8], "hidden": 16, "epochs": 3, "batch_size": 16, "optimizer": "sgd", "lr": 0.05,
       "momentum": 0.9, "precision": "fp32", "channels_last": False, "train_eval_size": 30, "alpha": 0.05,
       "min_gain": 0.01, "min_norm_drop": 0.01, "late_epochs": 2}
ORDER = ["0", "0.0001", "0.001", "0.01", "0.1"]


@pytest.fixture
def ctx(image_ctx):
    return image_ctx("cifar10", (3, 32, 32))


def test_variants_match_dvc_item_strings():
    text = "lam: [0, 1.0e-4, 1.0e-3, 1.0e-2, 1.0e-1, 0.5]"
    cfg = spec.SCHEMA.check("l2", CFG | yaml.safe_load(text))
    dvc_items = [str(v) for v in loads_yaml(text)["lam"]]  # what DVC substitutes for ${item.lam}
    assert spec.variants(cfg) == dvc_items == ORDER + ["0.5"]
    assert spec.variants(spec.SCHEMA.check("l2", CFG | {"lam": [0.0, 0.0001, 1]})) == ["0.0", "0.0001", "1"]


def test_yaml_1e_minus_4_string_is_rejected_with_a_hint():
    with pytest.raises(ParamError, match=r"l2.lam\[1\].*1.0e-4"):
        spec.SCHEMA.check("l2", CFG | yaml.safe_load("lam: [0, 1e-4, 1.0e-3]"))
    with pytest.raises(ParamError, match=r"l2.lam\[1\]"):
        spec.SCHEMA.check("l2", CFG | {"lam": [0, -1.0e-3, 1.0e-3]})


@pytest.mark.parametrize("change, words", [({"lam": [1.0e-4, 1.0e-3, 1.0e-2]}, "includes 0"),
                                           ({"claim_lam": 0.5}, "one of l2.lam"),
                                           ({"n_train": 40_000, "n_val": 20_000}, "at most 10000"),
                                           ({"channels": [4, 4, 4, 4, 4, 4]}, "at most 5 stages"),
                                           ({"late_epochs": 4}, "at most l2.epochs")])
def test_check_rejects_bad_sections(change, words):
    with pytest.raises(ParamError, match=words):
        spec.check(CFG | change)


def test_train_is_deterministic_and_ignores_judging_keys(ctx):
    first = train.train(CFG, "0.01", [0, 1], ctx)
    second = train.train(CFG | {"alpha": 0.01, "claim_lam": 0.1}, "0.01", [0, 1], ctx)
    assert first == second
    assert set(spec.JUDGE_KEYS) == {"alpha", "claim_lam", "min_gain", "min_norm_drop", "late_epochs"}
    for run in first["runs"]:
        assert set(run) == {"seed", "weight_hist", *spec.METRICS, "train_loss_by_epoch", "val_loss_by_epoch"}
        assert len(run["val_loss_by_epoch"]) == CFG["epochs"]
        assert all(type(run[k]) in (int, float) for k in ("seed", *spec.METRICS))
        assert run["gap"] == pytest.approx(run["train_acc"] - run["test_acc"])
        assert len(run["weight_hist"]) == spec.HIST_BINS and all(type(c) is int for c in run["weight_hist"])
    rows = first["history"]
    assert len(rows) == 2 * CFG["epochs"] and all(list(r) == list(spec.HISTORY_KEYS) for r in rows)
    assert first["runs"][-1]["val_loss_by_epoch"] == [r["val_loss"] for r in rows[CFG["epochs"]:]]
    assert rows[-1]["weight_norm"] == pytest.approx(first["runs"][-1]["weight_norm"])


def test_penalty_shrinks_weights_and_hist_counts_every_weight(ctx):
    cfg = CFG | {"epochs": 4}
    small, big = (train.train(cfg, v, [0], ctx)["runs"][0] for v in ("0", "0.1"))
    assert big["weight_norm"] < small["weight_norm"]
    n_weights = 3 * 4 * 9 + 4 * 8 * 9 + 8 * 8 * 8 * 16 + 16 * 10  # conv kernels and matrices, no biases
    assert sum(small["weight_hist"]) == n_weights


WOBBLE = [0.0, 1.0, -1.0, 0.5, -0.5]


OVERFIT = ([1.5, 1.2, 1.3], [1.4, 0.8, 0.5])  # per-epoch validation and training loss: validation turns up at the end


def fake_runs(val, test, train_acc, norm, noise=0.002, curves=OVERFIT):
    """Hand-built per-seed rows: fixed values per λ plus a seed wobble of a different size per λ."""
    return {v: [{"seed": s, "val_acc": val[i] + noise * w * k, "test_acc": test[i] + noise * w * k,
                 "train_acc": train_acc[i] + 0.001 * w * k, "gap": train_acc[i] - test[i],
                 "weight_norm": norm[i] + 0.1 * w * k, "test_loss": 1.0, "train_loss": 0.5,
                 "weight_hist": [1] * spec.HIST_BINS,
                 "val_loss_by_epoch": [x + 0.01 * w for x in curves[0]],
                 "train_loss_by_epoch": [x + 0.01 * w * k for x in curves[1]]} for s, w in enumerate(WOBBLE)]
            for i, (v, k) in enumerate(zip(ORDER, (1, 2, 1.5, 0.5, 3)))}


def judged(runs, cfg=CFG):
    m = aggregate(EXP, cfg, runs)
    found = {f["id"]: f for f in findings_of(EXP, cfg, m, runs)}
    check_findings("l2", list(found.values()))
    return m, found


def test_clear_effects_are_shown_and_the_claim_holds_when_it_beats_every_other_lam():
    runs = fake_runs(val=[0.50, 0.51, 0.56, 0.53, 0.30], test=[0.49, 0.50, 0.55, 0.52, 0.30],
                     train_acc=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    m, found = judged(runs)
    assert m["derived"]["best_lam"] == "0.001" and m["derived"]["neighbours"] == ["0.0001", "0.01"]
    assert m["derived"]["best_lam_per_seed"] == ["0.001"] * 5
    assert {k: found[k]["verdict"] for k in found} == {
        "weight_norm_decreases": "shown", "largest_underfits": "shown", "beats_baseline": "shown",
        "old_claim": "shown", "baseline_overfits": "shown", "best_lam_interior": "shown"}
    assert not found["baseline_overfits"]["primary"] and not found["best_lam_interior"]["primary"]
    assert found["beats_baseline"]["primary"] and found["weight_norm_decreases"]["primary"]


def test_a_tie_with_the_claimed_lam_is_inconclusive_not_refuted():
    # λ* = 0.01 on validation, but 0.001 ties it on test: "not shown" must not become "does not hold".
    runs = fake_runs(val=[0.50, 0.51, 0.52, 0.53, 0.30], test=[0.49, 0.50, 0.55, 0.55, 0.30],
                     train_acc=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    runs["0.01"] = [r | {"test_acc": 0.55 + 0.004 * (-1) ** s} for s, r in enumerate(runs["0.01"])]
    _, found = judged(runs)
    assert found["old_claim"]["verdict"] == "inconclusive" and "inconclusive" in found["old_claim"]["text"]


def test_a_significantly_better_lam_refutes_the_claim_and_reversed_effects_are_refuted():
    runs = fake_runs(val=[0.56, 0.55, 0.50, 0.53, 0.30], test=[0.56, 0.55, 0.50, 0.52, 0.30],
                     train_acc=[0.9, 0.9, 0.9, 0.9, 0.95], norm=[40, 38, 25, 10, 12])
    m, found = judged(runs)
    assert m["derived"]["best_lam"] == "0"
    assert found["old_claim"]["verdict"] == "refuted" and "0, 0.0001, 0.01" in found["old_claim"]["text"]
    assert found["largest_underfits"]["verdict"] == "refuted"
    assert found["weight_norm_decreases"]["verdict"] == "refuted"
    assert found["beats_baseline"]["verdict"] == "refuted" and "no λ > 0 improves" in found["beats_baseline"]["text"]
    assert found["best_lam_interior"]["verdict"] == "refuted" and "smaller λ" in found["best_lam_interior"]["text"]


@pytest.mark.parametrize("curves, verdict", [(([1.5, 1.2, 1.1], [1.4, 0.8, 0.5]), "refuted"),  # val still falling
                                             (([1.5, 1.2, 1.3], [1.4, 0.8, 0.9]), "refuted"),  # train rising
                                             (([1.5, 1.3, 1.3], [1.4, 0.8, 0.5]), "inconclusive")])
def test_baseline_overfits_needs_val_loss_up_and_train_loss_down_late(curves, verdict):
    runs = fake_runs(val=[0.50, 0.51, 0.56, 0.53, 0.30], test=[0.49, 0.50, 0.55, 0.52, 0.30],
                     train_acc=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3], curves=curves)
    if verdict == "inconclusive":  # no net change in validation loss, only seed wobble: not shown either way
        for s, r in enumerate(runs["0"]):
            r["val_loss_by_epoch"][-1] += 0.02 * (-1) ** s
    _, found = judged(runs)
    assert found["baseline_overfits"]["verdict"] == verdict


def test_baseline_overfits_is_inconclusive_without_curves():
    runs = fake_runs(val=[0.50, 0.51, 0.56, 0.53, 0.30], test=[0.49, 0.50, 0.55, 0.52, 0.30],
                     train_acc=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    for r in runs["0"]:
        del r["val_loss_by_epoch"]
    _, found = judged(runs)
    assert found["baseline_overfits"]["verdict"] == "inconclusive"


def test_the_largest_lam_as_best_is_at_the_grid_edge():
    runs = fake_runs(val=[0.50, 0.51, 0.52, 0.53, 0.56], test=[0.49, 0.50, 0.55, 0.52, 0.30],
                     train_acc=[0.99, 0.98, 0.9, 0.7, 0.35], norm=[40, 38, 25, 10, 3])
    _, found = judged(runs)
    assert found["best_lam_interior"]["verdict"] == "refuted" and "widen l2.lam" in found["best_lam_interior"]["text"]


def test_decay_time_constant_and_the_committed_design_lets_the_claimed_penalty_act():
    from dlps.experiments.l2.analysis import decay_steps, decay_text, total_steps
    from dlps.params import load as load_params

    assert decay_steps(CFG, 1.0e-3) == pytest.approx(0.1 / (0.05 * 1.0e-3)) and decay_steps(CFG, 0) == float("inf")
    assert total_steps(CFG) == 4 * 3  # ceil(60 / 16) minibatches × 3 epochs
    assert "λ = 0.001: τ = 2,000 steps (the run lasts 0.006 τ)" in decay_text(CFG)
    cfg = load_params()["l2"]
    assert decay_steps(cfg, cfg["claim_lam"]) <= total_steps(cfg), "the claimed λ must act within the run"


def test_noise_is_inconclusive():
    rng = np.random.default_rng(0)
    runs = fake_runs(val=[0.50, 0.50, 0.50, 0.51, 0.50], test=[0.50] * 5, train_acc=[0.9] * 5, norm=[40] * 5)
    for rows in runs.values():
        for r in rows:
            r |= {"test_acc": 0.5 + 0.02 * rng.standard_normal(), "train_acc": 0.9 + 0.02 * rng.standard_normal()}
    _, found = judged(runs)
    assert found["beats_baseline"]["verdict"] == found["old_claim"]["verdict"] == "inconclusive"


def test_plot_writes_all_figures(ctx, tmp_path):
    cfg = CFG | {"lam": [0, 1.0e-3, 1.0e-1], "epochs": 2}
    files = train_and_plot(EXP, cfg, ctx, tmp_path / "figs")
    assert [f["file"] for f in files] == ["acc_vs_lam.png", "weight_norm_vs_lam.png", "curves.png",
                                          "weight_hist.png"]
