"""What the sentiment experiment is: its params section, its variants (the models) and per-seed metrics."""

from __future__ import annotations

from dlps.runtime import PRECISIONS
from dlps.schema import Choice, Float, Int, ListOf, ParamError, Section, SEEDS

NAME = "sentiment"
VARIANTS_KEY = "models"
JUDGE_KEYS = ("bar_bilstm", "bar_tfidf", "alpha")
MODELS = ("tfidf", "tfidf_trunc", "lstm", "bilstm", "gru")
BASELINE = "tfidf"            # TF-IDF on whole reviews: the bar's baseline
SAME_TEXT = "tfidf_trunc"     # TF-IDF on exactly the tokens the recurrent models read: the fair comparison
TFIDF = (BASELINE, SAME_TEXT)
N_TRAIN = 25_000
DATASETS = ("imdb",)
TORCH = True
ONE_TRAIN_STAGE = True
TEST_SCORED = ("Test reviews are scored once per model and seed, after all fitting and selection: TF-IDF at the C "
               "with the best validation accuracy, each recurrent model with the weights of its best validation "
               "epoch; no choice (C, epoch, early stop, model) ever reads test data.")
# Per-seed metrics, the same keys for every variant. The TIMINGS are wall-clock and CPU-time measurements (all of
# the variant's fitting, without data loading and the test pass): they vary between runs and with machine load, so
# the pipeline stores them apart. best_epoch and epochs_run are 0 for the TF-IDF variants, which have no epochs.
# Each run row also holds test_acc_boot_low/high (a seeded percentile bootstrap 95% interval of its test accuracy
# over the test reviews) and CORRECT_KEY: per-review values, not summarised over seeds. Not numbers, so not in
# METRICS either: a recurrent run's stopped_by ("patience", or "max_epochs" where the cap ended it) and a TF-IDF
# run's tfidf_C_grid (the C values it chose tfidf_C from). A recurrent run also counts the token positions its
# recurrent layer ran over, each batch padded to its longest review: train_tokens (every training epoch) and
# eval_tokens (every validation pass and the test pass), for the roofline's FLOP count.
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
    "max_epochs": Int(1, 1000),
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
    if not set(TFIDF) <= set(cfg["models"]):
        raise ParamError(f"sentiment.models: got {cfg['models']!r}; allowed: a list that includes {BASELINE} and "
                         f"{SAME_TEXT} (the baselines on whole reviews and on the recurrent models' tokens)")
    if cfg["patience"] >= cfg["max_epochs"]:
        raise ParamError(f"sentiment.patience: got {cfg['patience']}; allowed: below max_epochs "
                         f"({cfg['max_epochs']}), or no run could stop by patience")


def variants(cfg: dict) -> list[str]:
    return [str(m) for m in cfg["models"]]


def recurrent(names) -> list[str]:
    """The recurrent models among the variant names, in their order."""
    return [v for v in names if v not in TFIDF]


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
