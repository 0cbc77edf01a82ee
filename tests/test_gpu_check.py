"""The GPU check's plumbing, as a CPU dry run on tiny params: it trains and judges outside DVC, leaves the
committed metrics alone, skips experiments whose data are absent, and compares verdicts with the CPU run's."""

import json
import subprocess
import sys
from pathlib import Path

from test_end_to_end import TINY

from dlps.params import load
from dlps.tools import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def test_dry_run_on_cpu(tmp_path, monkeypatch):
    params = load(ROOT / "params.yaml")
    params["vanishing_gradients"].update(TINY["vanishing_gradients"], seeds=[0, 1])
    committed = tmp_path / "metrics"
    (committed / "timing").mkdir(parents=True)
    (committed / "vanishing_gradients.json").write_text(json.dumps({"findings": [{"id": "vanishing",
                                                                                   "verdict": "refuted"}]}))
    (committed / "timing" / "train_vanishing_gradients.json").write_text(json.dumps({"wall_s": 10.0}))
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    monkeypatch.chdir(tmp_path)
    recs = gpu_check.run(params, ["vanishing_gradients", "dropout"], "cpu", tmp_path / "gpu", committed, prepared)
    vg, dropout = recs
    assert vg["device"]["device"] == "cpu" and vg["cpu_train_wall_s"] == 10.0 and vg["train_wall_s"] > 0
    assert vg["verdicts"]["vanishing"]["cpu"] == "refuted" and vg["verdicts"]["vanishing"]["gpu"] in (
        "shown", "refuted", "inconclusive")
    assert "prepared data missing: mnist" in dropout["skipped"]
    assert json.loads((tmp_path / "gpu" / "vanishing_gradients.json").read_text()) == vg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu", "metrics", "prepared"]  # nothing else written


def test_missing_device_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "stages/gpu_check.py"), "--device", "cuda"], cwd=ROOT,
                       capture_output=True, text=True)
    import torch

    if not torch.cuda.is_available():
        assert r.returncode == 2 and r.stderr.strip() == ("error: device: got 'cuda' but it is not available here; "
                                                          "allowed: auto or cpu")
