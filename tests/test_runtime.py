"""The one device set-up: device resolution, the precision/device matrix and its errors, deterministic kernels."""

import os
import re
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch

from dlps import runtime
from dlps.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def test_fp32_is_no_autocast_and_bf16_autocasts_on_the_device_type():
    assert isinstance(runtime.Runtime("cpu").autocast(), nullcontext)
    with runtime.Runtime("cpu", "bf16").autocast():
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    assert runtime.Runtime("cuda:0", "fp16").device_type == "cuda"


@pytest.mark.parametrize("device,precision,native,ok", [
    ("cpu", "fp32", False, True), ("cpu", "bf16", True, True), ("cpu", "bf16", False, False),
    ("cpu", "fp16", True, False), ("cuda", "fp16", False, True), ("cuda", "bf16", True, True),
    ("cuda", "bf16", False, False), ("mps", "fp16", False, True), ("mps", "bf16", True, False)])
def test_precision_device_matrix(monkeypatch, device, precision, native, ok):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: native)
    if ok:
        runtime.check_precision(device, precision, "l2.precision")
    else:
        with pytest.raises(UserError, match=rf"^l2\.precision: got '{precision}' but this {device} has no native"):
            runtime.check_precision(device, precision, "l2.precision")


def test_unknown_precision_and_missing_device_are_one_line_errors(monkeypatch):
    with pytest.raises(UserError, match="allowed: one of fp32, bf16, fp16"):
        runtime.check_precision("cpu", "int8", "dropout.precision")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="device: got 'cuda' but it is not available here"):
        runtime.pick_device("cuda")
    assert runtime.pick_device("auto") in ("cpu", "mps")


def test_setup_makes_kernels_deterministic_before_any_cuda_use(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    rt = runtime.setup("cpu", 1, "fp32")
    assert rt == runtime.Runtime("cpu", "fp32") and torch.get_num_threads() == 1
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8" and torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic


def test_no_device_literal_or_cpu_autocast_left_in_the_package():
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "dlps").rglob("*.py") if p.name != "runtime.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"autocast\(\s*[\"']cpu|device\s*=\s*[\"']cpu[\"']|\.to\([\"'](cpu|cuda)", line)]
    assert not offenders, offenders


def test_workers_zero_is_one_per_core_on_the_cpu_and_one_on_an_accelerator(monkeypatch):
    import os

    from dlps.jobs.train import workers_for

    assert workers_for({"workers": 3}, "cuda") == 3
    assert workers_for({}, "cpu") == 1  # an experiment without `workers` trains in its stage's process
    assert workers_for({"workers": 0}, "cpu") == (os.cpu_count() or 1)
    monkeypatch.setattr("dlps.runtime.pick_device", lambda setting: "cuda")
    assert workers_for({"workers": 0}, "auto") == 1


SUBNORMAL = 2.0 ** -1070  # a float64 below the smallest normal (2^-1022)


def _flushes() -> tuple[bool, bool]:
    """Whether this thread's torch and NumPy arithmetic turn a subnormal product into zero."""
    import numpy as np

    return (float(torch.tensor([SUBNORMAL], dtype=torch.float64) * 1.0) == 0.0,
            float((np.array([SUBNORMAL]) * 1.0)[0]) == 0.0)


@pytest.fixture
def restore_flushing():
    before = runtime.FLUSHING
    yield
    torch.set_flush_denormal(False)
    runtime.FLUSHING = before


def test_flush_denormal_covers_torch_and_numpy_and_is_recorded(restore_flushing, tmp_path):
    import json

    from dlps.timing import timed

    if not runtime.flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    assert _flushes() == (True, True)  # the MXCSR is the thread's, NumPy's arithmetic included
    with timed(tmp_path / "t.json", "train_x"):
        pass
    assert json.loads((tmp_path / "t.json").read_text())["flush_denormal"] is True
    assert runtime.flush_denormal(False) is False and _flushes() == (False, False)


def test_every_job_process_of_a_torch_stage_flushes_as_params_say(restore_flushing):
    from dlps.jobs.train import Context

    if not torch.set_flush_denormal(False) or not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    torch.set_flush_denormal(False)
    Context({"flush_denormal": True, "device": "cpu", "threads": 1}).set_up_process()
    assert _flushes() == (True, True) and runtime.FLUSHING is True
    Context({"flush_denormal": True, "device": "cpu", "threads": 1}, torch=False).set_up_process()
    assert runtime.FLUSHING is True  # a NumPy-only experiment leaves the process as it is
    Context({"flush_denormal": False, "device": "cpu", "threads": 1}).runtime()
    assert _flushes() == (False, False) and runtime.FLUSHING is False


@pytest.mark.parametrize("batched", [False, True])
def test_a_job_sets_up_its_process_before_it_trains_whatever_it_trains(restore_flushing, monkeypatch, batched):
    """A worker that ran a torch job and then a TF-IDF one (no runtime()) must flush like every other."""
    from types import SimpleNamespace

    from dlps.experiments.contract import Train
    from dlps.jobs import train as jobs

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    seen = []
    one = lambda cfg, variant, seeds, ctx: seen.append(_flushes()) or {}  # noqa: E731
    group = lambda cfg, variants, seeds, ctx: seen.append(_flushes()) or {}  # noqa: E731
    fake = Train(train=one, groups=(lambda cfg, vs: [(vs, [0])]) if batched else None,
                 train_group=group if batched else None)
    monkeypatch.setattr("dlps.experiments.load", lambda name: SimpleNamespace(train=fake))
    ctx = jobs.Context({"flush_denormal": True, "device": "cpu", "threads": 1, "x": {}})
    torch.set_flush_denormal(False)
    jobs._train_job("x", ["v"], [0], ctx, (1, 1))
    assert seen == [(True, True)]
