"""The experiments of the study, in report order.

Each module `dlps/experiments/<name>.py` says what its experiment *is* and exposes:
NAME, TITLE, QUESTION, METRICS (per-seed metric names),
SCHEMA (its params section), check(cfg) for cross-key rules, variants(cfg) -> [str],
train(cfg, variant, seeds, ctx) -> {"runs": [per-seed dicts], "history": [rows]},
analyze(cfg, runs, paired) -> {"comparisons": {...}, "derived": {...}},
findings(cfg, metrics) -> [{"claim", "shown", "text"}], plot(cfg, metrics, runs, histories, out_dir) -> [figure];
optionally TABLE_METRICS, the subset of METRICS the report's results table shows, and TIMINGS, the
wall-clock per-seed values (stored apart from the deterministic ones by dlps.pipeline.train). A section with a
`workers` key trains all its variants in one stage, its (variant, seed) jobs in parallel processes.
Modules import torch and matplotlib inside functions, so listing them here stays cheap.
"""

from dlps.experiments import (architectures, bias_variance, dropout, early_stopping, l2, numpy_rnn, overfitting,
                              sentiment, vanishing_gradients)

REGISTRY = {m.NAME: m for m in (overfitting, dropout, l2, early_stopping, bias_variance, numpy_rnn,
                                vanishing_gradients, architectures, sentiment)}
