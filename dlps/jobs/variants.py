"""Each variant's main test metric over seeds (mean, interval, n): what `dvc exp show` lines up per variant."""

from __future__ import annotations

from dlps import stats

# experiment -> (the per-seed key of its main test metric, the label prefix of a variant value). A table here, not a
# spec part: spec.py and the contract are train-stage dependencies, and what evaluate reports must not re-train.
MAIN = {"overfitting": ("test_mse", "degree="), "dropout": ("test_acc", "p="), "l2": ("test_acc", "lam="),
        "sentiment": ("test_acc", ""), "architectures": ("test_mse", "")}


def _early_stopping(cfg: dict) -> dict[str, tuple[str, str, str]]:
    """The full run's final weights, and each patience's restored weights (one variant holds them all)."""
    pairs = {"full": ("all", "test_acc_full", "test_acc")}
    pairs |= {f"patience={p}": ("all", f"test_acc_restored_p{p}", "test_acc") for p in sorted(cfg["patience"])}
    return pairs


def _numpy_rnn(cfg: dict) -> dict[str, tuple[str, str, str]]:
    """The RNN and the n-gram baselines it is judged against, in bits per character on the test text."""
    return {m: ("rnn", f"{m}_test_bits", "test_bits") for m in ("rnn", "bigram", "unigram")}


SPECIAL = {"early_stopping": _early_stopping, "numpy_rnn": _numpy_rnn}


def has_summary(name: str) -> bool:
    return name in MAIN or name in SPECIAL


def pairs(name: str, spec, cfg: dict) -> dict[str, tuple[str, str, str]]:
    """label -> (variant, per-seed key, metric name), or {} for an experiment without one main test metric."""
    if name in SPECIAL:
        return SPECIAL[name](cfg)
    if name not in MAIN:
        return {}
    key, prefix = MAIN[name]
    return {f"{prefix}{v}": (v, key, key) for v in spec.variants(cfg)}


def variant_summary(name: str, spec, cfg: dict, runs: dict[str, list[dict]]) -> dict:
    """{label: {<metric>: mean, ci_low, ci_high, ci_level, n}}: the interval is the Student-t one of the mean."""
    out = {}
    for label, (variant, key, metric) in pairs(name, spec, cfg).items():
        s = stats.summarize([r[key] for r in runs[variant]])
        out[label] = {metric: s["mean"], "ci_low": s["ci95_low"], "ci_high": s["ci95_high"],
                      "ci_level": stats.CONFIDENCE, "n": s["n"]}
    return out
