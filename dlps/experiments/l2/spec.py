"""What the L2 experiment is: its params section, its variants (penalty strengths λ) and per-seed metrics."""

from __future__ import annotations

from dlps.runtime import PRECISIONS
from dlps.schema import Bool, Choice, Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "l2"
VARIANTS_KEY = "lam"
JUDGE_KEYS = ("alpha", "claim_lam", "min_gain", "min_norm_drop", "late_epochs")
METRICS = ("val_acc", "test_acc", "train_acc", "gap", "weight_norm", "test_loss", "train_loss")
TABLE_METRICS = ("val_acc", "test_acc", "train_acc", "weight_norm")
TIMINGS = ()
DATASETS = ("cifar10",)
TORCH = True
ONE_TRAIN_STAGE = False
TEST_SCORED = ("once per run (every λ and seed), at the final weights after the last epoch (test_acc, "
               "test_loss); λ* is chosen on validation accuracy, and the claimed λ is fixed in params, so no "
               "choice is made on test data")
HISTORY_KEYS = ("seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_loss_running",
                "weight_norm")
# Per-epoch eval-mode losses kept in each run (as <key>_by_epoch lists): the overfitting precondition reads them.
CURVE_KEYS = ("train_loss", "val_loss")
N_CIFAR_TRAIN = 50_000
# Weight histograms: fixed bins over [-HIST_LIMIT, HIST_LIMIT]; weights outside go into the two edge bins.
HIST_LIMIT = 0.25
HIST_BINS = 100


class Lam(Float):
    """A penalty strength λ ≥ 0, kept exactly as written so that str(λ) matches DVC's ${item.lam}."""

    def check(self, path: str, value):
        if isinstance(value, str):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()} (YAML reads 1e-4 as a string: "
                             "write 1.0e-4 or 0.0001)")
        super().check(path, value)
        return value


SCHEMA = Section({
    "seeds": SEEDS,
    "workers": Int(0, 1024),
    "threads": Int(0, 1024),
    "lam": ListOf(Lam(0), min_len=3, unique=True),
    "claim_lam": Lam(0, lo_open=True),
    "n_train": Int(10, N_CIFAR_TRAIN - 10),
    "n_val": Int(10, N_CIFAR_TRAIN - 10),
    "channels": ListOf(Int(1, 1024), min_len=1),
    "hidden": Int(1, 65_536),
    "epochs": Int(1, 10_000),
    "batch_size": Int(1, 65_536),
    "optimizer": Choice(("sgd",)),
    "lr": Float(0, lo_open=True),
    "momentum": Float(0, 1, hi_open=True),
    "precision": Choice(PRECISIONS),
    "channels_last": Bool(),
    "train_eval_size": Int(1),
    "alpha": Float(0, 0.5, lo_open=True),
    "min_gain": Float(0, 1, lo_open=True),
    "min_norm_drop": Float(0, 1, lo_open=True),
    "late_epochs": Int(2, 10_000),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if 0 not in cfg["lam"]:
        raise ParamError(f"l2.lam: got {cfg['lam']!r}; allowed: a list that includes 0 (the unregularised baseline)")
    if cfg["claim_lam"] not in cfg["lam"]:
        raise ParamError(f"l2.claim_lam: got {cfg['claim_lam']!r}; allowed: one of l2.lam {cfg['lam']!r} "
                         "(the claim is judged against the trained values)")
    if cfg["n_train"] + cfg["n_val"] > N_CIFAR_TRAIN:
        raise ParamError(f"l2.n_val: got {cfg['n_val']}; allowed: at most {N_CIFAR_TRAIN - cfg['n_train']} "
                         f"(n_train + n_val must fit in CIFAR-10's {N_CIFAR_TRAIN} training images)")
    if cfg["late_epochs"] > cfg["epochs"]:
        raise ParamError(f"l2.late_epochs: got {cfg['late_epochs']}; allowed: at most l2.epochs ({cfg['epochs']}): "
                         "the overfitting check fits slopes to the last late_epochs epochs")
    if 32 % 2 ** len(cfg["channels"]):
        raise ParamError(f"l2.channels: got {cfg['channels']!r}; allowed: at most 5 stages (each halves 32×32)")


def variants(cfg: dict) -> list[str]:
    return [str(v) for v in cfg["lam"]]


def ordered(cfg: dict) -> list[str]:
    """Variant strings sorted by λ (0 first)."""
    return [str(v) for v in sorted(cfg["lam"])]


def base(cfg: dict) -> str:
    return next(str(v) for v in cfg["lam"] if v == 0)
