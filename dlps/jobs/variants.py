"""Each variant's main test metric over seeds (mean, interval, n): what `dvc exp show` lines up per variant.

The main metric is the first of the spec's TABLE_METRICS named `test_…`. A one-variant experiment carries its sweep in
suffixes of its per-seed keys (`test_acc_full`, `test_acc_restored_p5`), so there each key of the main metric's family
is an entry of its own."""

from __future__ import annotations

from dlps import stats


def main_metric(spec) -> str | None:
    return next((m for m in spec.table_metrics if m.startswith("test_")), None)


def _label(spec, variant: str) -> str:
    """`p=0.2` for a number (readable in a column name), the name itself otherwise (`lstm`)."""
    try:
        float(variant)
    except ValueError:
        return variant
    return f"{spec.variants_key}={variant}"


def pairs(spec, cfg: dict, first_row: dict) -> dict[str, tuple[str, str, str]]:
    """label -> (variant, per-seed key, metric name); {} for an experiment without a `test_…` table metric."""
    main = main_metric(spec)
    if main is None:
        return {}
    variants = spec.variants(cfg)
    if spec.variants_key is not None or len(variants) > 1:
        return {_label(spec, v): (v, main, main) for v in variants}
    stem = main.rsplit("_", 1)[0]
    return {k[len(stem) + 1:]: (variants[0], k, stem) for k in first_row if k.startswith(f"{stem}_")}


def variant_summary(spec, cfg: dict, runs: dict[str, list[dict]]) -> dict:
    """{label: {<metric>: mean, ci_low, ci_high, ci_level, n}}: the interval is the Student-t one of the mean."""
    out = {}
    first = next(iter(runs.values()))[0]
    for label, (variant, key, metric) in pairs(spec, cfg, first).items():
        s = stats.summarize([r[key] for r in runs[variant]])
        out[label] = {metric: s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                      "ci_level": stats.CONFIDENCE, "n": s["n"]}
    return out
