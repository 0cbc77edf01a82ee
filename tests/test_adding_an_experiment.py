"""docs/adding-an-experiment.md, followed: a throw-away experiment added to a scratch copy of the project keeps the
contract, gets its stages from the regenerated dvc.yaml, and trains, evaluates and plots on tiny data."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # runs three stages in subprocesses

ROOT = Path(__file__).resolve().parents[1]

SPEC = '''"""What the toy experiment is: a coin's bias estimated from flips, for two coins."""

from dlps.schema import SEEDS, Float, Int, ListOf, Section

NAME = "toy"
VARIANTS_KEY = "bias"
JUDGE_KEYS = ("alpha",)
METRICS = ("heads",)
DATASETS = ()
TORCH = False
CURVES = False

SCHEMA = Section({"seeds": SEEDS, "bias": ListOf(Float(0, 1), min_len=2, unique=True), "flips": Int(1, 10_000),
                  "alpha": Float(0, 0.5, lo_open=True)})


def variants(cfg):
    return [str(b) for b in cfg["bias"]]
'''
TRAIN = '''"""How a toy variant trains: flip its coin, seeded."""

import numpy as np


def train(cfg, variant, seeds, ctx):
    rows = [{"seed": s, "heads": float((np.random.default_rng(s).random(cfg["flips"]) < float(variant)).mean())}
            for s in seeds]
    return {"runs": rows, "history": []}
'''
JUDGE = '''"""How the toy experiment is judged: the biased coin lands heads more often."""

from dlps.verdicts import difference, finding


def analyze(cfg, runs, paired):
    return {"comparisons": {}, "derived": {}}


def findings(cfg, m, runs):
    lo, hi = sorted(runs, key=float)[0], sorted(runs, key=float)[-1]
    d = difference([r["heads"] for r in runs[hi]], [r["heads"] for r in runs[lo]], expect="greater",
                   alpha=cfg["alpha"], what="heads")
    return [finding("more_heads", "The biased coin lands heads more often", d, "Paired by seed.", primary=True)]
'''
FIGURES = '''"""Figures of the toy experiment: heads per coin."""

PLOTS = ["heads.png"]


def plot(cfg, m, runs, histories, out_dir):
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    fig, ax = plt.subplots()
    ax.bar(list(m["variants"]), [v["heads"]["mean"] for v in m["variants"].values()])
    return [save(fig, out_dir / "heads.png", "Mean share of heads per coin.")]
'''

WRITEUP = """title: A toy coin
question: Does the biased coin land heads more often?
setup: Each seed flips each coin; the shares of heads are compared by seed.
key_figure: heads.png
try:
  command: dvc exp run -S 'toy.flips=500'
  question: Does the difference sharpen with ten times the flips?
  compare: dvc metrics diff, or python stages/compare.py HEAD <exp name from dvc exp show>
"""


def sh(cmd, cwd, env):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_a_new_experiment_is_one_folder_its_params_and_a_regenerated_dag(tmp_path):
    repo = tmp_path / "repo"
    for src in ("dlps", "stages"):
        shutil.copytree(ROOT / src, repo / src, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "params.yaml", repo / "params.yaml")
    folder = repo / "dlps/experiments/toy"
    folder.mkdir()
    for name, text in (("__init__.py", ""), ("spec.py", SPEC), ("train.py", TRAIN), ("judge.py", JUDGE),
                       ("figures.py", FIGURES), ("writeup.yaml", WRITEUP)):
        (folder / name).write_text(text)
    # Wiring 1: the name in NAMES (report order)
    registry = repo / "dlps/experiments/__init__.py"
    text = registry.read_text()
    assert text.count('"sentiment")') == 1
    registry.write_text(text.replace('"sentiment")', '"sentiment", "toy")'))
    # Wiring 2: its params section
    with open(repo / "params.yaml", "a") as f:
        f.write("\ntoy:\n  seeds: [0, 1, 2, 3, 4, 5]\n  bias: [0.2, 0.8]\n  flips: 50\n  alpha: 0.05\n")
    env = {**os.environ, "PYTHONPATH": str(repo), "DLPS_PROGRESS": "0"}
    check = ("from dlps.experiments import _module, contract; "
             "print([p for k in contract.MODULES if _module('toy', k) for p in contract.problems(_module('toy', k), k)])")
    assert sh([sys.executable, "-c", check], repo, env).strip() == "[]"
    # Wiring 3: the regenerated DAG has its stages, deps and plots
    sh([sys.executable, "-m", "dlps.tools.dag"], repo, env)
    dvc = yaml.safe_load((repo / "dvc.yaml").read_text())
    train = dvc["stages"]["train_toy"]
    assert train["matrix"] == {"variant": "${toy.bias}"} and "toy.alpha" not in train["params"]
    assert {"dlps/experiments/toy/spec.py", "dlps/experiments/toy/train.py"} <= set(train["deps"])
    assert "dlps/experiments/toy/judge.py" not in train["deps"] and "plots/toy/heads.png" in dvc["plots"]
    for variant in ("0.2", "0.8"):
        sh([sys.executable, "stages/train.py", "toy", variant], repo, env)
    sh([sys.executable, "stages/evaluate.py", "toy"], repo, env)
    sh([sys.executable, "stages/plots.py", "toy"], repo, env)
    found = json.loads((repo / "metrics/toy.json").read_text())["findings"]
    assert [(f["id"], f["verdict"]) for f in found] == [("more_heads", "shown")]
    assert (repo / "plots/toy/heads.png").is_file()
    assert "dlps/experiments/toy/writeup.yaml" in dvc["stages"]["report"]["deps"]
