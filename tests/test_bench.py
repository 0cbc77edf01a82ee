"""The benchmark's analytic FLOP counts and its workload list at the params (tiny sizes: no timing is asserted)."""

import re
from pathlib import Path

import pytest

from dlps.experiments import load as load_experiment
from dlps.params import read_params
from dlps.tools import bench, bench_models, bench_profile


def load(path):
    """params.yaml with the sections the bench reads validated (their specs' schemas)."""
    raw = read_params(path)
    return raw | {k: load_experiment(k).spec.schema.check(k, raw[k]) for k in ("dropout", "l2")}

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_flop_counts_match_hand_computation():
    assert bench_models.mlp([8, 4, 2], 3, False).flops == 6 * 3 * (8 * 4 + 4 * 2)
    # conv 3->2 on 32x32 (3x3), pooled to 16x16, then linear 2*16*16->5 and 5->10; ×3 for training
    conv = 2 * 32 * 32 * 2 * 3 * 9
    assert bench_models.cnn([2], 5, 4, False, False).flops == 3 * 4 * (conv + 2 * 512 * 5 + 2 * 5 * 10)
    assert bench_models.recurrent_regressor("lstm", 3, 5, 2).flops == 3 * 2 * 4 * 3 * (2 + 3) * 5 * 2
    assert bench_models.text_classifier("gru", 50, 4, 3, 6, 2, False).flops == 3 * 2 * 3 * 3 * (4 + 3) * 6 * 2
    assert bench_models.numpy_char_rnn(7, 3, 4, 2).flops == 3 * 2 * (3 * 3 + 7 * 3) * 4 * 2
    assert bench_models.recurrent_members("gru", 4, 3, 6, 2, 3).flops == 3 * (3 * 2 * 3 * 3 * (4 + 3) * 6 * 2)


def test_workloads_follow_the_params_and_their_thread_counts():
    params = load(ROOT / "params.yaml")
    rows = bench.workloads(params, threads=2)
    names = " ".join(r[0] for r in rows)
    for section in ("dropout", "l2", "sentiment", "architectures", "numpy_rnn", "vanishing_gradients"):
        assert f"({section})" in names
    l2 = [r for r in rows if "(l2)" in r[0]]
    assert {r[1] for r in l2} == {"fp32", params["l2"]["precision"]}
    assert len(l2) == 1 + (params["l2"]["precision"] != "fp32" or params["l2"]["channels_last"])  # no duplicate row
    for section in ("dropout", "l2", "sentiment"):  # each job's thread count, as its stage runs it
        assert all(r[2] == (params[section]["threads"] or 2) for r in rows if f"({section})" in r[0])
    assert all(r[3] in bench.MODELS for r in rows)
    from dlps.jobs.train import workers_for

    for section in ("dropout", "l2", "sentiment", "architectures", "numpy_rnn"):  # as many at once as its stage runs
        assert all(r[5] == workers_for(params[section], params["device"]) for r in rows if f"({section})" in r[0])


def test_a_profile_splits_a_step_into_operators():
    p = bench_profile.profile(bench_models.cnn([2], 5, 4, False, False))
    assert 0 < p["gemm_share"] <= 1 and p["ops_per_step"] > 10 and p["us_per_op"] > 0
    assert 0 < sum(t["share"] for t in p["top"]) <= 1 + 1e-9
    assert "aten::convolution_backward" in {t["op"] for t in p["top"]} | set(bench_profile.GEMM_OPS)
    assert "per-op overhead" in bench_profile.limit(p | {"gemm_share": 0.2})
    assert "their speed at these shapes" in bench_profile.limit(p | {"gemm_share": 0.8})
    assert "both limit it" in bench_profile.limit(p | {"gemm_share": 0.5})


def test_batched_members_variant_is_checked_against_torchs_cell():
    """Member 0 of the batched variant equals torch's GRU from the same seed; another member (another seed) does
    not, so the check can fail."""
    args = ("gru", 50, 4, 3, 6, 2, False, 3)
    name, build, max_diff = bench_profile._variants("text_classifier", args)[1]
    w = build()
    assert "batched" in name and max_diff(w) < 1e-5
    reference = bench_profile._core_reference("gru", 4, 3, 6, 2, 3)
    assert float((w.output()[1] - reference).abs().max()) > 1e-4
    w.step()  # it trains
    assert max_diff(w) > 0


def test_run_explains_only_the_families_below_half_their_ceiling(monkeypatch):
    work = bench_models.Workload(lambda: None, lambda: None, 10, 100, 1)
    monkeypatch.setattr(bench, "workloads", lambda params, threads: [
        ("fast", "fp32", 1, "mlp", (), 2), ("slow", "fp32", 1, "cnn", (), 1)])
    monkeypatch.setattr(bench, "at_once", lambda model, args, threads, jobs, flush: [300.0] * jobs)
    monkeypatch.setattr(bench, "MODELS", {"mlp": lambda: work, "cnn": lambda: work})
    monkeypatch.setattr(bench, "gemm_rates", lambda dtype, n=2048: {"torch.mm": 1000.0})
    speeds = iter([800.0, 300.0])

    def both(build):  # kept as the stages run; flushed twice as fast
        f = next(speeds)
        return {False: {"samples_per_s": 1.0, "flops_per_s": f, "flops_per_step": 100},
                True: {"samples_per_s": 2.0, "flops_per_s": 2 * f, "flops_per_step": 100}}

    monkeypatch.setattr(bench, "measure_flushing", both)
    monkeypatch.setattr(bench, "explain", lambda model, args, row: {"limit": f"why {model}"})
    monkeypatch.setattr(bench, "dvc_overhead", lambda: {"dvc_repro_noop_s": 1.0, "import_dlps_pipeline_s": 0.1,
                                                        "import_torch_s": 1.0})
    result = bench.run({}, 1, False)
    rows = result["workloads"]
    assert result["matmul_flops_per_s_by_library"]["fp32, 1 thread"] == {"torch.mm": 1000.0}
    assert "fp32, 1 thread 0.0 (torch.mm 0.0)" in bench.table(result)
    assert "limit" not in rows[0] and rows[1]["limit"] == "why cnn"
    assert rows[0]["at_once"] == {"jobs": 2, "flops_per_s": 600.0, "ceiling_flops_per_s": 1000.0,
                                  "fraction_of_ceiling": 0.6} and "at_once" not in rows[1]
    assert result["flush_denormal"] is False and rows[0]["samples_per_s"] == 1.0  # the rows are as the stages run
    assert rows[0]["flush_denormal"] == {"samples_per_s_flushed": 2.0, "samples_per_s_kept": 1.0,
                                         "speedup_flushed": 2.0, "faster": "flushed", "stages": "kept"}
    assert "| fast | 2 | 1 | ×2.00 | flushed | kept |" in bench.table(result)


def test_each_copy_trains_with_subnormals_flushed_or_kept_and_the_process_is_left_as_it_was():
    import torch

    from dlps import runtime

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    seen = []

    def build():
        flushed = runtime.FLUSHING

        def step():
            seen.append((flushed, float(torch.tensor([2.0 ** -1070], dtype=torch.float64) * 1.0) == 0.0))

        return bench_models.Workload(step, lambda: None, 1, 1, 2)

    try:
        for before in (False, True):
            runtime.flush_denormal(before)
            seen.clear()
            out = bench_models.measure_flushing(build, repeats=2)
            assert set(out) == {True, False} and all(r["samples_per_s"] > 0 for r in out.values())
            assert {flushed for flushed, _ in seen} == {True, False}
            assert all(flushed == zeroed for flushed, zeroed in seen)  # each copy only under its own setting
            assert runtime.FLUSHING is before
    finally:
        runtime.flush_denormal(False)


def test_the_bench_modules_import_one_way_and_name_no_experiment():
    import ast

    from dlps.experiments import NAMES

    tools = ROOT / "dlps/tools"
    modules = {f"dlps.tools.{f.stem}" for f in tools.glob("bench*.py")}
    imports = {}
    for f in tools.glob("bench*.py"):
        found = set()
        for node in ast.walk(ast.parse(f.read_text())):  # imports inside functions count
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        imports[f.stem] = {m.rsplit(".", 1)[-1] for m in found & modules}
    assert imports["bench_models"] == set()
    for leaf in ("bench_jobs", "bench_profile", "bench_precision"):
        assert imports[leaf] <= {"bench_models"}, leaf
    for f in ("bench.py", "bench_profile.py"):
        text = (tools / f).read_text()
        assert not [n for n in NAMES if re.search(rf"\b{n}\b", text)], f


@pytest.mark.slow
def test_jobs_at_once_run_in_their_own_processes():
    from dlps.tools.bench_jobs import at_once

    rates = at_once("mlp", ([8, 4, 2], 3, False), 1, 2, True)
    assert len(rates) == 2 and all(r > 0 for r in rates)


@pytest.mark.slow
def test_explain_measures_each_variant_of_a_tiny_cnn():
    row = {"samples_per_s": 1.0, "ceiling_flops_per_s": 1e12}
    out = bench_profile.explain("cnn", ([2], 5, 4, False, False), row)
    assert [v["variant"] for v in out["variants"]] == ["channels_last", "torch.compile (inductor)"]
    for v in out["variants"]:
        assert v["max_abs_diff_vs_eager"] < 1e-4 and v["repeatable"] and v["samples_per_s"] > 0
    assert "|" in "\n".join(bench_profile.table_lines([{"workload": "w", "fraction_of_ceiling": 0.1, **out}]))


@pytest.mark.slow
def test_explain_measures_torch_compile_of_tiny_batched_members():
    row = {"samples_per_s": 1.0, "ceiling_flops_per_s": 1e12}
    out = bench_profile.explain("recurrent_members", ("lstm", 2, 4, 3, 5, 2), row)
    assert [v["variant"] for v in out["variants"]] == ["torch.compile (inductor)"]
    v = out["variants"][0]
    assert "error" not in v, v
    assert v["max_abs_diff_vs_eager"] < 1e-5 and v["repeatable"] and v["samples_per_s"] > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_ceiling_is_the_fastest_gemm_library(precision):
    import torch

    rates = bench.gemm_rates(precision, n=64)
    assert all(r > 0 for r in rates.values()) and "torch.mm" in rates
    if precision == "fp32" and torch.backends.mkldnn.is_available():
        assert "oneDNN" in rates  # its product agreed with torch.mm's
    assert bench.matmul_ceiling(rates) == max(rates.values())


def test_a_gemm_library_whose_product_disagrees_is_not_a_ceiling(monkeypatch):
    import torch

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", lambda a, b, *rest: a @ b, raising=False)
    assert set(bench.gemm_rates("fp32", n=64)) == {"torch.mm"}


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
    monkeypatch.setattr(bench, "gemm_rates", lambda dtype, n=2048: {"torch.mm": 1.0})
    monkeypatch.setattr(bench, "dvc_overhead", lambda: {})
    assert bench.run({}, 1, False)["precision"] is None
    monkeypatch.setattr(bench, "precision_check", lambda params: {"ran": True})
    assert bench.run({}, 1, True)["precision"] == {"ran": True}


def test_a_variant_that_cannot_run_is_recorded_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("no C compiler\nmore detail")

    monkeypatch.setattr(bench_profile, "_variants", lambda model, args: [("torch.compile (inductor)", broken, None)])
    out = bench_profile.explain("cnn", ([2], 5, 4, False, False), {"samples_per_s": 1.0, "ceiling_flops_per_s": 1e12})
    assert out["variants"] == [{"variant": "torch.compile (inductor)", "error": "RuntimeError: no C compiler"}]
    assert "did not run: RuntimeError: no C compiler" in "\n".join(
        bench_profile.table_lines([{"workload": "w", "fraction_of_ceiling": 0.1, **out}]))


def test_the_mlp_variant_runs_its_linears_through_oneDNN():
    import torch

    if not torch.backends.mkldnn.is_available():
        pytest.skip("torch built without oneDNN")
    (name, build, max_diff), = bench_profile._variants("mlp", ([12, 16, 3], 8, False))
    w = build()
    assert "oneDNN" in name and max_diff(w) < 1e-5
    assert bench_profile._variants("mlp", ([12, 16, 3], 8, True)) == []  # bf16 autocast: no such variant
