"""Build the report (one self-contained HTML file and the same content as Markdown) from metrics and figures only."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from dlps.io import atomic_dir, read_json
from dlps.pipeline import experiment, figures_dir, metrics_file, seeds_for, timing_file, train_stages
from dlps.report_text import fmt, fmt_p

REPORT_DIR = Path("report")
PACKAGES = ("dlps", "numpy", "scipy", "torch", "torchvision", "matplotlib", "pandas", "dvc", "typer", "pyyaml")
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.8rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
.shown{color:#176317;font-weight:600}.notshown{color:#a11;font-weight:600}.mixed{color:#8a5a00;font-weight:600}
code,pre{background:#f6f6f6;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto}nav ul{columns:2}
@media print{nav{display:none}body{max-width:none;margin:0}h2{page-break-before:always}figure{page-break-inside:avoid}}
"""


class Doc:
    """A tiny document model rendered both to HTML and to Markdown, so the two always agree."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []
        self.toc: list[tuple[str, str]] = []

    def heading(self, level: int, text: str, anchor: str | None = None):
        if anchor and level == 2:
            self.toc.append((anchor, text))
        ident = f' id="{anchor}"' if anchor else ""
        self.html.append(f"<h{level}{ident}>{html.escape(text)}</h{level}>")
        self.md.append(f"{'#' * level} {text}\n")

    def para(self, text: str, cls: str | None = None):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(text + "\n")

    def bullets(self, items: list[tuple[str, str | None]]):
        """Items as (text, verdict class or None)."""
        self.html.append("<ul>" + "".join(
            f"<li>{_badge(cls)}{html.escape(t)}</li>" for t, cls in items) + "</ul>")
        self.md.append("\n".join(f"- {_md_badge(cls)}{t}" for t, cls in items) + "\n")

    def table(self, header: list[str], rows: list[list]):
        def cell(v, tag="td"):
            num = isinstance(v, (int, float)) or (isinstance(v, str) and v[:1].isdigit())
            return f"<{tag}{' class=num' if num and tag == 'td' else ''}>{html.escape(str(v))}</{tag}>"

        self.html.append("<table><thead><tr>" + "".join(cell(h, "th") for h in header) + "</tr></thead><tbody>"
                         + "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows) + "</tbody></table>")
        esc = lambda v: str(v).replace("|", "\\|")  # noqa: E731
        self.md.append("\n".join(["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
                                 + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]) + "\n")

    def figure(self, path: Path, caption: str, alt: str):
        data = base64.b64encode(path.read_bytes()).decode()
        self.html.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        self.md.append(f"![{alt}](../{path.as_posix()})\n\n*{caption}*\n")

    def code(self, text: str):
        self.html.append(f"<pre><code>{html.escape(text)}</code></pre>")
        self.md.append(f"```\n{text}\n```\n")

    def render_html(self, title: str) -> str:
        nav = "<nav><h2>Contents</h2><ul>" + "".join(
            f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in self.toc) + "</ul></nav>"
        body = "\n".join(self.html[:1] + [nav] + self.html[1:])
        return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")

    def render_md(self) -> str:
        toc = "## Contents\n\n" + "\n".join(f"- [{t}](#{a})" for a, t in self.toc) + "\n"
        return "\n".join(self.md[:1] + [toc] + self.md[1:])


def _badge(cls):
    return {"shown": '<span class="shown">✔ shown</span> ', "notshown": '<span class="notshown">✘ not shown</span> ',
            "mixed": '<span class="mixed">◐ mixed</span> '}.get(cls, "")


def _md_badge(cls):
    return {"shown": "✔ **shown** — ", "notshown": "✘ **not shown** — ", "mixed": "◐ **mixed** — "}.get(cls, "")


def verdict(findings: list[dict]) -> str:
    shown = [f["shown"] for f in findings]
    return "shown" if all(shown) else "notshown" if not any(shown) else "mixed"


VERDICT_TEXT = {"shown": "shown", "notshown": "not shown", "mixed": "mixed"}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def experiment_section(doc: Doc, params: dict, name: str, findings: list[dict], m: dict):
    exp = experiment(params, name)
    cfg = params[name]
    doc.heading(2, exp.TITLE, name)
    doc.para(f"Question. {exp.QUESTION}")
    doc.heading(3, "Setup")
    doc.table(["parameter", "value"], [[f"{name}.{k}", _short(v)] for k, v in cfg.items()]
              + ([] if "seeds" in cfg else [["seeds (shared)", _short(seeds_for(params, name))]]))
    doc.heading(3, "Results")
    doc.para(f"Mean over {len(m['seeds'])} seeds with 95% Student-t confidence interval [low, high]; median in brackets.")
    shown = list(getattr(exp, "TABLE_METRICS", exp.METRICS))
    def cell(s: dict) -> str:
        if s["n"] == 1:
            return f"{fmt(s['mean'])} (one seed, no CI)"
        return f"{fmt(s['mean'])} [{fmt(s['ci95_low'])}, {fmt(s['ci95_high'])}] (median {fmt(s['median'])})"

    if len(m["variants"]) == 1:  # one variant: metrics as rows reads better than a very wide row
        (stats,) = m["variants"].values()
        doc.table(["metric", "mean [95% CI] (median)"], [[k, cell(stats[k])] for k in shown])
    else:
        doc.table(["variant"] + shown, [[v] + [cell(stats[k]) for k in shown] for v, stats in m["variants"].items()])
    if m["comparisons"]:
        doc.table(["comparison", "metric", "mean difference a − b [95% CI]", "test", "statistic", "p"], [
            [f"{c['a']} vs {c['b']}", c["metric"], f"{fmt(c['mean_diff'])} [{fmt(c['diff_ci95_low'])}, "
             f"{fmt(c['diff_ci95_high'])}]", c["test"], fmt(c["statistic"]), fmt_p(c["p_value"])]
            for c in m["comparisons"].values()])
    doc.heading(3, "Findings")
    doc.bullets([(f["text"], "shown" if f["shown"] else "notshown") for f in findings])
    figures_path = figures_dir(name) / "figures.json"
    for fig in read_json(figures_path):
        doc.figure(figures_dir(name) / fig["file"], fig["caption"], fig["alt"])


def _short(v) -> str:
    text = json.dumps(v)
    return text if len(text) < 90 else text[:87] + "…"


def claims_section(doc: Doc, findings: dict, total_wall_s: float):
    from dlps.claims import judge

    doc.heading(2, "Claims check", "claims")
    doc.para("The notebooks this project replaces asserted these results without running them. Each verdict is "
             "computed from this run's metrics; the claims and how each is tested live in dlps/claims.yaml.")
    doc.table(["claim", "how it is tested", "verdict", "measured"],
              [[r["claim"], r["tested_by"], r["verdict"], r["measured"]] for r in judge(findings, total_wall_s)])


def methods_section(doc: Doc, params: dict):
    from dlps.experiments import REGISTRY

    doc.heading(2, "Methods", "methods")
    counts = ", ".join(f"{name} {len(seeds_for(params, name))}" for name in REGISTRY)
    doc.para("Seeds. Every condition is repeated over several seeds (" + counts + "). A seed fixes everything "
             "random in a run: the data draw or subset, the initial weights and the order of mini-batches; compared "
             "variants use the same seeds, so they share data, initialisation and data order, and differ only in the "
             "factor under study.")
    splits = "; ".join(f"{name}: {params[name]['n_train']} training and {params[name]['n_val']} validation examples"
                       for name in REGISTRY if {"n_train", "n_val"} <= set(params[name]))
    sizes = ", ".join(f"{d} {json.dumps(read_json(Path('metrics/datasets') / f'{d}.json')['stats'])}"
                      for d in params["data"]["datasets"])
    doc.para(f"Splits. Each seed draws its own training subset and a disjoint validation split from the official "
             f"training set ({splits}); the official test set is used whole. Dataset sizes as decoded: {sizes}.")
    doc.para("Selection and testing. Where a choice is made (a dropout rate, an L2 strength, an epoch, a model), it is "
             "made on a validation split carved from the training data; the test set is evaluated once, for the "
             "chosen configuration and the baselines it is compared with.")
    doc.para("Confidence intervals and tests. Tables give the mean over seeds with a 95% Student-t confidence "
             "interval (mean ± t(0.975, n−1)·s/√n) and the median. A comparison between two variants is paired by "
             "seed: a paired t-test, or the Wilcoxon signed-rank test where the metric is heavy-tailed; the p-value, "
             "the test's statistic and the mean difference with its own CI are reported (scipy.stats). A finding "
             "is marked shown only if its effect has the expected sign and is significant at the experiment's "
             "level, and its sentence is generated from the metrics, so it says so when an effect is absent.")


def stage_times(params: dict) -> list[dict]:
    """The timing record (stage, started, wall_s, peak_rss_mib) of every stage of the DAG that params define,
    in DAG order."""
    from dlps.experiments import REGISTRY

    names = [f"{kind}@{d}" for d in params["data"]["datasets"] for kind in ("download", "prepare")]
    for name in REGISTRY:
        names += train_stages(params, name) + [f"evaluate@{name}", f"plots@{name}"]
    return [read_json(timing_file(stage)) for stage in names if timing_file(stage).is_file()]


MAX_GAP_S = 60  # between two stages of one `dvc repro` DVC spends seconds; a longer gap means another run


def run_cost(times: list[dict]) -> dict:
    """Total and median stage time, the largest stage peak memory, and the span from the first stage's start to
    the last one's end: the run's wall time, DVC's own work included, when the records come from one
    `dvc repro` (None when a record has no start time, or a gap between stages shows several runs)."""
    import statistics

    walls = [t["wall_s"] for t in times]
    span = None
    if times and all("started" in t for t in times):
        ordered = sorted(times, key=lambda t: t["started"])
        gaps = [b["started"] - (a["started"] + a["wall_s"]) for a, b in zip(ordered, ordered[1:])]
        if max(gaps, default=0.0) <= MAX_GAP_S:
            span = max(t["started"] + t["wall_s"] for t in times) - ordered[0]["started"]
    return {"total_s": sum(walls), "median_s": statistics.median(walls) if walls else 0.0, "span_s": span,
            "peak_mib": max((t["peak_rss_mib"] for t in times), default=0.0)}


def reproducibility(doc: Doc, params: dict, times: list[dict]):
    doc.heading(2, "Datasets and reproducibility", "reproducibility")
    rows = []
    for name in params["data"]["datasets"]:
        path = Path("metrics/datasets") / f"{name}.json"
        info = read_json(path)
        rows.append([name, "canonical" if info["canonical"] else f"NOT canonical ({info['source']})",
                     info["description"], info["origin"], json.dumps(info["stats"])])
    doc.heading(3, "Dataset provenance")
    doc.table(["dataset", "copy", "what it is", "fetched from", "decoded"], rows)
    rev = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = _git("status", "--porcelain", "--", "dlps", "stages", "params.yaml", "dvc.yaml")
    params_hash = hashlib.sha256(Path("params.yaml").read_bytes()).hexdigest()[:16]
    versions = []
    for pkg in PACKAGES:
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    cost = run_cost(times)
    doc.heading(3, "Environment")
    doc.table(["item", "value"], [
        ["git revision of code and params", rev + (" (with uncommitted changes to code or params)" if dirty else "")],
        ["params.yaml sha256 (first 16 hex)", params_hash],
        ["python", f"{platform.python_version()} on {platform.platform()}"],
        ["CPU", f"{_cpu_model()}, {os.cpu_count()} logical cores; device setting {params['device']}, "
                f"threads setting {params['threads']} (0 = all cores)"],
        ["packages", ", ".join(versions)],
        ["total wall time of the recorded stages", f"{cost['total_s']:.1f} s"],
        ["median wall time of one stage", f"{cost['median_s']:.1f} s over {len(times)} stages"],
        ["wall time of the run (first stage start to last stage end, DVC included)",
         "not one run: the stage records come from several `dvc repro` runs" if cost["span_s"] is None else
         f"{cost['span_s']:.1f} s"],
        ["largest peak memory of one stage", f"{cost['peak_mib']:.0f} MiB"],
    ])
    bench = Path("metrics/bench/bench.json")
    check = read_json(bench).get("precision") if bench.is_file() else None
    if check:
        from dlps.bench import precision_text

        doc.heading(3, "Precision check")
        doc.para(precision_text(check) + " Measured by `python stages/bench.py` (metrics/bench/bench.json), "
                 "outside the DAG because it trains the CNN twice; a significant difference means the bf16 "
                 "experiment's absolute accuracies are lower than fp32's, while its comparisons between variants "
                 "(all in one precision, paired by seed) stand.")
    doc.heading(3, "Stage times")
    doc.para("A stage that ran worker processes counts its own peak memory plus that many times its largest "
             "worker's (an upper bound).")
    doc.table(["stage", "wall time (s)", "peak memory (MiB)", "workers"],
              [[t["stage"], f"{t['wall_s']:.1f}", f"{t['peak_rss_mib']:.0f}", str(t.get("workers", 0))] for t in times])
    doc.heading(3, "Reproduce")
    doc.code("pip install -e .\nDLPS_MIRROR=/path/to/mirror dvc repro   # or leave DLPS_MIRROR unset to download\n"
             f"git checkout {rev[:12]} && dvc repro                        # this exact revision")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def build(params: dict) -> None:
    """Write report/index.html and report/report.md (replaced together, only when both are complete)."""
    from dlps.experiments import REGISTRY
    from dlps.experiments.headlines import headline

    doc = Doc()
    doc.heading(1, "dlps — a deep-learning practice study, actually run")
    metrics = {name: read_json(metrics_file(name)) for name in REGISTRY}
    findings = {name: REGISTRY[name].findings(params[name], metrics[name]) for name in REGISTRY}
    doc.heading(2, "Summary", "summary")
    doc.para("Every number below was computed by the pipeline from its metrics files; a verdict is 'shown' only "
             "when every finding of that experiment holds at its significance level.")
    doc.table(["experiment", "question", "headline (95% CI)", "verdict"], [
        [REGISTRY[n].TITLE, REGISTRY[n].QUESTION, headline(n, params[n], metrics[n]), VERDICT_TEXT[verdict(findings[n])]]
        for n in REGISTRY])
    times = stage_times(params)
    claims_section(doc, findings, run_cost(times)["total_s"])
    methods_section(doc, params)
    for name in REGISTRY:
        experiment_section(doc, params, name, findings[name], metrics[name])
    reproducibility(doc, params, times)
    update_readme(Path("README.md"), readme_results(findings, times))
    with atomic_dir(REPORT_DIR) as tmp:
        (tmp / "index.html").write_text(doc.render_html("dlps report"))
        (tmp / "report.md").write_text(doc.render_md())


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def readme_results(findings: dict, times: list[dict]) -> str:
    """The README's results block: verdicts per experiment, the claims check, and what the run cost."""
    from dlps.claims import judge
    from dlps.experiments import REGISTRY

    cost = run_cost(times)
    doc = Doc()
    doc.table(["experiment", "verdict", "findings shown"], [
        [REGISTRY[n].TITLE, VERDICT_TEXT[verdict(findings[n])],
         f"{sum(f['shown'] for f in findings[n])} of {len(findings[n])}"] for n in REGISTRY])
    doc.table(["old claim", "verdict"], [[r["claim"], r["verdict"]] for r in judge(findings, cost["total_s"])])
    span = (" (the stages ran in several `dvc repro` runs)" if cost["span_s"] is None else
            f", {cost['span_s'] / 60:.1f} minutes of wall time from the first stage's start to the last one's end")
    doc.para(f"Last full run: {cost['total_s'] / 60:.1f} minutes of recorded stage time{span}; the largest "
             f"peak memory of one stage was {cost['peak_mib'] / 1024:.1f} GiB "
             "(stages run one at a time, so that plus the operating system's share is the RAM needed). "
             "Details: report/report.md.")
    return "\n".join(doc.md)


def update_readme(readme: Path, block_md: str) -> None:
    """Rewrite the README's marked results block from the metrics (never typed by hand)."""
    if not readme.is_file():
        return
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    block = (f"{README_START}\n*Generated by the `report` stage from `metrics/`; do not edit by hand.*\n\n"
             f"{block_md}{README_END}")
    head, rest = text.split(README_START, 1)
    from dlps.io import write_text

    write_text(readme, head + block + rest.split(README_END, 1)[1])
