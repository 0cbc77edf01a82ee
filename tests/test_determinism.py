"""Same params and seed give bit-identical per-run metrics (wall-clock values live apart); different seeds differ."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# (experiment, stage arguments, params overrides): a per-variant stage without timings, and a grouped stage whose
# rows carry wall-clock values and whose (variant, seed) jobs run in two worker processes.
CASES = {
    "overfitting": (["overfitting", "15"], {}),
    "architectures": (["architectures"], {"variants": ["rnn", "lstm", "gru"], "lags": [5], "hidden": 4, "batch": 8,
                                          "max_steps": 10, "eval_every": 5, "n_val": 20, "n_test": 20,
                                          "workers": 2}),
}


def train_once(workdir: Path, name: str, seeds: list[int], **extra) -> dict[str, bytes]:
    """Run the stage in a fresh folder; return the bytes of its per-run files (runs/ and timing/runs/)."""
    args, overrides = CASES[name]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params[name].update(overrides, seeds=seeds, **extra)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "stages/train.py"), *args], cwd=workdir, env=env, check=True,
                   capture_output=True)
    out = {str(p.relative_to(workdir)): p.read_bytes()
           for folder in ("metrics/runs", "metrics/timing/runs") for p in sorted((workdir / folder).rglob("*.json"))}
    assert list((workdir / "metrics/timing").glob(f"train_{name}*.json"))  # the stage's own timing record
    shutil.rmtree(workdir)
    return out


@pytest.mark.parametrize("name", CASES)
def test_same_seed_bit_identical_and_new_seed_differs(tmp_path, name):
    first = train_once(tmp_path / "a", name, [0, 1, 2])
    runs = results(first)
    assert runs and len(runs) == len(first) // 2  # every runs file has its timing twin
    assert results(train_once(tmp_path / "b", name, [0, 1, 2])) == runs
    other = train_once(tmp_path / "c", name, [3, 4, 5])
    assert all(other[k] != v for k, v in runs.items())


def results(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith("metrics/runs/")}


def test_parallel_workers_give_the_same_bytes_as_one_process(tmp_path):
    assert results(train_once(tmp_path / "a", "architectures", [0, 1], workers=1)) == \
        results(train_once(tmp_path / "b", "architectures", [0, 1], workers=2))


def test_wall_clock_values_are_kept_apart(tmp_path):
    """The per-step timings of the architectures runs are in metrics/timing/runs/, never in metrics/runs/."""
    files = train_once(tmp_path / "a", "architectures", [0])
    for key, data in files.items():
        row = json.loads(data)["runs"][0]
        timing = {k for k in row if "ms_per_step" in k}
        assert (timing == set()) if key.startswith("metrics/runs/") else (timing and set(row) == timing | {"seed"})
