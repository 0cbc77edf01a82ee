"""The plot-ready curves for DVC and the per-variant summary metrics: one series per variant, no seed stacked."""

import csv

import pytest

from dlps.jobs.curves import curve_rows, curve_specs, write_curves
from dlps.jobs.variants import pairs, variant_summary


def history(seed: int, n: int, offset: float, lag: int | None = None) -> list[dict]:
    return [{"seed": seed, "epoch": e, "val_loss": offset + e, **({"lag": lag} if lag else {})} for e in range(1, n + 1)]


def test_one_point_per_variant_and_step_averaged_over_seeds():
    rows = curve_rows({"0.0": history(1, 3, 0.0) + history(2, 3, 1.0), "0.5": history(1, 3, 5.0) + history(2, 3, 5.0)},
                      "epoch", "val_loss")
    by = {(r["variant"], r["epoch"]): r for r in rows}
    assert len(rows) == 6 and by[("0.0", 2)]["val_loss"] == 2.5 and by[("0.0", 2)]["n"] == 2
    assert by[("0.0", 2)]["ci_low"] < 2.5 < by[("0.0", 2)]["ci_high"] and by[("0.5", 1)]["ci_low"] == 6.0
    assert [r["epoch"] for r in rows if r["variant"] == "0.0"] == [1, 2, 3]  # steps never run back


def test_a_curve_ends_where_its_first_seed_stopped_and_splits_by_a_column():
    rows = curve_rows({"lstm": history(1, 5, 0.0, lag=10) + history(2, 2, 0.0, lag=10) + history(1, 4, 0.0, lag=100)},
                      "epoch", "val_loss", by="lag")
    assert {r["variant"] for r in rows} == {"lstm lag=10", "lstm lag=100"}
    assert [r["epoch"] for r in rows if r["variant"] == "lstm lag=10"] == [1, 2]


def test_write_curves_writes_one_file_per_y(tmp_path):
    plots = ["a.png", {"history": {"x": "epoch", "y": ["val_loss"]}}]
    assert curve_specs(plots) == [{"x": "epoch", "y": "val_loss", "by": None}]
    write_curves(tmp_path, plots, {"v": history(1, 2, 0.0)})
    with open(tmp_path / "curves/val_loss.csv") as f:
        assert next(csv.reader(f)) == ["variant", "epoch", "val_loss", "ci_low", "ci_high", "ci_level", "n"]


def test_variant_summary_keys_name_the_variant_not_the_level():
    class Dropout:
        variants_key, table_metrics = "p", ("train_acc", "test_acc", "test_loss")

        @staticmethod
        def variants(cfg):
            return [str(p) for p in cfg["p"]]

    runs = {"0.0": [{"test_acc": 0.9}, {"test_acc": 0.92}], "0.5": [{"test_acc": 0.95}, {"test_acc": 0.93}]}
    out = variant_summary(Dropout, {"p": [0.0, 0.5]}, runs)
    assert list(out) == ["p=0.0", "p=0.5"] and out["p=0.5"]["test_acc"] == pytest.approx(0.94)
    assert set(out["p=0.0"]) == {"test_acc", "ci_low", "ci_high", "ci_level", "n"} and out["p=0.0"]["n"] == 2


def test_a_one_variant_experiment_lists_its_sweep_from_the_key_suffixes():
    class EarlyStopping:
        variants_key, table_metrics = None, ("epochs_full", "test_acc_full")

        @staticmethod
        def variants(cfg):
            return ["all"]

    row = {"seed": 1, "epochs_full": 40, "test_acc_full": 0.8, "test_acc_restored_p5": 0.79, "stop_epoch_p5": 9}
    assert pairs(EarlyStopping, {}, row) == {"full": ("all", "test_acc_full", "test_acc"),
                                             "restored_p5": ("all", "test_acc_restored_p5", "test_acc")}
    EarlyStopping.table_metrics = ("epochs_full",)
    assert pairs(EarlyStopping, {}, row) == {}
