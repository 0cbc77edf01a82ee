"""The dropout experiment: params rules, deterministic tiny training, the findings' rules on hand-built runs,
and figures."""

import numpy as np
import pytest
import yaml

from dlps.experiments.dropout import spec, train
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.fmt import fmt_p
from dlps.schema import ParamError
from dlps.experiments import load
from conftest import train_and_plot

EXP = load("dropout")

CFG = {"seeds": [0, 1], "workers": 1, "threads": 0, "p": [0.0, 0.2, 0.5], "n_train": 60, "n_val": 40, "hidden": [32, 32], "epochs": 4,
       "batch_size": 16, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "precision": "fp32", "alpha": 0.05,
       "min_gain": 0.01, "min_gap_change": 0.05, "min_acc_gap_change": 0.01}


@pytest.fixture
def ctx(image_ctx):
    return image_ctx("mnist", (28, 28))


def test_variants_match_dvc_item_strings():
    cfg = spec.SCHEMA.check("dropout", CFG | yaml.safe_load("p: [0.0, 0.2, 0.5]"))
    assert spec.variants(cfg) == ["0.0", "0.2", "0.5"]
    assert spec.variants(spec.SCHEMA.check("dropout", CFG | {"p": [0, 0.5]})) == ["0", "0.5"]


@pytest.mark.parametrize("change, words", [({"p": [0.2, 0.5]}, "includes 0.0"),
                                           ({"n_train": 50_000, "n_val": 20_000}, "at most 10000")])
def test_check_rejects_bad_sections(change, words):
    with pytest.raises(ParamError, match=words):
        spec.check(CFG | change)


def test_rate_of_one_and_bad_precision_are_rejected():
    with pytest.raises(ParamError, match=r"dropout.p\[1\]"):
        spec.SCHEMA.check("dropout", CFG | {"p": [0.0, 1.0]})
    with pytest.raises(ParamError, match=r"dropout.precision"):
        spec.SCHEMA.check("dropout", CFG | {"precision": "bf8"})


def test_judge_keys_are_not_read_by_training():
    assert set(spec.JUDGE_KEYS) <= set(spec.SCHEMA.fields) and "alpha" in spec.JUDGE_KEYS
    assert isinstance(spec.TEST_SCORED, str) and "final weights" in spec.TEST_SCORED


def test_train_is_deterministic_and_records_history(ctx):
    first = train.train(CFG, "0.5", [0, 1], ctx)
    second = train.train(CFG | {"alpha": 0.5}, "0.5", [0, 1], ctx)  # a judging key changes nothing
    assert first == second
    for run in first["runs"]:
        assert set(run) == {"seed", *spec.METRICS}
        assert all(type(v) in (int, float) for v in run.values())
        assert run["gap"] == pytest.approx(run["train_acc"] - run["test_acc"])
        assert run["loss_gap"] == pytest.approx(run["test_loss"] - run["train_loss"])
        assert 1 <= run["best_val_epoch"] <= CFG["epochs"]
    rows = first["history"]
    assert len(rows) == 2 * CFG["epochs"] and all(list(r) == list(spec.HISTORY_KEYS) for r in rows)
    assert rows[CFG["epochs"] - 1]["train_loss"] == first["runs"][0]["train_loss"]


WOBBLE = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0]


def fake_runs(acc: dict, val: dict, gap: dict | None = None, noise=0.001, n=6):
    """Hand-built per-seed rows: a fixed accuracy and loss gap per rate plus a seed-dependent wobble that differs
    between rates (so paired differences are not constant)."""
    gap = gap or {v: 0.4 for v in acc}
    runs = {}
    for i, (v, a) in enumerate(acc.items()):
        k = 1 + i
        runs[v] = [{"seed": s, "test_acc": a + noise * w * k, "test_loss": 0.3 + gap[v], "train_loss": 0.3,
                    "loss_gap": gap[v] + 0.01 * w * k, "gap": 1 - a, "train_acc": 1.0,
                    "val_acc": val[v] + 0.001 * w, "best_val_epoch": 10, "val_loss_rise": 0.2 + 0.01 * w,
                    "test_acc_best_val": a} for s, w in enumerate(WOBBLE[:n])]
    return runs


def judged(cfg, runs):
    m = aggregate(EXP, cfg, runs)
    found = {f["id"]: f for f in findings_of(EXP, cfg, m, runs)}
    check_findings("dropout", list(found.values()))
    return m, found


def test_clear_effect_is_shown_and_best_rate_is_chosen_on_validation():
    # p = 0.2 has the better test accuracy, but p = 0.5 wins on validation, so 0.5 is "best".
    runs = fake_runs({"0.0": 0.90, "0.2": 0.93, "0.5": 0.92}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92},
                     gap={"0.0": 0.5, "0.2": 0.3, "0.5": 0.2})
    m, found = judged(CFG, runs)
    assert m["derived"]["best_p"] == "0.5" and m["derived"]["improvement_pp"] == pytest.approx(2.0, abs=0.1)
    assert found["beats_baseline"]["verdict"] == "shown" and found["beats_baseline"]["primary"]
    assert found["narrows_loss_gap"]["verdict"] == "shown"
    assert found["narrows_accuracy_gap"]["verdict"] == "shown" and found["narrows_accuracy_gap"]["primary"]
    assert found["val_loss_turns_up"]["verdict"] == "shown"
    interior = found["best_p_interior"]  # p* = 0.5 is the largest rate tried: at the grid's edge
    assert interior["verdict"] == "refuted" and "add a larger rate" in interior["text"] and not interior["primary"]
    assert found["beats_baseline"]["scale"] == 100 and found["beats_baseline"]["unit"] == "pp"


def test_reversed_effect_is_refuted():
    runs = fake_runs({"0.0": 0.92, "0.2": 0.90, "0.5": 0.89}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.90},
                     gap={"0.0": 0.2, "0.2": 0.5, "0.5": 0.5})
    _, found = judged(CFG, runs)
    assert found["beats_baseline"]["verdict"] == "refuted" and "lowers" in found["beats_baseline"]["text"]
    assert found["narrows_loss_gap"]["verdict"] == "refuted"
    assert found["narrows_accuracy_gap"]["verdict"] == "refuted"
    assert found["best_p_interior"]["verdict"] == "shown"  # p* = 0.2, below the largest rate 0.5


def test_accuracy_gap_can_narrow_while_the_loss_gap_widens():
    # memorised training sets: dropout removes test errors (accuracy gap down) but its wrong answers are as
    # over-confident as before or more (loss gap up); the two primaries judge the two gaps separately
    runs = fake_runs({"0.0": 0.90, "0.2": 0.91, "0.5": 0.93}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92},
                     gap={"0.0": 0.3, "0.2": 0.4, "0.5": 0.5})
    _, found = judged(CFG, runs)
    assert found["narrows_accuracy_gap"]["verdict"] == "shown" and found["narrows_loss_gap"]["verdict"] == "refuted"
    assert found["narrows_accuracy_gap"]["effect"] == pytest.approx(-0.03)


def test_an_accuracy_gap_change_inside_the_margin_is_refuted():
    runs = fake_runs({"0.0": 0.900, "0.2": 0.900, "0.5": 0.905}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92})
    for s, r in enumerate(runs["0.5"]):
        r["gap"] += 0.001 * (-1) ** s
    _, found = judged(CFG | {"alpha": 0.025}, runs)
    acc_gap = found["narrows_accuracy_gap"]
    assert acc_gap["verdict"] == "refuted" and acc_gap["decided_by"] == "p_tost"
    assert "smaller than 1 pp" in acc_gap["text"]


def test_noise_is_inconclusive():
    rng = np.random.default_rng(1)
    runs = fake_runs({"0.0": 0.90, "0.2": 0.90, "0.5": 0.90}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.90})
    for rows in runs.values():
        for r in rows:
            r["test_acc"] = 0.9 + 0.05 * rng.standard_normal()
    _, found = judged(CFG, runs)
    assert found["beats_baseline"]["verdict"] == "inconclusive" and "not shown" in found["beats_baseline"]["text"]


def test_a_gain_shown_smaller_than_the_smallest_of_interest_is_refuted():
    # +0.1 pp, tightly measured: significant, but a TOST puts it inside ±min_gain (1 pp): no gain that matters
    runs = fake_runs({"0.0": 0.900, "0.2": 0.900, "0.5": 0.901}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92},
                     noise=0.00005)
    _, found = judged(CFG | {"alpha": 0.025}, runs)
    beats = found["beats_baseline"]
    assert beats["verdict"] == "refuted" and beats["p_tost"] < 0.025 and beats["p_expected"] < 0.025
    assert beats["decided_by"] == "p_tost" and "TOST" in beats["test"]
    assert f"paired TOST within ±0.01, {fmt_p(beats['p_tost'])}" in beats["text"]  # the TOST's p, named as such
    assert f"paired t-test (> 0), {fmt_p(beats['p_expected'])}" in beats["text"]  # and the t-test's its own
    assert "smaller than 1 pp" in beats["text"]


def test_old_claim_is_read_as_relative_test_error_reduction():
    # +1.8 pp from 90%: 18% relative error reduction, inside 15–20%: the claim holds on its natural reading
    runs = fake_runs({"0.0": 0.90, "0.2": 0.91, "0.5": 0.918}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92},
                     noise=0.00005)
    _, found = judged(CFG, runs)
    claim = found["old_claim"]
    assert claim["verdict"] == "shown" and "claim_verdict" not in claim and not claim["primary"]
    assert claim["effect"] == pytest.approx(0.18, abs=0.01) and "relative test-error reduction" in claim["claim"]


def test_old_claim_that_fails_on_every_reading_does_not_hold():
    runs = fake_runs({"0.0": 0.90, "0.2": 0.90, "0.5": 0.901}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92},
                     noise=0.00005)
    _, found = judged(CFG, runs)
    assert found["old_claim"]["verdict"] == "refuted" and "claim_verdict" not in found["old_claim"]


def test_plot_writes_both_figures(ctx, tmp_path):
    cfg = CFG | {"p": [0.0, 0.5]}
    files = train_and_plot(EXP, cfg, ctx, tmp_path / "figs")
    assert [f["file"] for f in files] == ["loss_curves.png", "acc_gap_vs_p.png"]


def test_the_sentences_name_the_interval_level_that_alpha_gives():
    """An interval matched to a one-sided test at α is the 1 − 2α one: 95% at α = 0.025, 90% at α = 0.05."""
    runs = fake_runs({"0.0": 0.90, "0.2": 0.93, "0.5": 0.92}, {"0.0": 0.90, "0.2": 0.91, "0.5": 0.92})
    for alpha, label in ((0.025, "95% CI"), (0.05, "90% CI")):
        texts = " ".join(f["text"] for f in judged(CFG | {"alpha": alpha}, runs)[1].values())
        assert label in texts and ("95% CI" in texts) == (alpha == 0.025)
