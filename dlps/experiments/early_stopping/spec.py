"""What the early-stopping experiment is: its params section, one variant (every patience is read off the same
full run per seed) and per-seed metrics."""

from __future__ import annotations

from dlps.runtime import PRECISIONS
from dlps.schema import Choice, Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "early_stopping"
VARIANTS_KEY = None
VARIANT = "all"
# What a stopping rule can watch: every one is computed in training from the same full run (its curve and a
# snapshot at each of its new bests), so `monitor` and `default_patience` only pick what the findings judge.
MONITORS = ("val_acc", "val_loss")
JUDGE_KEYS = ("alpha", "monitor", "default_patience", "min_saved_frac", "max_acc_drop_pp")
# Per-monitor, per-patience values in every per-seed row, named by col(); summarised per monitor and patience.
PER_PATIENCE = ("stop_epoch", "best_epoch", "stopped", "epochs_saved", "epochs_saved_frac", "epochs_past_best",
                "test_acc_restored", "acc_change_pp")
# Wall-clock values (they vary run to run; the pipeline stores them apart, and no metrics file summarises them).
TIMINGS = ("time_full_s", "time_saved_s", "time_saved_frac")
METRICS = ("epochs_full", "best_epoch_full_val_loss", "best_epoch_full_val_acc", "val_loss_rise", "test_acc_full",
           "test_acc_best_full_val_loss", "test_acc_best_full_val_acc")
TABLE_METRICS = METRICS
DATASETS = ("fashion_mnist",)
TORCH = True
ONE_TRAIN_STAGE = False
TEST_SCORED = ("1 + 2 × (1 + len(patience)) times per seed, all after the one full run: at its final weights "
               "(test_acc_full) and, per monitor (validation accuracy, validation loss), at its best weights "
               "(test_acc_best_full_<monitor>) and at each patience's restored weights "
               "(test_acc_restored_<monitor>_p<k>); stopping and restoring are decided on the validation curve "
               "alone, never on test data")
CLAIM_RANGE = (0.30, 0.40)  # the old "saves 30–40% of computation" claim, as a fraction of the epoch budget
N_TRAIN_TOTAL = 60_000
HISTORY_KEYS = ("seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_loss_running")

SCHEMA = Section({
    "seeds": SEEDS,
    "workers": Int(0, 1024),
    "threads": Int(0, 1024),
    "monitor": Choice(MONITORS),
    "patience": ListOf(Int(1, 10_000), min_len=1, unique=True),
    "default_patience": Int(1, 10_000),
    "min_delta": Float(0),
    "max_epochs": Int(2, 10_000),
    "n_train": Int(10, N_TRAIN_TOTAL - 10),
    "n_val": Int(10, N_TRAIN_TOTAL - 10),
    "hidden": ListOf(Int(1, 8192), min_len=1),
    "batch_size": Int(1, 65_536),
    "optimizer": Choice(("sgd", "adam")),
    "lr": Float(0, lo_open=True),
    "momentum": Float(0, 1, hi_open=True),
    "precision": Choice(PRECISIONS),
    "min_saved_frac": Float(0, 1),
    "max_acc_drop_pp": Float(0),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if cfg["default_patience"] not in cfg["patience"]:
        raise ParamError(f"early_stopping.default_patience: got {cfg['default_patience']}; allowed: one of "
                         f"early_stopping.patience {cfg['patience']}")
    for i, p in enumerate(cfg["patience"]):
        if p >= cfg["max_epochs"]:
            raise ParamError(f"early_stopping.patience[{i}]: got {p}; allowed: below early_stopping.max_epochs "
                             f"({cfg['max_epochs']}), or the rule can never stop the run")
    if cfg["n_train"] + cfg["n_val"] > N_TRAIN_TOTAL:
        raise ParamError(f"early_stopping.n_val: got {cfg['n_val']}; allowed: at most {N_TRAIN_TOTAL - cfg['n_train']} "
                         f"(n_train + n_val must fit in Fashion-MNIST's {N_TRAIN_TOTAL} training images)")


def col(key: str, monitor: str, patience: int) -> str:
    """The per-seed column of a per-patience value under one monitor, e.g. epochs_saved_frac_val_acc_p5."""
    return f"{key}_{monitor}_p{patience}"


def other(monitor: str) -> str:
    """The monitor the findings judge as the secondary one."""
    return next(m for m in MONITORS if m != monitor)


def variants(cfg: dict) -> list[str]:
    """One variant: every patience is read off the same full run per seed."""
    return [VARIANT]
