"""The evaluate job: summaries over seeds, the experiment's comparisons, and its findings, judged by their rules."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

from dlps import stats
from dlps.io import write_json
from dlps.jobs.runs import load_runs
from dlps.jobs.variants import variant_summary
from dlps.paths import headline_file, metrics_file, variants_file
from dlps.verdicts import VERDICTS, holm, p_keys, p_of

HEADLINE_KEYS = ("verdict", "decided_by", "effect", "ci_low", "ci_high", "ci_level")


def aggregate(exp, cfg: dict, runs: dict[str, list[dict]]) -> dict:
    """Summaries over seeds per variant and metric, plus the experiment's comparisons (no files touched)."""

    def paired(a: str, b: str, metric: str, test: str = "t", alternative: str = "two-sided") -> dict:
        result = stats.paired_test([r[metric] for r in runs[a]], [r[metric] for r in runs[b]],
                                   test=test, alternative=alternative)
        return {"a": a, "b": b, "metric": metric, **result}

    summary = {v: {m: stats.summarize([r[m] for r in rows]) for m in exp.spec.metrics} for v, rows in runs.items()}
    analysis = exp.judge.analyze(cfg, runs, paired)
    return {"seeds": [r["seed"] for r in next(iter(runs.values()))], "variants": summary,
            "comparisons": analysis["comparisons"], "derived": analysis["derived"]}


def check_findings(name: str, findings: list[dict]) -> None:
    """The framework's invariants: unique ids, a verdict of the three, a rule, at least one primary finding, and
    no `shown` whose p-value (or, for a primary finding, its Holm-adjusted p) is not below its α (a programming error,
    not a user's)."""
    ids = [f["id"] for f in findings]
    assert len(ids) == len(set(ids)), f"{name}: duplicate finding ids {ids}"
    assert any(f["primary"] for f in findings), f"{name}: no primary finding"
    for f in findings:
        assert f["verdict"] in VERDICTS and f["rule"], f"{name}/{f['id']}: bad verdict or rule"
        assert not (f["primary"] and f.get("role") == "check"), f"{name}/{f['id']}: a check is never primary"
        if f["verdict"] == "shown" and p_of(f) is not None and f["alpha"] is not None:
            assert p_of(f) < f["alpha"], f"{name}/{f['id']}: shown with p = {p_of(f)} >= α"
            if f["primary"]:
                assert f["p_adjusted"] < f["alpha"], f"{name}/{f['id']}: shown with p_adjusted >= α"


def neg_log10(p: float | None) -> float | None:
    """−log10 p, capped at 300 (p = 0 is below every float JSON holds)."""
    return None if p is None else round(min(300.0, -math.log10(max(p, 1e-300))), 4)


def headline(findings: list[dict]) -> dict:
    """The primary findings: verdict, deciding test, effect and interval, and each p as −log10 p, because
    `dvc metrics diff` rounds to 5 decimals whatever --precision says (p = 4.2e-06 shows as 0.0); the raw p's
    are in metrics/<name>.json."""
    return {f["id"]: {**{k: f.get(k) for k in HEADLINE_KEYS},
                      **{f"neg_log10_{k}": neg_log10(f[k]) for k in (*p_keys(f), "p_adjusted") if k in f}}
            for f in findings if f["primary"]}


def run_power(exp, cfg: dict, runs: dict) -> dict[str, float | None]:
    """Each planned primary's simulated power at its registered effect with this run's own per-seed spread (its
    power.py's plans over this run's rows, the same n): None where the run cannot give a spread (one seed, a variant
    missing)."""
    from dlps.tools.power import Rows, evaluate_plans

    if exp.power is None or len(cfg["seeds"]) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a spread of one value: nan, caught below
            found = exp.power.plans(Rows(runs))
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):  # rows lacking what a plan reads
        return {}
    finite = {p["finding"]: all(s is None or math.isfinite(s) for s in p.get("sds") or []) for p in found}
    return {fid: r["power"] if finite[fid] else None
            for fid, r in evaluate_plans(found, len(cfg["seeds"])).items()}


def add_power(exp, cfg: dict, runs: dict, findings: list[dict], planned: Path) -> None:
    """Each primary's planned power and seeds (docs/protocol-power.json; null where it has no entry) and its power at
    the registered effect with this run's spread, in place."""
    plan = json.loads(planned.read_text()).get(exp.name, {}) if planned.is_file() else {}
    here = run_power(exp, cfg, runs)
    for f in findings:
        if f["primary"]:
            mine = plan.get(f["id"], {})
            power = here.get(f["id"])
            f["planned_power"], f["n_planned"] = mine.get("planned_power"), mine.get("n")
            f["power_at_effect_run_sd"] = None if power is None else round(power, 4)


def findings_of(exp, cfg: dict, metrics: dict, runs: dict, planned: Path | None = None) -> list[dict]:
    """The experiment's findings, Holm-adjusted over its primaries, each primary with its planned power, checked
    against the framework's invariants."""
    from dlps.tools.power import PLANNED

    found = holm(exp.judge.findings(cfg, metrics, runs), exp.name)
    add_power(exp, cfg, runs, found, PLANNED if planned is None else planned)
    check_findings(exp.name, found)
    return found


def evaluate(params: dict, name: str) -> dict:
    """Aggregate exactly the runs params list and judge them; writes metrics/<name>.json, its headline and, where
    the experiment has one main test metric, its per-variant summary."""
    from dlps.experiments import load

    exp, cfg = load(name), params[name]
    runs = load_runs(params, name)
    metrics = {"experiment": name, **aggregate(exp, cfg, runs)}
    metrics["findings"] = findings_of(exp, cfg, metrics, runs)
    write_json(metrics_file(name), metrics)
    write_json(headline_file(name), headline(metrics["findings"]))
    summary = variant_summary(exp.spec, cfg, runs)
    if summary:
        write_json(variants_file(name), summary)
    return metrics
