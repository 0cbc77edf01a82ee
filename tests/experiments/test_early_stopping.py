"""The early-stopping experiment: params rules, data split, the prefix property of stopped runs, restored
weights per monitor, per-patience metrics, the registered monitor's primaries, the bar's and the claim's verdicts,
and figures."""

import numpy as np
import pytest
import torch

from dlps import verdicts
from dlps.data import images
from dlps.experiments.early_stopping import figures, spec, train
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.schema import ParamError
from dlps.experiments import load

EXP = load("early_stopping")

CFG = {"seeds": [0, 1], "workers": 1, "threads": 0, "monitor": "val_acc", "patience": [1, 2, 3], "default_patience": 2, "min_delta": 0.0, "max_epochs": 12, "n_train": 60,
       "n_val": 40, "hidden": [64, 64], "batch_size": 16, "optimizer": "adam", "lr": 0.01, "momentum": 0.9,
       "precision": "fp32", "min_saved_frac": 0.3, "max_acc_drop_pp": 0.3, "alpha": 0.05}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def ctx(image_ctx):
    return image_ctx("fashion_mnist", (28, 28), label_noise=0.3)


def deterministic(run):
    return {k: v for k, v in run.items() if not k.startswith("time_")}


def test_schema_and_variants():
    cfg = spec.SCHEMA.check("early_stopping", CFG)
    assert spec.variants(cfg) == ["all"]
    with pytest.raises(ParamError, match=r"early_stopping.patience\[1\]"):
        spec.SCHEMA.check("early_stopping", CFG | {"patience": [2, 0]})
    with pytest.raises(ParamError, match=r"early_stopping.monitor"):
        spec.SCHEMA.check("early_stopping", CFG | {"monitor": "train_loss"})
    with pytest.raises(ParamError, match=r"early_stopping.monitor"):
        spec.SCHEMA.check("early_stopping", {k: v for k, v in CFG.items() if k != "monitor"})


@pytest.mark.parametrize("change, words", [({"default_patience": 7}, "one of early_stopping.patience"),
                                           ({"patience": [2, 12]}, r"patience\[1\].*below"),
                                           ({"n_train": 50_000, "n_val": 20_000}, "at most 10000")])
def test_check_rejects_bad_sections(change, words):
    with pytest.raises(ParamError, match=words):
        spec.check(CFG | change)


def strip_times(history):
    return [{k: v for k, v in r.items() if k not in ("train_time_s", "epoch_time_s")} for r in history]


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_stopped_run_is_the_prefix_of_the_full_run_and_restores_the_same_weights(ctx):
    """The design rests on this: a live early-stopped run with the same seed is exactly the full run's first
    stop_epoch epochs, and its best weights are the full run's snapshot at the restored epoch."""
    from dlps.models.training import early_stop_epoch, fit

    t = images.to_tensors(images.split(images.load(ctx.data, "fashion_mnist"), CFG, 0, "early_stopping"))
    model, st, full, snapshots = train.full_run(CFG, t, 0)
    val = [r["val_loss"] for r in full]
    assert len(full) == CFG["max_epochs"]
    acc = [r["val_acc"] for r in full]
    for p in CFG["patience"]:  # every accuracy-monitor restore has its snapshot: the first epoch of its best accuracy
        stop, best = early_stop_epoch(train.curve(full, "val_acc"), p, CFG["min_delta"])
        assert best in snapshots and acc[best - 1] == max(acc[:stop]) and acc.index(max(acc[:stop])) == best - 1
    fired = 0
    for p in CFG["patience"]:
        stop, best = early_stop_epoch(val, p, CFG["min_delta"])
        fired += stop < len(full)
        live = train.make_model(CFG, t)
        history, best_state, _ = fit(live, t, train.train_config(CFG, patience=p), 0, stats=st)
        assert strip_times(history) == strip_times(full[:stop])
        assert states_equal(best_state, snapshots[best])
    assert fired, "the tiny run should overfit enough for some patience to stop it early"
    # snapshots are deep copies: the final weights moved on from the restored ones
    last_snapshot = snapshots[max(snapshots)]
    if max(snapshots) < len(full):
        assert not states_equal(last_snapshot, {k: v for k, v in model.state_dict().items()})
    model.load_state_dict(last_snapshot)
    assert states_equal(model.state_dict(), last_snapshot)


def test_train_is_deterministic_and_per_patience_metrics_are_consistent(ctx):
    first = train.train(CFG, "all", [0, 1], ctx)
    second = train.train(CFG | {"default_patience": 3, "alpha": 0.5, "max_acc_drop_pp": 9.0}, "all", [0, 1], ctx)
    assert [deterministic(r) for r in first["runs"]] == [deterministic(r) for r in second["runs"]]
    assert first["history"] == second["history"]
    for run in first["runs"]:
        assert set(spec.METRICS) <= set(run) and not set(spec.METRICS) & set(spec.TIMINGS)
        assert all(type(v) in (int, float) for v in run.values())
        for m in spec.MONITORS:
            for p in CFG["patience"]:
                stop, best = run[spec.col("stop_epoch", m, p)], run[spec.col("best_epoch", m, p)]
                assert 1 <= best <= stop <= CFG["max_epochs"] and stop >= min(p + 1, CFG["max_epochs"])
                assert run[spec.col("epochs_saved", m, p)] == CFG["max_epochs"] - stop
                assert run[spec.col("epochs_past_best", m, p)] == stop - run[f"best_epoch_full_{m}"]
                assert run[spec.col("acc_change_pp", m, p)] == pytest.approx(
                    100 * (run[spec.col("test_acc_restored", m, p)] - run["test_acc_full"]))
                assert 0 <= run[spec.col("time_saved_frac", m, p)] <= 1
            # longer patience never stops earlier
            stops = [run[spec.col("stop_epoch", m, p)] for p in sorted(CFG["patience"])]
            assert stops == sorted(stops)
    hist = {s: [r for r in first["history"] if r["seed"] == s] for s in (0, 1)}
    for run in first["runs"]:  # each monitor's overall best is its own curve's first best epoch
        accs, losses = [r["val_acc"] for r in hist[run["seed"]]], [r["val_loss"] for r in hist[run["seed"]]]
        assert run["best_epoch_full_val_acc"] == 1 + int(np.argmax(accs))
        assert run["best_epoch_full_val_loss"] == 1 + int(np.argmin(losses))
    rows = first["history"]
    assert len(rows) == 2 * CFG["max_epochs"] and all(list(r) == list(spec.HISTORY_KEYS) for r in rows)


WOBBLE = [0.0, 1.0, -1.0, 0.5, -0.5]


def fake_rows(max_epochs=40, stops=(8, 12, 20), full_acc=0.85, restored=(0.851, 0.852, 0.853), noise=0.0005,
              loss_stops=None, loss_restored=None):
    """Hand-built per-seed rows for patience 2, 5, 10 with a small seed-dependent wobble: stops/restored for the
    accuracy monitor, loss_stops/loss_restored (default: the same) for the loss monitor."""
    rows = []
    per_mon = {"val_acc": (stops, restored), "val_loss": (loss_stops or stops, loss_restored or restored)}
    for s, w in enumerate(WOBBLE):
        row = {"seed": s, "epochs_full": max_epochs, "best_epoch_full_val_loss": 6, "best_epoch_full_val_acc": 6,
               "val_loss_rise": 0.3 + 0.01 * w, "test_acc_full": full_acc + 0.001 * w,
               "test_acc_best_full_val_loss": restored[1], "test_acc_best_full_val_acc": restored[1],
               "time_full_s": 10.0}
        for m, (m_stops, m_restored) in per_mon.items():
            for p, stop, acc in zip((2, 5, 10), m_stops, m_restored):
                a = acc + 0.001 * w + noise * (s - 2)
                row |= {spec.col("stop_epoch", m, p): stop + s, spec.col("best_epoch", m, p): 6,
                        spec.col("stopped", m, p): 1, spec.col("epochs_saved", m, p): max_epochs - stop - s,
                        spec.col("epochs_saved_frac", m, p): (max_epochs - stop - s) / max_epochs,
                        spec.col("epochs_past_best", m, p): stop + s - 6,
                        spec.col("test_acc_restored", m, p): a,
                        spec.col("acc_change_pp", m, p): 100 * (a - row["test_acc_full"]),
                        spec.col("time_saved_s", m, p): 5.0, spec.col("time_saved_frac", m, p): 0.5}
        rows.append(row)
    return rows


FULL = CFG | {"seeds": list(range(5)), "patience": [2, 5, 10], "default_patience": 5, "max_epochs": 40}


def judged(rows, cfg=FULL):
    m = aggregate(EXP, cfg, {"all": rows})
    found = {f["id"]: f for f in findings_of(EXP, cfg, m, {"all": rows})}
    check_findings("early_stopping", list(found.values()))
    return m, found


def test_no_wall_clock_value_reaches_the_metrics():
    m, _ = judged(fake_rows())
    assert not any(k.startswith("time") for k in m["variants"]["all"])
    assert not any(k.startswith("time") for k in m["derived"]["patience"]["5"])
    assert not any(k.startswith("time") for k in m["derived"]["per_monitor"]["val_loss"]["5"])


def test_saving_a_lot_at_no_cost_is_shown_but_does_not_fit_the_claimed_range():
    _, found = judged(fake_rows())
    assert found["saves_epochs"]["verdict"] == "shown" and found["saves_epochs"]["primary"]
    assert found["performance_maintained"]["verdict"] == "shown" and found["performance_maintained"]["primary"]
    assert found["saves_epochs"]["effect"] == pytest.approx(np.mean([28, 27, 26, 25, 24]) / 40)
    # 60% [interval entirely above 40%]: outside the claimed 30–40%, so the claim does not hold
    assert found["old_claim"]["verdict"] == "refuted" and "does not hold as 30–40%" in found["old_claim"]["text"]


def test_the_range_rule_inside_holds_disjoint_does_not_hold_else_inconclusive():
    assert verdicts.within([0.34, 0.35, 0.36, 0.35, 0.35], 0.3, 0.4, 0.05, "saved")["verdict"] == "shown"
    assert verdicts.within([0.60, 0.62, 0.61], 0.3, 0.4, 0.05, "saved")["verdict"] == "refuted"
    assert verdicts.within([0.30, 0.45, 0.38], 0.3, 0.4, 0.05, "saved")["verdict"] == "inconclusive"
    rec = verdicts.within([0.34, 0.35, 0.36, 0.35, 0.35], 0.3, 0.4, 0.05, "saved")
    assert rec["effect"] == pytest.approx(0.35) and rec["ci_low"] > 0.3 and rec["ci_high"] < 0.4


def test_an_interval_reaching_beyond_the_margin_is_inconclusive_not_maintained():
    _, found = judged(fake_rows(restored=(0.85, 0.85, 0.85), noise=0.01))
    kept = found["performance_maintained"]
    assert kept["ci_low"] < -0.003 < kept["ci_high"]
    assert kept["verdict"] == "inconclusive" and "not evidence of no difference" in kept["text"]


def test_a_clear_drop_is_refuted_and_little_saving_is_refuted():
    _, found = judged(fake_rows(restored=(0.80, 0.81, 0.82)))
    assert found["performance_maintained"]["verdict"] == "refuted"
    assert found["old_claim"]["verdict"] == "refuted"
    _, found = judged(fake_rows(stops=(36, 36, 36)))
    assert found["saves_epochs"]["verdict"] == "refuted"


def test_the_registered_monitor_carries_the_primaries_and_the_other_is_secondary():
    """Accuracy stops late and keeps accuracy; loss stops early and loses it: the primaries follow `monitor`."""
    rows = fake_rows(stops=(30, 34, 38), loss_stops=(8, 12, 20), loss_restored=(0.80, 0.81, 0.82))
    _, found = judged(rows)
    assert found["saves_epochs"]["primary"] and found["performance_maintained"]["primary"]
    assert not found["saves_epochs_alt_monitor"]["primary"]
    assert not found["performance_maintained_alt_monitor"]["primary"]
    assert found["saves_epochs"]["verdict"] == "refuted" and found["performance_maintained"]["verdict"] == "shown"
    assert found["saves_epochs_alt_monitor"]["verdict"] == "shown"
    assert found["performance_maintained_alt_monitor"]["verdict"] == "refuted"
    assert "validation accuracy" in found["saves_epochs"]["text"]
    _, swapped = judged(rows, FULL | {"monitor": "val_loss"})
    assert swapped["saves_epochs"]["verdict"] == "shown" and swapped["performance_maintained"]["verdict"] == "refuted"
    assert swapped["saves_epochs_alt_monitor"]["verdict"] == "refuted"
    assert swapped["old_claim"]["verdict"] == "refuted"


def test_plot_writes_both_figures(ctx, tmp_path):
    result = train.train(CFG, "all", [0, 1], ctx)
    m = aggregate(EXP, CFG, {"all": result["runs"]})
    out = tmp_path / "figs"
    out.mkdir()
    files = figures.plot(CFG, m, {"all": result["runs"]}, {"all": result["history"]}, out)
    assert [f["file"] for f in files] == ["val_loss.png", "saved_vs_acc.png"]
    assert all((out / f["file"]).stat().st_size > 0 for f in files)
