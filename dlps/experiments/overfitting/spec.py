"""What the overfitting experiment is: its params section, its variants (polynomial degrees) and per-seed metrics."""

from __future__ import annotations

from dlps.schema import Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "overfitting"
VARIANTS_KEY = "degrees"
JUDGE_KEYS = ("alpha",)
METRICS = ("train_mse", "test_mse")
DATASETS = ()
TORCH = False
CURVES = False  # one fit per seed, no training curve: no history file

SCHEMA = Section({
    "seeds": SEEDS,
    "degrees": ListOf(Int(0, 30), min_len=3, unique=True),
    "n_train": Int(2, 10_000),
    "n_test": Int(10, 1_000_000),
    "noise_std": Float(0, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for i, d in enumerate(cfg["degrees"]):
        if d >= cfg["n_train"]:
            raise ParamError(f"overfitting.degrees[{i}]: got {d}; allowed: below overfitting.n_train "
                             f"({cfg['n_train']}), or the least-squares fit is not unique")


def variants(cfg: dict) -> list[str]:
    return [str(d) for d in cfg["degrees"]]


def roles(cfg: dict) -> tuple[int, list[int], int]:
    """The lowest degree, the middle ones and the highest."""
    degrees = sorted(cfg["degrees"])
    return degrees[0], degrees[1:-1], degrees[-1]
