"""The experiments of the study, in report order, and `load`: the one way into an experiment's folder.

dlps/experiments/<name>/
  spec.py     what it is: its params SCHEMA, variants, judging keys, per-seed metric names, datasets
  train.py    how a variant's seeds train: the only experiment code (with spec.py) that a train stage depends on
  judge.py    its comparisons and findings (dlps.verdicts rules, fixed before the data are seen)
  figures.py  its figures, and the DVC plot definitions over them
  cost.py     (optional) its training FLOPs, job costs and bench workload, read by the tools and the scheduler
  power.py    (optional) its primaries' power calculations from the pilot, read by dlps.tools.power
  writeup.yaml, literature.yaml, tiny.yaml: report prose and old claim, literature rows, tiny-data params for tests
contract.py beside this file types every part (`load(name).judge.findings`, `load(name).spec.curves`, ...) with its
default. Modules import torch and matplotlib inside functions, so loading an experiment stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import ModuleType

from dlps.experiments.contract import MODULES, OPTIONAL, Experiment, Spec, read_part

NAMES = ("overfitting", "dropout", "l2", "early_stopping", "bias_variance", "numpy_rnn", "vanishing_gradients",
         "architectures", "sentiment")


def _module(name: str, which: str) -> ModuleType | None:
    """dlps.experiments.<name>.<which>; None for an optional module the experiment does not have."""
    assert which in MODULES, which
    qualified = f"dlps.experiments.{name}.{which}"
    if which in OPTIONAL and importlib.util.find_spec(qualified) is None:
        return None
    return importlib.import_module(qualified)


@cache
def load(name: str) -> Experiment:
    """The experiment `name`; an unknown name is a ParamError naming the choices."""
    from dlps.schema import ParamError

    if name not in NAMES:
        raise ParamError(f"experiment: got {name!r}; allowed: one of {', '.join(NAMES)}")
    return Experiment(name, read_part(Spec, _module(name, "spec")), lambda which: _module(name, which))


def load_all() -> list[Experiment]:
    """Every experiment, in report order."""
    return [load(name) for name in NAMES]
