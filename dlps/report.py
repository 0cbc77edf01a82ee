"""Build the report (report/index.html, report.md, slides.html, defense.md) from metrics and
figures only; the entry point is build(params)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from dlps.io import atomic_dir, write_json
from dlps.report_data import Data, effect_text, evidence_text, flat, headline, load, seeds_for
from dlps.report_doc import Doc, badge_html, badge_md, data_uri
from dlps.report_repro import reproducibility, run_cost, stage_times
from dlps.fmt import fmt, fmt_p

REPORT_DIR = Path("report")
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def summary(doc: Doc, data: Data):
    """The one-screen summary: per experiment a thumbnail, the question, the headline and a verdict badge."""
    cards, md_rows = [], []
    for name in data.names:
        prim = data.primary(name)
        line = headline(prim[0], with_test=False) if prim else "no findings in this run's metrics"
        claim = prim[0]["claim"] if prim else ""
        fig = data.key_figure(name)
        img = (f'<img src="{data_uri(fig["path"])}" alt="{html.escape(fig["alt"])}">'
               if fig and fig["path"].is_file() else "")
        cards.append(f'<div class="card">{img}<div><div class="t"><a href="#{name}">{html.escape(data.title(name))}'
                     f'</a></div><div class="q" title="{html.escape(data.question(name))}">'
                     f'{html.escape(data.question(name))}</div><div class="c">{html.escape(claim)}</div>'
                     f'<div class="h">{html.escape(line)}</div>{badge_html(data.verdict(name))}</div></div>')
        md_rows.append(f"| {data.title(name)} | {data.question(name)} | {claim}: {line} | {badge_md(data.verdict(name))} |")
    lead = ("Each experiment's verdict is that of its primary findings, each decided by a rule fixed before the "
            "data were seen; the headline is the primary finding's effect with its 95% interval and the rule's "
            "p-value. Details, methods and figures follow below.")
    doc.raw(f'<section id="summary"><h2>Summary</h2><p class="lead">{html.escape(lead)}</p>'
            f'<div class="cards">{"".join(cards)}</div></section>',
            "## Summary\n\n" + lead + "\n\n| experiment | question | headline | verdict |\n|---|---|---|---|\n"
            + "\n".join(md_rows) + "\n")
    doc.toc.append(("summary", "Summary"))


def _finding(doc: Doc, f: dict):
    tag = "primary finding" if f.get("primary") else "finding"
    rule = f"Rule: {flat(f['rule'])}. Evidence: {effect_text(f)}; {evidence_text(f)}."
    doc.raw(f'<div class="finding">{badge_html(f["verdict"])} <strong>{html.escape(f["claim"])}</strong> '
            f'<em>({tag} {html.escape(f["id"])})</em><br>{html.escape(f["text"])}'
            f'<div class="rule">{html.escape(rule)}</div></div>',
            f"- {badge_md(f['verdict'])} — **{f['claim']}** *({tag} {f['id']})*. {f['text']}\n  {rule}\n")


def _cell(s: dict) -> str:
    if s.get("n", 0) <= 1:
        return f"{fmt(s['mean'])} (one seed, no CI)"
    return f"{fmt(s['mean'])} [{fmt(s['ci95_low'])}, {fmt(s['ci95_high'])}] (median {fmt(s['median'])})"


def _table_metrics(name: str, m: dict) -> list[str]:
    from dlps.experiments import part

    try:
        spec = part(name, "spec")
        shown = list(getattr(spec, "TABLE_METRICS", spec.METRICS))
    except Exception:  # noqa: BLE001 -- a spec that cannot be imported still leaves the metrics to show
        shown = list(next(iter(m["variants"].values()), {}))
    first = next(iter(m["variants"].values()), {})
    return [k for k in shown if k in first]


def experiment_section(doc: Doc, data: Data, name: str):
    m, cfg, w = data.metrics[name], data.params.get(name, {}), data.writeups.get(name, {})
    doc.heading(2, data.title(name), name)
    doc.raw(f"<p>{badge_html(data.verdict(name))} <strong>Question.</strong> {html.escape(data.question(name))}</p>",
            f"{badge_md(data.verdict(name))} — **Question.** {data.question(name)}\n")
    doc.heading(3, "Setup")
    if w.get("setup"):
        doc.para(flat(w["setup"]))
    doc.table(["parameter", "value"], [[f"{name}.{k}", _short(v)] for k, v in cfg.items()]
              + ([] if "seeds" in cfg else [["seeds (shared)", _short(seeds_for(data.params, name))]]))
    doc.heading(3, "Results")
    doc.para(f"Mean over {len(m['seeds'])} seeds with 95% Student-t confidence interval [low, high]; median in brackets.")
    shown = _table_metrics(name, m)
    if len(m["variants"]) == 1:  # one variant: metrics as rows reads better than a very wide row
        (stats,) = m["variants"].values()
        doc.table(["metric", "mean [95% CI] (median)"], [[k, _cell(stats[k])] for k in shown])
    else:
        doc.table(["variant"] + shown, [[v] + [_cell(s[k]) for k in shown] for v, s in m["variants"].items()])
    paired = [c for c in m.get("comparisons", {}).values() if "mean_diff" in c]  # McNemar counts: in findings
    if paired:
        doc.table(["comparison", "metric", "mean difference a − b [95% CI]", "test", "statistic", "p"], [
            [f"{c['a']} vs {c['b']}", c["metric"], f"{fmt(c['mean_diff'])} [{fmt(c['diff_ci95_low'])}, "
             f"{fmt(c['diff_ci95_high'])}]", c["test"], fmt(c["statistic"]), fmt_p(c["p_value"])] for c in paired])
    doc.heading(3, "Findings")
    for f in data.findings(name):
        _finding(doc, f)
    if not data.findings(name):
        doc.para("This run's metrics hold no findings for this experiment (re-run `dvc repro`).")
    for fig in data.figures[name]:
        if fig["path"].is_file():
            doc.figure(fig["path"], fig["caption"], fig["alt"])
    try_it(doc, w.get("try"))


def try_it(doc: Doc, t: dict | None):
    if not t:
        return
    doc.heading(3, "Try it")
    doc.para(t["question"])
    doc.code(f"{t['command']}\n# then compare: {t['compare']}")


def _short(v) -> str:
    text = json.dumps(v)
    return text if len(text) < 90 else text[:87] + "…"


def claims_section(doc: Doc, data: Data):
    doc.heading(2, "Claims check", "claims")
    doc.para("The notebooks this project replaces asserted these results without running them. Each verdict is "
             "computed from this run's findings (metrics/claims.json); the claims and how each is tested live in "
             "dlps/claims.yaml.")
    if not data.claims:
        doc.para("metrics/claims.json is missing or empty in this run.")
        return
    doc.table(["claim", "how it is tested", "finding", "verdict", "measured"],
              [[c["claim"], c["tested_by"], c.get("finding") or "—", c["verdict"], c["measured"]] for c in data.claims])


def methods_section(doc: Doc, data: Data):
    doc.heading(2, "Methods", "methods")
    counts = ", ".join(f"{n} {len(data.metrics[n]['seeds'])}" for n in data.names)
    doc.para(f"Seeds. Every condition is repeated over seeds ({counts}). A seed fixes everything random in a run "
             "(data draw or subset, initial weights, mini-batch order); compared variants share seeds, so they "
             "differ only in the factor under study, and comparisons are paired by seed.")
    doc.para("Verdicts. Every finding states its claim and a decision rule fixed before the data are seen. A finding "
             "is shown only when its rule's condition holds, refuted only when the rule's stated refutation holds "
             "(the opposite one-sided test, an equivalence test against a margin, an interval on the other side of a "
             "threshold, a failed check), and inconclusive otherwise: not significant is never read as no effect. "
             "The distinct rules applied in this run, by test:")
    by_test: dict[str, tuple[list[str], list[str]]] = {}
    for n in data.names:
        for f in data.findings(n):
            ids, rules = by_test.setdefault(f.get("test", "rule"), ([], []))
            ids.append(f"{n}/{f['id']}")
            if flat(f["rule"]) not in rules:
                rules.append(flat(f["rule"]))
    doc.table(["test", "findings decided by it", "distinct rules"],
              [[t, ", ".join(ids), " · ".join(rules)] for t, (ids, rules) in by_test.items()])
    doc.para("Intervals. Tables give the mean over seeds with a 95% Student-t confidence interval and the median; "
             "heavy-tailed metrics are judged by rank or sign tests on medians, rates by exact binomial intervals.")


def literature_section(doc: Doc, data: Data):
    doc.heading(2, "Against the literature", "literature")
    doc.para("Published reference results (dlps/literature.yaml) next to this run's values. 'not comparable' "
             "says why (a different data size, model or budget); each row says how its figure was verified.")
    doc.table(["experiment", "quantity", "ours", "band", "verdict", "why", "source", "verified"],
              [[r["experiment"], r["quantity"], "n/a" if r["ours"] is None else fmt(r["ours"]), r["band"],
                r["verdict"], r["why"], r["source"], r["verified"]] for r in data.literature])


def readme_results(data: Data, times: list[dict]) -> str:
    """The README's results block: primary verdicts per experiment, the claims check, and what the run cost."""
    cost = run_cost(times)
    doc = Doc()
    doc.table(["experiment", "verdict", "primary findings"], [
        [data.title(n), data.verdict(n), "; ".join(f"{f['id']}: {f['verdict']}" for f in data.primary(n))]
        for n in data.names])
    if data.claims:
        doc.table(["old claim", "verdict"], [[c["claim"], c["verdict"]] for c in data.claims])
    span = (" (the stages ran in several `dvc repro` runs)" if cost["span_s"] is None else
            f", {cost['span_s'] / 60:.1f} minutes of wall time from the first stage's start to the last one's end")
    doc.para(f"Last full run: {cost['total_s'] / 60:.1f} minutes of recorded stage time{span}; the largest "
             f"peak memory of one stage was {cost['peak_mib'] / 1024:.1f} GiB "
             "(stages run one at a time, so that plus the operating system's share is the RAM needed). "
             "Details: report/report.md; slides: report/slides.html.")
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


def judge_claims(data: Data, times: list[dict]) -> list[dict]:
    """metrics/claims.json, written here (the report stage declares it): the old claims judged from the findings
    and the recorded stage times by dlps.claims."""
    from dlps.claims import judge
    from dlps.paths import claims_file

    rows = judge({n: data.findings(n) for n in data.names}, run_cost(times)["total_s"])
    write_json(claims_file(), {"claims": rows})
    return rows


def document(data: Data, times: list[dict]) -> Doc:
    doc = Doc()
    doc.heading(1, "dlps — a deep-learning practice study, actually run")
    summary(doc, data)
    claims_section(doc, data)
    literature_section(doc, data)
    methods_section(doc, data)
    for name in data.names:
        experiment_section(doc, data, name)
    reproducibility(doc, data.params, times)
    return doc


def build(params: dict, out_dir: Path = REPORT_DIR, readme: Path = Path("README.md")) -> dict:
    """Write report/{index.html, report.md, slides.html, defense.md} (replaced together, only
    when all are complete), metrics/claims.json, metrics/literature.json and the README's results block; returns
    the literature rows."""
    from dlps import defense, slides
    from dlps.literature import check

    data = load(params)
    data.literature = check(params, data.metrics)
    times = stage_times(params)
    data.claims = judge_claims(data, times)
    write_json(Path("metrics/literature.json"), {"rows": data.literature})
    doc = document(data, times)
    update_readme(readme, readme_results(data, times))
    with atomic_dir(out_dir) as tmp:
        (tmp / "index.html").write_text(doc.render_html("dlps report", top=2))
        (tmp / "report.md").write_text(doc.render_md(top=2))
        (tmp / "slides.html").write_text(slides.render(data))
        (tmp / "defense.md").write_text(defense.render(data))
    return {"rows": data.literature}
