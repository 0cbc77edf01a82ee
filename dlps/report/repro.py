"""The report's datasets-and-reproducibility section: provenance, environment, stage times and what the run cost."""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
from pathlib import Path

from dlps.io import read_json
from dlps.report.doc import Doc

ROOFLINE, BENCH = Path("metrics/bench/roofline.json"), Path("metrics/bench/bench.json")  # python stages/bench.py
MAX_GAP_S = 60  # between two stages of one `dvc repro` DVC spends seconds; a longer gap means another run


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def stage_times(params: dict) -> list[dict]:
    """The timing record (stage, started, wall_s, peak_rss_mib) of every study stage (train, evaluate, plots) of
    the DAG that params define, in DAG order; stages without a record are skipped. The data stages are not the
    study's cost: they copy or download and decode, and a fresh clone re-runs them."""
    from dlps.experiments import NAMES, load
    from dlps.paths import timing_file

    names = []
    for name in NAMES:
        try:
            names += load(name).train_stages(params)
        except Exception:  # noqa: BLE001 -- a spec that cannot be read costs its train rows, not the report
            pass
        names += [f"evaluate_{name}", f"plots_{name}"]
    return [read_json(timing_file(stage)) for stage in names if timing_file(stage).is_file()]


def run_cost(times: list[dict]) -> dict:
    """Total and median stage time, the largest stage peak memory, and the span from the first stage's start to
    the last one's end: the run's wall time, DVC's own work included, when the records come from one
    `dvc repro` (None when a record has no start time, or a gap between stages shows several runs)."""
    walls = [t["wall_s"] for t in times]
    span = None
    if times and all("started" in t for t in times):
        ordered = sorted(times, key=lambda t: t["started"])
        gaps = [b["started"] - (a["started"] + a["wall_s"]) for a, b in zip(ordered, ordered[1:])]
        if max(gaps, default=0.0) <= MAX_GAP_S:
            span = max(t["started"] + t["wall_s"] for t in times) - ordered[0]["started"]
    return {"total_s": sum(walls), "median_s": statistics.median(walls) if walls else 0.0, "span_s": span,
            "peak_mib": max((t["peak_rss_mib"] for t in times), default=0.0)}


def precision_text(check: dict) -> str:
    """One paragraph: fp32 vs bf16 accuracy of the l2 CNN, and whether the paired difference is within seed noise."""
    def ci(s: dict) -> str:
        return f"{100 * s['mean']:.2f}% [{100 * s['ci_low']:.2f}, {100 * s['ci_high']:.2f}]"

    parts = []
    for metric in ("val_acc", "test_acc"):
        m, d = check[metric], check[metric]["bf16_minus_fp32"]
        text = f"{metric}: fp32 {ci(m['fp32'])}, bf16 {ci(m['bf16'])}"
        if d is not None:
            within = d["diff_ci_low"] <= 0 <= d["diff_ci_high"]
            text += (f", paired difference {100 * d['mean_diff']:+.2f} pp [{100 * d['diff_ci_low']:+.2f}, "
                     f"{100 * d['diff_ci_high']:+.2f}] (p = {d['p_value']:.2g}): "
                     + ("within the seeds' noise" if within else "NOT within the seeds' noise"))
        parts.append(text)
    return (f"Precision check, the l2 CNN at λ = 0 over seeds {check['seeds']} (mean [95% CI]): "
            + "; ".join(parts) + ".")


def reproducibility(doc: Doc, params: dict, times: list[dict]):
    doc.heading(2, "Datasets and reproducibility", "reproducibility")
    rows = []
    for name in params["data"]["datasets"]:
        path = Path("metrics/datasets") / f"{name}.json"
        if not path.is_file():
            rows.append([name, "no provenance record", "", "", ""])
            continue
        info = read_json(path)
        rows.append([name, "canonical" if info["canonical"] else f"NOT canonical ({info['source']})",
                     info["description"], info["origin"], json.dumps(info["stats"])])
    doc.heading(3, "Dataset provenance")
    doc.table(["dataset", "copy", "what it is", "fetched from", "decoded"], rows)
    rev = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    # tracked files only: an untracked scratch file is not a change to the code that made the report
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "dlps", "stages", "params.yaml", "dvc.yaml")
    params_hash = hashlib.sha256(Path("params.yaml").read_bytes()).hexdigest()[:16] if Path("params.yaml").is_file() \
        else "no params.yaml"
    cost = run_cost(times)
    # the records' CPU, not this process's: the report may be built on another machine than the run
    cpus = ", ".join(sorted({t["cpu"] for t in times if "cpu" in t})) or "not recorded"
    doc.heading(3, "Environment")
    doc.table(["item", "value"], [
        ["git revision of code and params", rev + (" (with uncommitted changes to code or params)" if dirty else "")],
        ["params.yaml sha256 (first 16 hex)", params_hash],
        *environment_rows(times),
        ["CPU the recorded stages ran on", f"{cpus}; device setting {params.get('device')}, threads setting "
                                           f"{params.get('threads')} (0 = all cores)"],
        ["total wall time of the recorded stages", f"{cost['total_s']:.1f} s"],
        ["median wall time of one stage", f"{cost['median_s']:.1f} s over {len(times)} stages"],
        ["wall time of the run (first stage start to last stage end, DVC included)",
         "not one run: the stage records come from several `dvc repro` runs" if cost["span_s"] is None else
         f"{cost['span_s']:.1f} s"],
        ["largest peak memory of one stage", f"{cost['peak_mib']:.0f} MiB"],
    ])
    check = read_json(BENCH).get("precision") if BENCH.is_file() else None
    if check:
        doc.heading(3, "Precision check")
        doc.para(precision_text(check) + " Measured by `python stages/bench.py` (metrics/bench/bench.json), "
                 "outside the DAG because it trains the CNN twice; a significant difference means the bf16 "
                 "experiment's absolute accuracies are lower than fp32's, while its comparisons between variants "
                 "(all in one precision, paired by seed) stand.")
    throughput(doc, heading=True)
    doc.heading(3, "Stage times")
    doc.para("A stage that ran worker processes counts its own peak memory plus that many times its largest "
             "worker's (an upper bound).")
    doc.table(["stage", "wall time (s)", "peak memory (MiB)", "workers", "device"],
              [[t["stage"], f"{t['wall_s']:.1f}", f"{t['peak_rss_mib']:.0f}", str(t.get("workers", 0)),
                t.get("device", "not recorded")] for t in times])
    doc.heading(3, "Reproduce")
    doc.code("pip install -e .\nDLPS_MIRROR=/path/to/mirror dvc repro   # or leave DLPS_MIRROR unset to download\n"
             f"git checkout {rev[:12]} && dvc repro                        # this exact revision")


def environment_rows(times: list[dict]) -> list[list[str]]:
    """The python, platform and package rows from the stages' own records (dlps.timing.environment); a field the
    records lack (they predate it) is read from the machine building the report, and the row says so."""
    from dlps.timing import environment

    here, rows = environment(), []
    for key, label in (("python", "python"), ("platform", "platform"), ("packages", "packages")):
        recorded = [t[key] for t in times if key in t]
        if not times or len(recorded) < len(times):
            value, source = here[key], ("from the machine that built the report: " + (
                "no stage record" if not times else "the run's stage records predate this field" if not recorded
                else f"{len(times) - len(recorded)} of {len(times)} stage records predate this field"))
        else:
            value, source = _common(recorded), f"from the run's {len(times)} stage records"
        text = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
        rows.append([label, f"{text} ({source})"])
    return rows


def _common(values: list):
    """One value when the records agree; else every distinct one ('a | b'; packages per package)."""
    if all(isinstance(v, dict) for v in values):
        return {k: " | ".join(dict.fromkeys(v[k] for v in values if k in v)) for k in dict.fromkeys(
            k for v in values for k in v)}
    return " | ".join(dict.fromkeys(map(str, values)))


def throughput(doc: Doc, heading: bool = False) -> bool:
    """The run's throughput from the committed bench and roofline (`python stages/bench.py`, `python -m
    dlps.tools.roofline`): seed-runs per minute against an earlier revision and share of the fp32 matmul ceiling
    per experiment, and each model family's share alone and as its stage runs it. False when neither file exists."""
    if not ROOFLINE.is_file() and not BENCH.is_file():
        return False
    if heading:
        doc.heading(3, "Throughput")
    if ROOFLINE.is_file():
        r = read_json(ROOFLINE)
        ceil, rev = r["roofline"]["ceiling_flops_per_s"], r["before_rev"]
        rows = []
        for name, v in r["now"].items():
            b, flops = r["before"].get(name, {}), v["train_flops"]
            rows.append([name, f"{b.get('seed_runs_per_min', '–')} → {v['seed_runs_per_min']}", f"{v['train_s']} s",
                         f"{flops / ceil / v['train_s']:.0%}" if flops and v["train_s"] else "not counted"])
        doc.table(["experiment", f"seed-runs per minute of train-stage time, {rev} → now", "train-stage time",
                   "share of the fp32 matmul ceiling"], rows)
        roof = r["roofline"]
        doc.para(f"Whole run: {roof['train_flops'] / 1e12:.1f} TFLOP of counted training work would take "
                 f"{roof['seconds_at_ceiling']:.0f} s at the fp32 matmul ceiling ({r['ceiling_key']}, "
                 f"{ceil / 1e9:.0f} GFLOP/s, measured on the run's CPU, {r['cpu']}); its train stages took "
                 f"{roof['recorded_train_s']:.0f} s: {roof['fraction_of_ceiling']:.0%} of the ceiling. Counts and "
                 "method: docs/performance.md.")
    if BENCH.is_file():
        b = read_json(BENCH)
        doc.para(f"The bench ran on {b.get('cpu', 'a CPU it did not record')}"
                 + (f", not the run's CPU ({r['cpu']}): its shares are of that CPU's own ceiling"
                    if ROOFLINE.is_file() and r.get("cpu") and b.get("cpu") != r["cpu"] else "") + ". "
                 "Subnormal floats are flushed to zero in the training processes when `flush_denormal` is true "
                 f"({'true' if b.get('flush_denormal') else 'false'} for this bench); each family is timed both ways.")
        doc.table(["model family (bench)", "threads", "share of its ceiling", "as its stage runs it",
                   "samples/s, subnormals flushed ÷ kept (the faster)"],
                  [[w["workload"], str(w["threads"]), f"{w['fraction_of_ceiling']:.0%}",
                    f"{w['at_once']['fraction_of_ceiling']:.0%} ({w['at_once']['jobs']} jobs at once)"
                    if w.get("at_once") else "the same (one job)",
                    f"×{w['flush_denormal']['speedup_flushed']:.2f} ({w['flush_denormal']['faster']})"
                    if w.get("flush_denormal") else "not measured"] for w in b["workloads"]])
        noop = b["overhead"]["dvc_repro_noop_s"]
        doc.para("`dvc repro` with nothing to do: " + ("not measured (the pipeline was not up to date)" if noop is None
                 else f"{noop:.2f} s") + "; the profiles of the families below half their ceiling, and the variants "
                 "measured beside them, are in metrics/bench/bench.md.")
    return True
