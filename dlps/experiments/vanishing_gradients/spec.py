"""What the vanishing-gradients experiment is: its params section, its variants (cell types) and per-seed metrics."""

from __future__ import annotations

from dlps.schema import SEEDS, Float, Int, ListOf, ParamError, Section

NAME = "vanishing_gradients"
VARIANTS_KEY = None  # the three cells are fixed (the findings compare them); all train in one stage with workers
JUDGE_KEYS = ("alpha", "rate_rel_margin", "constancy_rel_margin")
CELLS = ("rnn", "lstm", "lstm_fb1", "gru")
# Each cell's layer and initialisation: torch's default init (every weight and bias U(±1/√hidden)), plus, for an
# LSTM, a constant added to its forget-gate bias: 0 (torch's default, mean forget bias 0, f ≈ 0.5) or 1 (the
# textbook setting, Gers et al. 2000; Jozefowicz et al. 2015: f ≈ 0.73), as separate arms from the same draws.
LAYER = {"rnn": "rnn", "lstm": "lstm", "lstm_fb1": "lstm", "gru": "gru"}
FORGET_BIAS = {"lstm": 0.0, "lstm_fb1": 1.0}
GATED = ("lstm", "lstm_fb1", "gru")
# per (cell, ρ, length) measurement at init, stored as <key(...)>_<field> in every per-seed row; log10_ratio and
# the slopes read ‖∂L/∂h_t‖, x_log10_ratio reads ‖∂L/∂x_t‖ (the inputs, the same for every cell);
# first_slope/second_slope: the slope over the half of the distances nearer to / farther from the loss
_GATED_FIELDS = ("log10_ratio", "x_log10_ratio", "slope", "early_rate", "gate_path")
FIELDS = {"rnn": ("log10_ratio", "x_log10_ratio", "slope", "first_slope", "second_slope", "early_rate", "tanh_rms",
                  "early_tanh_rms", "predicted_rate"),
          **{c: _GATED_FIELDS for c in GATED}}
# trained_*: trained at train_length (the vanilla RNN does not learn there); matched_*: the same cell trained from
# the same init at matched_length, where the vanilla RNN learns too (the matched comparison); *_solved: 1.0 when
# training stopped because the validation MSE fell below target_mse; *x_log10_ratio: log10 ‖∂L/∂x_1‖/‖∂L/∂x_T‖
METRICS = ("init_log10_ratio", "trained_log10_ratio", "init_slope", "trained_slope", "steps", "trained_mse",
           "trained_solved", "matched_init_log10_ratio", "matched_log10_ratio", "matched_steps", "matched_mse",
           "matched_solved", "init_x_log10_ratio", "trained_x_log10_ratio", "matched_init_x_log10_ratio",
           "matched_x_log10_ratio")
TABLE_METRICS = ("trained_x_log10_ratio", "trained_mse", "steps", "matched_x_log10_ratio", "matched_mse",
                 "matched_steps")
TIMINGS = ()
DATASETS = ()
TORCH = True
ONE_TRAIN_STAGE = True
TEST_SCORED = ("No test set: each trained model's MSE and gradient profile are measured once, after training, on "
               "the seed's fixed probe batch (never used to train or to stop); a separate validation batch decides "
               "when training stops.")

SCHEMA = Section({
    "seeds": SEEDS,
    "workers": Int(0, 1024),
    "lengths": ListOf(Int(2, 2000), unique=True),
    "rhos": ListOf(Float(0, 10, lo_open=True), unique=True),
    "hidden": Int(1, 1024),
    "batch": Int(1, 100_000),
    "early_steps": Int(1, 100),
    "train_length": Int(2, 2000),
    "matched_length": Int(2, 2000),
    "train_rho": Float(0, 10, lo_open=True),
    "train_batch": Int(1, 100_000),
    "lr": Float(0, 1, lo_open=True),
    "clip": Float(0, lo_open=True),
    "max_steps": Int(0, 1_000_000),
    "eval_every": Int(1, 1_000_000),
    "target_mse": Float(0, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
    "rate_rel_margin": Float(0, lo_open=True),
    "constancy_rel_margin": Float(0, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if cfg["train_length"] not in cfg["lengths"]:
        raise ParamError(f"vanishing_gradients.train_length: got {cfg['train_length']}; allowed: one of "
                         f"vanishing_gradients.lengths {cfg['lengths']}, so its initial curve is measured too")
    if cfg["matched_length"] >= cfg["train_length"]:
        raise ParamError(f"vanishing_gradients.matched_length: got {cfg['matched_length']}; allowed: below "
                         f"vanishing_gradients.train_length ({cfg['train_length']}), a length where the RNN learns")
    if cfg["train_rho"] not in cfg["rhos"]:
        raise ParamError(f"vanishing_gradients.train_rho: got {cfg['train_rho']}; allowed: one of "
                         f"vanishing_gradients.rhos {cfg['rhos']}, so its initial curve is measured too")
    if cfg["early_steps"] >= min(cfg["lengths"]):
        raise ParamError(f"vanishing_gradients.early_steps: got {cfg['early_steps']}; allowed: below the shortest "
                         f"length ({min(cfg['lengths'])})")


def variants(cfg: dict) -> list[str]:
    """One job per cell (layer and init); the vanilla RNN's also runs the ρ sweep."""
    return list(CELLS)


def configs(cfg: dict, cell: str) -> list[float | None]:
    """The ρ values a cell is measured at: the sweep for the vanilla RNN, torch's default init otherwise."""
    return list(cfg["rhos"]) if cell == "rnn" else [None]


def key(cell: str, rho: float | None, length: int) -> str:
    """Name of one (cell, ρ, length) measurement in the per-seed rows and in `derived`."""
    return f"{cell}_rho{rho:g}_T{length}" if rho is not None else f"{cell}_T{length}"
