"""What the bias_variance experiment is: its params section, one variant (both sweeps per replicate) and the
fixed grids its per-seed metric names come from."""

from __future__ import annotations

from dlps.schema import Float, Int, ParamError, Section, SEEDS

NAME = "bias_variance"
VARIANT = "all"
VARIANTS_KEY = None  # one fixed variant: every seed's row holds both sweeps
JUDGE_KEYS = ("alpha", "identity_margin")
DATASETS = ()
TORCH = False
CURVES = False  # Monte Carlo replicates, no training curve: no history file
ONE_TRAIN_STAGE = False
TEST_SCORED = ("once per fitted model, right after fitting, on test points each replicate draws fresh; nothing is "
               "fitted on them, but the best degree and the double-descent peak are read off these test errors, "
               "which are what the experiment measures")

# Fixed grids, so metric names do not depend on params (METRICS must be static).
DEGREES = tuple(range(16))
DD_PERCENT = (10, 25, 50, 75, 90, 100, 110, 125, 150, 200, 300, 500, 1000, 2000)  # features as % of n_train
THRESHOLD = 100  # the interpolation threshold p = n_train in DD_PERCENT
PER_DEGREE = ("bias2", "variance", "decomposed", "total", "total_se", "z")
DD_SCALARS = ("dd_peak_p", "dd_peak_ratio", "dd_peak_mse", "dd_mse_at_max_p", "dd_best_under_mse")
CV_METRICS = ("cv_hits", "cv_within1", "cv_mean_abs_degree_error", "cv_median_degree", "cv_mean_excess_mse",
              "cv_median_excess_mse")
METRICS = (tuple(f"{k}_d{d}" for d in DEGREES for k in PER_DEGREE)
           + ("noise", "z_identity_max", "argmin_degree", "min_total")
           + CV_METRICS
           + tuple(f"dd_mse_r{q}" for q in DD_PERCENT) + DD_SCALARS)
TABLE_METRICS = ("noise", "z_identity_max", "argmin_degree", "min_total", "bias2_d1", "variance_d1", "bias2_d3",
                 "variance_d3", "bias2_d9", "variance_d9", "total_d15") + DD_SCALARS
TIMINGS = ()

SCHEMA = Section({
    "seeds": SEEDS,
    "n_datasets": Int(2, 100_000),
    "n_train": Int(len(DEGREES), 10_000),
    "n_test": Int(1, 100_000),
    "noise_std": Float(0, lo_open=True),
    "cv_folds": Int(2, 30),
    "dd_n_train": Int(10, 2_000),
    "dd_n_test": Int(10, 100_000),
    "dd_input_dim": Int(1, 100),
    "dd_noise_std": Float(0),
    "dd_draws": Int(2, 10_000),
    "identity_margin": Float(0, 1, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if cfg["n_train"] - cfg["n_train"] // cfg["cv_folds"] <= max(DEGREES):
        raise ParamError(f"bias_variance.cv_folds: got {cfg['cv_folds']}; allowed: few enough folds that each fit "
                         f"keeps more than {max(DEGREES)} of the {cfg['n_train']} points")
    if len(cfg["seeds"]) < 2:
        raise ParamError(f"bias_variance.seeds: got {cfg['seeds']!r}; allowed: at least 2 seeds "
                         "(each is an independent Monte Carlo replicate; the tests need two)")


def variants(cfg: dict) -> list[str]:
    """One variant: both sweeps share every seed's row, so their metrics are summarised together."""
    return [VARIANT]


def p_grid(n_train: int) -> list[int]:
    """Random-feature counts: fixed fractions of the training-set size, at least one feature."""
    return [max(1, round(n_train * q / 100)) for q in DD_PERCENT]
