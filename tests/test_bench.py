"""The benchmark's analytic FLOP counts and its workload list at the params (tiny sizes: no timing is asserted)."""

from pathlib import Path

import pytest

from dlps.experiments import part
from dlps.params import read_params
from dlps.tools import bench


def load(path):
    """params.yaml with the sections the bench reads validated (their specs' schemas)."""
    raw = read_params(path)
    return raw | {k: part(k, "spec").SCHEMA.check(k, raw[k]) for k in ("dropout", "l2")}

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_flop_counts_match_hand_computation():
    assert bench.mlp([8, 4, 2], 3, False)["flops_per_step"] == 6 * 3 * (8 * 4 + 4 * 2)
    # conv 3->2 on 32x32 (3x3), pooled to 16x16, then linear 2*16*16->5 and 5->10; ×3 for training
    conv = 2 * 32 * 32 * 2 * 3 * 9
    assert bench.cnn([2], 5, 4, False, False)["flops_per_step"] == 3 * 4 * (conv + 2 * 512 * 5 + 2 * 5 * 10)
    assert bench.recurrent_regressor("lstm", 3, 5, 2)["flops_per_step"] == 3 * 2 * 4 * 3 * (2 + 3) * 5 * 2
    assert bench.text_classifier("gru", 50, 4, 3, 6, 2, False)["flops_per_step"] == 3 * 2 * 3 * 3 * (4 + 3) * 6 * 2
    assert bench.numpy_rnn(7, 3, 4, 2)["flops_per_step"] == 3 * 2 * (3 * 3 + 7 * 3) * 4 * 2


def test_workloads_follow_the_params_and_their_thread_counts():
    params = load(ROOT / "params.yaml")
    rows = bench.workloads(params, threads=2)
    names = " ".join(r[0] for r in rows)
    for section in ("dropout", "l2", "sentiment", "architectures", "numpy_rnn"):
        assert f"({section})" in names
    l2 = [r for r in rows if "(l2)" in r[0]]
    assert {r[1] for r in l2} == {"fp32", params["l2"]["precision"]}
    assert all(r[2] == (params["sentiment"]["threads"] or 2) for r in rows if "(sentiment)" in r[0])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_matmul_ceiling_is_positive(precision):
    assert bench.matmul_ceiling(precision, n=64) > 0


def test_precision_check_pairs_fp32_and_bf16_runs_of_the_l2_cnn(tmp_path, monkeypatch):
    import numpy as np
    from tinydata import image_classes

    folder = tmp_path / "data/prepared/cifar10"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("test", 40)):
        x, y = image_classes(n, (3, 32, 32), rng)
        np.save(folder / f"x_{split}.npy", x)
        np.save(folder / f"y_{split}.npy", y)
    monkeypatch.chdir(tmp_path)
    params = load(ROOT / "params.yaml")
    params["l2"].update(n_train=60, n_val=30, channels=[4], hidden=8, epochs=1, batch_size=16, train_eval_size=30)
    params["l2"].update(seeds=[0, 1], precision="bf16", channels_last=True)
    monkeypatch.setattr("dlps.runtime.supports", lambda device_type, precision: True)  # emulated bf16 is fine here
    check = bench.precision_check(params)
    for metric in ("val_acc", "test_acc"):
        assert check[metric]["fp32"]["n"] == check[metric]["bf16"]["n"] == 2
        assert check[metric]["bf16_minus_fp32"]["n"] == 2
    from dlps.report.repro import precision_text

    assert "paired difference" in precision_text(check)
    params["l2"]["precision"] = "fp32"
    assert bench.precision_check(params) is None  # nothing to compare


def test_no_precision_skips_the_precision_check(monkeypatch):
    def boom(params):
        raise AssertionError("--no-precision must not run the precision check")

    monkeypatch.setattr(bench, "precision_check", boom)
    monkeypatch.setattr(bench, "workloads", lambda params, threads: [])
    monkeypatch.setattr(bench, "matmul_ceiling", lambda dtype, n=2048: 1.0)
    monkeypatch.setattr(bench, "dvc_overhead", lambda: {})
    assert bench.run({}, 1, False)["precision"] is None
    monkeypatch.setattr(bench, "precision_check", lambda params: {"ran": True})
    assert bench.run({}, 1, True)["precision"] == {"ran": True}
