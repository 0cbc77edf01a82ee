"""docs/params-full-scale.yaml: valid for every stage, and never drifting from params.yaml's keys."""

from __future__ import annotations

from pathlib import Path

from dlps.experiments import NAMES
from dlps.experiments import load as load_experiment
from dlps.params import load, read_params

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "docs/params-full-scale.yaml"
DEFAULT = ROOT / "params.yaml"


def key_paths(tree: dict, prefix: str = "") -> set[str]:
    """Every key as a dotted path (`dropout.n_train`); lists are values, not nested keys."""
    paths = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths.add(path)
        if isinstance(value, dict):
            paths |= key_paths(value, f"{path}.")
    return paths


def test_full_scale_params_pass_the_stages_validation():
    load(FULL)  # what every stage runs first (dlps.cli.stage): the whole file, and every cross-key rule


def test_full_scale_params_have_exactly_the_keys_of_params_yaml():
    full, default = key_paths(read_params(FULL)), key_paths(read_params(DEFAULT))
    assert full == default, (f"only in {FULL.name}: {sorted(full - default)}; "
                             f"only in params.yaml: {sorted(default - full)}")


def test_full_scale_params_use_the_full_training_sets():
    full, default = load(FULL), load(DEFAULT)
    assert full["dropout"]["n_train"] + full["dropout"]["n_val"] == 60_000  # MNIST's training set
    assert full["early_stopping"]["n_train"] + full["early_stopping"]["n_val"] == 60_000  # Fashion-MNIST's
    assert full["l2"]["n_train"] + full["l2"]["n_val"] == 50_000  # CIFAR-10's
    for name in ("dropout", "l2", "early_stopping"):
        assert len(full[name]["seeds"]) >= 5
    assert len(full["sentiment"]["seeds"]) >= 3
    assert full["numpy_rnn"]["steps"] > default["numpy_rnn"]["steps"]
    assert full["l2"]["epochs"] > default["l2"]["epochs"]
    assert full["early_stopping"]["max_epochs"] > default["early_stopping"]["max_epochs"]
    # The same variants, so the DVC stages (a matrix over them) and the report's comparisons are the same.
    for name in NAMES:
        spec = load_experiment(name).spec
        assert spec.variants(full[name]) == spec.variants(default[name]), name
