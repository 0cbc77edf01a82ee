"""Bad params fail before any work, with one line naming the key path, the value and what is allowed."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlps.params import ParamError, load

ROOT = Path(__file__).resolve().parents[1]
GOOD = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_change(path: str, value, delete: bool = False) -> dict:
    params = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = params
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return params


BAD = [  # (key path changed, new value, text the message must contain)
    ("bogus_section", {"a": 1}, "bogus_section: unknown key"),
    ("overfitting.degreez", [1, 2], "overfitting.degreez: unknown key"),
    ("dropout.seeds", [], "seeds: got []"),
    ("dropout.seeds", [0, 1, 1], "repeated"),
    ("dropout.seeds", [0, -1], "seeds[1]: got -1"),
    ("dropout.seeds", "0,1", "seeds: got '0,1'"),
    ("device", "tpu", "device: got 'tpu'; allowed: one of auto, cpu, cuda, mps"),
    ("threads", -1, "threads: got -1"),
    ("threads", 1.5, "threads: got 1.5"),
    ("flush_denormal", "yes", "flush_denormal: got 'yes'"),
    ("data.datasets", ["mnist", "imagenet"], "data.datasets[1]: got 'imagenet'"),
    ("data.datasets", [], "data.datasets: got []"),
    ("data.retries", True, "data.retries: got True"),
    ("data.timeout_s", 0, "data.timeout_s: got 0"),
    ("data.mirror", 5, "data.mirror: got 5"),
    ("overfitting.degrees", [1, 3], "at least 3"),
    ("overfitting.degrees", [1, 3, "x"], "overfitting.degrees[2]: got 'x'"),
    ("overfitting.degrees", [1, 3, 3, 5], "repeated"),
    ("overfitting.degrees", [1, 3, 40], "overfitting.degrees[2]: got 40"),
    ("overfitting.n_train", 1, "overfitting.n_train: got 1"),
    ("overfitting.noise_std", -0.1, "overfitting.noise_std: got -0.1"),
    ("overfitting.noise_std", float("nan"), "overfitting.noise_std: got nan"),
    ("overfitting.alpha", 0.9, "overfitting.alpha: got 0.9"),
    ("overfitting.n_test", None, "overfitting.n_test: got None"),
    ("dropout.p", [0.0, 1.0], "dropout.p[1]: got 1.0; allowed: a number >= 0 and < 1"),
    ("dropout.p", [0.0, -0.1], "dropout.p[1]: got -0.1"),
    ("dropout.lr", 0, "dropout.lr: got 0; allowed: a number > 0"),
    ("dropout.lr", -0.01, "dropout.lr: got -0.01"),
    ("dropout.optimizer", "rmsprop", "dropout.optimizer: got 'rmsprop'; allowed: one of sgd, adam"),
    ("l2.lam", [], "l2.lam: got []"),
    ("l2.lam", [0, -1.0, 0.1], "l2.lam[1]: got -1.0"),
    ("early_stopping.patience", [], "early_stopping.patience: got []"),
    ("numpy_rnn.lr", 0, "numpy_rnn.lr: got 0"),
    ("vanishing_gradients.rhos", [], "vanishing_gradients.rhos: got []"),
]


@pytest.mark.parametrize("path,value,expected", BAD, ids=[f"{p}={v!r}" for p, v, _ in BAD])
def test_bad_value_is_one_clear_line(tmp_path, path, value, expected):
    f = tmp_path / "params.yaml"
    f.write_text(yaml.safe_dump(with_change(path, value)))
    with pytest.raises(ParamError) as e:
        load(f)
    message = str(e.value)
    assert expected in message and "\n" not in message and ("allowed" in message)


def test_missing_key_is_named(tmp_path):
    f = tmp_path / "params.yaml"
    f.write_text(yaml.safe_dump(with_change("overfitting.n_train", None, delete=True)))
    with pytest.raises(ParamError, match="overfitting.n_train: missing"):
        load(f)


@pytest.mark.parametrize("text", ["seeds: [0, 1\n", "a: b: c\n", "- just\n- a list\n"])
def test_malformed_yaml(tmp_path, text):
    f = tmp_path / "params.yaml"
    f.write_text(text)
    with pytest.raises(ParamError, match="params.yaml"):
        load(f)


def test_cross_key_rule_degree_below_n_train(tmp_path):
    from dlps.experiments.overfitting import spec as overfitting

    cfg = load(ROOT / "params.yaml")["overfitting"] | {"degrees": [1, 3, 30], "n_train": 30}
    with pytest.raises(ParamError, match=r"overfitting.degrees\[2\]: got 30; allowed: below"):
        overfitting.check(cfg)


def test_good_params_load():
    assert load(ROOT / "params.yaml")["overfitting"]["degrees"]


def test_stage_exits_before_work_and_writes_nothing(tmp_path):
    """A stage run on bad params exits non-zero with one `error:` line and creates no output."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("overfitting.n_train", 0)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, str(ROOT / "stages/train.py"), "overfitting", "3"], cwd=tmp_path,
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == ["error: overfitting.n_train: got 0; allowed: an integer >= 2 and <= 10000"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["params.yaml"]
