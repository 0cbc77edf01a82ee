"""What the dropout experiment is: its params section, its variants (dropout rates) and per-seed metrics."""

from __future__ import annotations

from dlps.runtime import PRECISIONS
from dlps.schema import Choice, Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "dropout"
VARIANTS_KEY = "p"
JUDGE_KEYS = ("alpha", "min_gain", "min_gap_change", "min_acc_gap_change")
# Per-seed values. gap = train − test accuracy; loss_gap = test − train cross-entropy (both eval mode, final
# weights): with train accuracy 1.0 the accuracy gap is just the test error, the loss gap is not.
METRICS = ("test_acc", "test_loss", "train_loss", "loss_gap", "gap", "train_acc", "val_acc", "best_val_epoch",
           "val_loss_rise", "test_acc_best_val")
TABLE_METRICS = ("test_acc", "train_acc", "val_acc", "loss_gap", "test_acc_best_val")
TIMINGS = ()
DATASETS = ("mnist",)
TORCH = True
ONE_TRAIN_STAGE = False
TEST_SCORED = ("twice per run, after training ends: at the final weights (test_acc, test_loss: the reported "
               "result) and at the best-validation-loss weights (test_acc_best_val, shown for comparison only); "
               "nothing is chosen on test data (the best p is chosen on validation accuracy)")
HISTORY_KEYS = ("seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_loss_running")
CLAIM_RANGE = (0.15, 0.20)  # the old "15–20% improvement" claim, as a fraction
N_MNIST_TRAIN = 60_000


class Rate(Float):
    """A dropout probability in [0, 1), kept exactly as written so str(p) matches DVC's ${item.p}."""

    def check(self, path: str, value):
        super().check(path, value)
        return value


SCHEMA = Section({
    "seeds": SEEDS,
    "workers": Int(0, 1024),
    "threads": Int(0, 1024),
    "p": ListOf(Rate(0, 1, hi_open=True), min_len=2, unique=True),
    "n_train": Int(10, N_MNIST_TRAIN - 10),
    "n_val": Int(10, N_MNIST_TRAIN - 10),
    "hidden": ListOf(Int(1, 8192), min_len=1),
    "epochs": Int(1, 10_000),
    "batch_size": Int(1, 65_536),
    "optimizer": Choice(("sgd", "adam")),
    "lr": Float(0, lo_open=True),
    "momentum": Float(0, 1, hi_open=True),
    "precision": Choice(PRECISIONS),
    "alpha": Float(0, 0.5, lo_open=True),
    "min_gain": Float(0, 1, lo_open=True),
    "min_gap_change": Float(0, lo_open=True),
    "min_acc_gap_change": Float(0, 1, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if 0 not in cfg["p"]:
        raise ParamError(f"dropout.p: got {cfg['p']!r}; allowed: a list that includes 0.0 (the no-dropout baseline)")
    if cfg["n_train"] + cfg["n_val"] > N_MNIST_TRAIN:
        raise ParamError(f"dropout.n_val: got {cfg['n_val']}; allowed: at most {N_MNIST_TRAIN - cfg['n_train']} "
                         f"(n_train + n_val must fit in MNIST's {N_MNIST_TRAIN} training images)")


def variants(cfg: dict) -> list[str]:
    return [str(p) for p in cfg["p"]]


def rates(cfg: dict) -> tuple[str, list[str]]:
    """The baseline variant (p = 0) and the dropout variants, as variant strings."""
    base = next(str(p) for p in cfg["p"] if p == 0)
    return base, [str(p) for p in cfg["p"] if p != 0]
