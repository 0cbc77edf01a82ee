"""What the numpy_rnn experiment is: its params section, its one variant, and the per-seed metrics it records."""

from __future__ import annotations

import math

from dlps.schema import Float, Int, ListOf, ParamError, Section, SEEDS, Str

NAME = "numpy_rnn"
VARIANT = "rnn"
VARIANTS_KEY = None  # one fixed variant
JUDGE_KEYS = ("bar", "agree_tol", "alpha")
DATASET = "tinyshakespeare"
DATASETS = (DATASET,)
TORCH = True  # the PyTorch twin
ONE_TRAIN_STAGE = False
TEST_SCORED = ("once, after the last training step: the final weights and the unigram/bigram baselines on the last "
               "test_fraction of the text; the validation part before it is scored every eval_every steps for the "
               "loss curves only")
LN2 = math.log(2.0)
EVAL_WINDOW = 256  # chars per forward call when scoring; with the state carried the result does not depend on it

# Per-seed metrics, all deterministic for given params. The TIMINGS (wall-clock throughputs, which vary with
# machine load) are recorded apart (metrics/timing/runs/) and never summarised into metrics/numpy_rnn.json.
METRICS = ("rnn_test_nats", "rnn_test_bits", "bigram_test_nats", "bigram_test_bits", "unigram_test_nats",
           "unigram_test_bits", "rnn_over_bigram", "rnn_val_nats", "bigram_val_nats", "unigram_val_nats",
           "rnn_train_nats", "twin_max_abs_dloss_f64", "twin_max_abs_dloss_f32", "numpy_f32_vs_f64_max_abs_dloss")
TABLE_METRICS = ("rnn_test_bits", "bigram_test_bits", "unigram_test_bits", "rnn_over_bigram", "rnn_val_nats",
                 "rnn_train_nats", "twin_max_abs_dloss_f64", "twin_max_abs_dloss_f32",
                 "numpy_f32_vs_f64_max_abs_dloss")
TIMINGS = ("numpy_chars_per_s", "torch_chars_per_s")

SCHEMA = Section({
    "seeds": SEEDS,
    "workers": Int(0, 1024),                       # processes training seeds at once; 0 = one per core
    "val_fraction": Float(0, 0.5, lo_open=True),   # the part of the text before the test part validates
    "test_fraction": Float(0, 0.5, lo_open=True),  # the last this fraction of the text is the test part
    "hidden": Int(1, 4096),
    "seq_len": Int(1, 100_000),                    # BPTT window (chars)
    "batch": Int(1, 4096),                         # windows per step
    "steps": Int(1, 10_000_000),
    "lr": Float(0, lo_open=True),                  # Adam
    "clip": Float(0, lo_open=True),                # max global gradient norm
    "eval_every": Int(1, 10_000_000),              # steps between history rows (full validation pass each)
    "eval_batch": Int(1, 4096),                    # parallel streams the validation / test text is cut into
    "ngram_k": Float(0, lo_open=True),             # add-k smoothing of the baselines
    "torch_steps": Int(2, 10_000_000),             # steps replayed by the PyTorch twin (agreement, throughput)
    "temperatures": ListOf(Float(0, lo_open=True), min_len=1, unique=True),
    "sample_chars": Int(1, 100_000),
    "prompt": Str(empty=False),                    # chars fed before sampling; each must be in the vocabulary
    "bar": Float(0, 1, lo_open=True),              # judging: the RNN must reach test loss < bar x bigram's
    "agree_tol": Float(0, lo_open=True),           # judging: max float64 |loss_numpy - loss_torch| (nats)
    "alpha": Float(0, 0.5, lo_open=True),          # judging
    "threads": Int(0, 1024),                       # NumPy's BLAS and torch threads here; 0 = the shared setting
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for key in ("eval_every", "torch_steps"):
        if cfg[key] > cfg["steps"]:
            raise ParamError(f"{NAME}.{key}: got {cfg[key]}; allowed: at most {NAME}.steps ({cfg['steps']})")


def variants(cfg: dict) -> list[str]:
    return [VARIANT]
