"""The experiments of the study, in report order; each is a folder with one job per file.

dlps/experiments/<name>/
  spec.py     what it is: SCHEMA of its params section (with its own `seeds`), check(cfg), variants(cfg),
              VARIANTS_KEY (the params key listing the variants, or None), JUDGE_KEYS (keys only judging reads),
              METRICS / TABLE_METRICS / TIMINGS (per-seed names), DATASETS (prepared data it trains on),
              TORCH (uses the device/threads set-up), WORKERS (True: all variants train in one stage whose
              (variant, seed) jobs run in worker processes)
  train.py    train(cfg, variant, seeds, ctx) -> {"runs": [per-seed dicts], "history": [rows]}: the only
              experiment code (with spec.py) that a train stage depends on
  judge.py    analyze(cfg, runs, paired) -> {"comparisons", "derived"}; findings(cfg, metrics) -> [finding]
              (dlps.verdicts rules, fixed before the data are seen)
  figures.py  plot(cfg, metrics, runs, histories, out_dir) -> [figure]
Titles, questions and "try it" suggestions are report prose, in writeups.yaml beside this file.
Modules import torch and matplotlib inside functions, so reading a spec stays cheap.
"""

from __future__ import annotations

import importlib

NAMES = ("overfitting", "dropout", "l2", "early_stopping", "bias_variance", "numpy_rnn", "vanishing_gradients",
         "architectures", "sentiment")
PARTS = ("spec", "train", "judge", "figures")


def part(name: str, which: str):
    """The module dlps.experiments.<name>.<which>; an unknown experiment is a ParamError naming the choices."""
    from dlps.schema import ParamError

    if name not in NAMES:
        raise ParamError(f"experiment: got {name!r}; allowed: one of {', '.join(NAMES)}")
    if which not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {which!r}")
    return importlib.import_module(f"dlps.experiments.{name}.{which}")


def train_stages(params: dict, name: str) -> list[str]:
    """The DVC stages that train an experiment: one per variant, or one for all when its spec says WORKERS."""
    spec = part(name, "spec")
    if getattr(spec, "WORKERS", False):
        return [f"train_{name}"]
    if spec.VARIANTS_KEY is None:
        return [f"train_{name}"]
    return [f"train_{name}@{v}" for v in spec.variants(params[name])]
