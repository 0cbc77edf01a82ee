"""What the sentiment experiment is: its params section, its variants (the models) and per-seed metrics."""

from __future__ import annotations

from dlps.runtime import PRECISIONS
from dlps.schema import Choice, Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "sentiment"
VARIANTS_KEY = "models"
JUDGE_KEYS = ("bar_bilstm", "bar_tfidf", "alpha")
MODELS = ("tfidf", "lstm", "bilstm", "gru")
BASELINE = "tfidf"
N_TRAIN = 25_000
DATASETS = ("imdb",)
TORCH = True
WORKERS = True
TEST_SCORED = ("Test reviews are scored once per model and seed, after all fitting and selection: TF-IDF at the C "
               "with the best validation accuracy, each recurrent model with the weights of its best validation "
               "epoch; no choice (C, epoch, early stop, model) ever reads test data.")
# Per-seed metrics, the same keys for every variant. The TIMINGS are wall-clock and CPU-time measurements (all of
# the variant's fitting, without data loading and the test pass): they vary between runs and with machine load, so
# the pipeline stores them apart. best_epoch and epochs_run are 0 for the TF-IDF baseline, which has no epochs.
# Each run row also holds test_acc_boot_low/high (a seeded percentile bootstrap 95% interval of its test accuracy
# over the test reviews) and CORRECT_KEY: per-review values, not summarised over seeds.
TIMINGS = ("train_time_s", "train_cpu_s")
METRICS = ("test_acc", "test_precision", "test_recall", "test_f1", "test_tn", "test_fp", "test_fn", "test_tp",
           "val_acc", "best_epoch", "epochs_run", "train_time_s", "train_cpu_s")
TABLE_METRICS = ("test_acc", "test_f1", "val_acc", "best_epoch", "train_time_s")
CORRECT_KEY = "test_correct"  # per run: which test reviews it got right, packed bits in base64 (for paired tests)
N_BOOT = 2000       # bootstrap resamples of the test reviews per run
BOOT_SEED = 20_250  # the bootstrap generator is seeded with (BOOT_SEED, run seed)
N_EXAMPLES = 3      # confidently right and confidently wrong test reviews kept per seed (for the report figure)
EXAMPLE_CHARS = 260  # each kept review truncated to this many characters

SCHEMA = Section({
    "workers": Int(0, 1024),
    "seeds": SEEDS,
    "models": ListOf(Choice(MODELS), min_len=1, unique=True),
    "n_val": Int(10, N_TRAIN - 10),
    "vocab_size": Int(3, 10_000_000),
    "max_len": Int(1, 100_000),
    "truncate": Choice(("head", "tail")),
    "embed_dim": Int(1, 4096),
    "hidden": Int(1, 4096),
    "dropout": Float(0, 1, hi_open=True),
    "epochs": Int(1, 1000),
    "patience": Int(1, 1000),
    "batch_size": Int(1, 65_536),
    "bucket_chunk": Int(1, 100_000),
    "lr": Float(0, lo_open=True),
    "clip": Float(0, lo_open=True),
    "precision": Choice(PRECISIONS),
    "threads": Int(0, 1024),
    "tfidf_C": ListOf(Float(0, lo_open=True), min_len=1, unique=True),
    "tfidf_min_df": Int(1, 1_000_000),
    "bar_bilstm": Float(0, 1),
    "bar_tfidf": Float(0, 1),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if BASELINE not in cfg["models"]:
        raise ParamError(f"sentiment.models: got {cfg['models']!r}; allowed: a list that includes {BASELINE} "
                         "(the baseline every recurrent model is compared with)")


def variants(cfg: dict) -> list[str]:
    return [str(m) for m in cfg["models"]]


def pack_correct(correct) -> str:
    """A 0/1 vector (one value per test review) as base64 of its packed bits: 25,000 reviews in 4,168 chars."""
    import base64

    import numpy as np

    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode("ascii")


def unpack_correct(packed: str, n: int):
    """The boolean vector pack_correct stored (n values)."""
    import base64

    import numpy as np

    return np.unpackbits(np.frombuffer(base64.b64decode(packed), dtype=np.uint8), count=n).astype(bool)
