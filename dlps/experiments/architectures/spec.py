"""What the architectures experiment is: its params section, its model configurations (variants) and metrics."""

from __future__ import annotations

import inspect

from dlps.schema import SEEDS, Choice, Float, Int, ListOf, ParamError, Section
from dlps.data.tasks import ADDING_BASELINE_MSE

NAME = "architectures"
VARIANTS_KEY = "variants"
JUDGE_KEYS = ("alpha", "margin_log10")

# Every model configuration: (cell kind, ablation flags for dlps.models.cells). "lstm" has torch's forget-gate
# bias 0; "lstm_forget_bias1" adds 1 to it at init. Every configuration runs the from-scratch cells (so an ablation
# and its parent differ only in the ablation, not in the implementation) and, under one seed, every configuration
# of a kind starts from the same weights.
CONFIGS = {
    "rnn": ("rnn", {}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {}),
    "lstm_no_forget": ("lstm", {"forget_gate": False}),
    "lstm_no_input": ("lstm", {"input_gate": False}),
    "lstm_no_output": ("lstm", {"output_gate": False}),
    "lstm_forget_bias1": ("lstm", {"forget_bias": 1.0}),
    "gru_no_reset": ("gru", {"reset_gate": False}),
    "gru_no_update": ("gru", {"update_gate": False}),
}
MODELS = ("rnn", "lstm", "gru")

# Per-seed metrics at the longest lag (the headline); every row also holds them per lag as <metric>_lag<L>,
# which analyze summarises under derived["per_lag"]. All are deterministic for given params except the TIMINGS
# (wall clock and process CPU time per member-step: each batched step's time split evenly over the models trained
# in it; they vary with machine load, and the pipeline stores them apart).
TIMINGS = ("ms_per_step", "cpu_ms_per_step")
# solved_frac: the fraction of the seed's test sequences with |prediction − target| < SOLVED_ABS_ERR, Hochreiter &
# Schmidhuber 1997's criterion for a correctly processed adding-problem sequence (the old claim's "accuracy" in its
# source's own terms; a fixed definition, not a setting).
SOLVED_ABS_ERR = 0.04
METRICS = ("test_mse", "log10_test_mse", "success", "solved_frac", "steps_to_success", "params", "ms_per_step",
           "cpu_ms_per_step")
TABLE_METRICS = ("test_mse", "success", "solved_frac", "steps_to_success", "params", "ms_per_step")
LAG_METRICS = METRICS + ("best_val_mse", "steps")
DATASETS = ()
TORCH = True
ONE_TRAIN_STAGE = True
TEST_SCORED = ("Once per configuration, lag and seed, after training, with the weights of the best validation "
               "evaluation; test data never choose a checkpoint, a stop or a setting.")

SCHEMA = Section({
    "workers": Int(0, 1024),
    "seeds": SEEDS,
    "threads": Int(0, 1024),
    "variants": ListOf(Choice(tuple(CONFIGS)), min_len=3, unique=True),
    "lags": ListOf(Int(2, 5000), min_len=1, unique=True),
    "hidden": Int(1, 4096),
    "batch": Int(1, 100_000),
    # Adam learning rate per cell kind, chosen on validation in the pilot; an ablation trains at its parent's
    "lr": Section({m: Float(0, 1, lo_open=True) for m in MODELS}),
    "clip": Float(0, lo_open=True),
    "max_steps": Int(1, 10_000_000),
    "eval_every": Int(1, 10_000_000),
    "stop_after": Int(0, 1000),
    "stop_solved_frac": Float(0, 1),
    "n_val": Int(1, 1_000_000),
    "n_test": Int(1, 1_000_000),
    "success_mse": Float(0, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
    "margin_log10": Float(0, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for m in MODELS:
        if m not in cfg["variants"]:
            raise ParamError(f"architectures.variants: got {cfg['variants']}; allowed: a list that includes "
                             f"{', '.join(MODELS)} (the findings compare them; ablations are optional)")
    if cfg["eval_every"] > cfg["max_steps"]:
        raise ParamError(f"architectures.eval_every: got {cfg['eval_every']}; allowed: at most "
                         f"architectures.max_steps ({cfg['max_steps']}), or validation never runs")
    if cfg["success_mse"] >= ADDING_BASELINE_MSE:
        raise ParamError(f"architectures.success_mse: got {cfg['success_mse']}; allowed: below the baseline MSE "
                         f"{ADDING_BASELINE_MSE:.4f} of always predicting 1")


def variants(cfg: dict) -> list[str]:
    return list(cfg["variants"])


def parent(variant: str) -> str:
    """The unablated model an ablation is compared with."""
    return CONFIGS[variant][0]


def configuration(variant: str) -> tuple:
    """The full cell configuration (kind plus every ablation keyword with its default filled in)."""
    from dlps.models.cells import CELLS

    kind, ablation = CONFIGS[variant]
    params = inspect.signature(CELLS[kind]).parameters
    flags = {k: p.default for k, p in params.items() if k not in ("input_size", "hidden_size")}
    unknown = set(ablation) - set(flags)
    if unknown:
        raise ValueError(f"{variant}: unknown ablation flags {sorted(unknown)}")
    return (kind, tuple(sorted((flags | ablation).items())))


def lr_of(cfg: dict, variant: str) -> float:
    """The Adam learning rate a configuration trains at: its cell kind's (an ablation's parent's); a bare number
    (direct callers that skip the params schema) is every kind's."""
    lr = cfg["lr"]
    return float(lr[parent(variant)]) if isinstance(lr, dict) else float(lr)


def lag_key(metric: str, lag: int) -> str:
    return f"{metric}_lag{lag}"
