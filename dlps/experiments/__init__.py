"""The experiments of the study, in report order; each is a folder with one job per file.

dlps/experiments/<name>/
  spec.py     what it is: its params SCHEMA, variants, judging keys, per-seed metric names, datasets
  train.py    how a variant's seeds train: the only experiment code (with spec.py) that a train stage depends on
  judge.py    its comparisons and findings (dlps.verdicts rules, fixed before the data are seen)
  figures.py  its figures, and the DVC plot definitions over them
  cost.py     (optional) its training FLOPs and bench workload, read by the tools only
  power.py    (optional) its primaries' power calculations from the pilot, read by dlps.tools.power
  writeup.yaml, literature.yaml, tiny.yaml: report prose, literature rows, tiny-data params for the tests
contract.py beside this file lists every part these modules and files define, with its type, default and meaning,
and is how the framework reads them.
Modules import torch and matplotlib inside functions, so reading a spec stays cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path

NAMES = ("overfitting", "dropout", "l2", "early_stopping", "bias_variance", "numpy_rnn", "vanishing_gradients",
         "architectures", "sentiment")
PARTS = ("spec", "train", "judge", "figures")
OPTIONAL_PARTS = ("cost", "power")  # its training FLOPs and bench workload; its power calculation (tools only)


def part(name: str, which: str):
    """The module dlps.experiments.<name>.<which>; an unknown experiment is a ParamError naming the choices."""
    from dlps.schema import ParamError

    if name not in NAMES:
        raise ParamError(f"experiment: got {name!r}; allowed: one of {', '.join(NAMES)}")
    if which not in PARTS + OPTIONAL_PARTS:
        raise ValueError(f"part must be one of {PARTS + OPTIONAL_PARTS}, got {which!r}")
    return importlib.import_module(f"dlps.experiments.{name}.{which}")


def has_part(name: str, which: str) -> bool:
    """Whether the experiment has the (optional) module dlps.experiments.<name>.<which>."""
    import importlib.util

    return importlib.util.find_spec(f"dlps.experiments.{name}.{which}") is not None


def folder_file(name: str, filename: str) -> Path:
    """A data file of the experiment's folder (contract.FILES: writeup.yaml, literature.yaml, tiny.yaml)."""
    part(name, "spec")  # an unknown experiment is a ParamError
    return Path(__file__).parent / name / filename


def read_folder_yaml(name: str, filename: str, default=None):
    """The parsed data file of the experiment's folder, or `default` if it has none."""
    import yaml

    path = folder_file(name, filename)
    return yaml.safe_load(path.read_text()) if path.is_file() else default


def train_stages(params: dict, name: str) -> list[str]:
    """The DVC stages that train an experiment: one for all when its spec says ONE_TRAIN_STAGE, else one per variant
    (a DVC matrix, also over the single variant of an experiment without a variants key)."""
    from dlps.experiments.contract import get

    spec = part(name, "spec")
    if get(spec, "ONE_TRAIN_STAGE"):
        return [f"train_{name}"]
    return [f"train_{name}@{v}" for v in spec.variants(params[name])]
