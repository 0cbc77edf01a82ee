"""Same params and seed give bit-identical per-run metrics; different seeds give different runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def train_once(workdir: Path, seeds: list[int]) -> bytes:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["overfitting"]["seeds"] = seeds
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "stages/train.py"), "overfitting", "15"], cwd=workdir, env=env,
                   check=True, capture_output=True)
    out = (workdir / "metrics/runs/overfitting/15.json").read_bytes()
    assert (workdir / "metrics/timing/train_overfitting-15.json").is_file()  # timings live apart
    shutil.rmtree(workdir)
    return out


def test_same_seed_bit_identical_and_new_seed_differs(tmp_path):
    first = train_once(tmp_path / "a", [0, 1, 2])
    assert train_once(tmp_path / "b", [0, 1, 2]) == first
    assert train_once(tmp_path / "c", [3, 4, 5]) != first
