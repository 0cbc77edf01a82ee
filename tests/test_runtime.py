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
