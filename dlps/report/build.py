"""Build the report (report/index.html, report.md, slides.html, defense.md) from metrics and
figures only; the entry point is build(params)."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from dlps.io import atomic_dir, write_json
from dlps.report.data import (Data, bottom_line, effect_text, evidence_text, flat, load, methods_lines, seeds_for,
                              setup_text)
from dlps.report import literature
from dlps.report.doc import SYMBOL, Doc, badge_html, badge_md, data_uri, md_inline
from dlps.report.repro import reproducibility, run_cost, stage_times
from dlps.fmt import fmt, fmt_p

REPORT_DIR = Path("report")
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def summary(doc: Doc, data: Data):
    """The summary: per experiment a thumbnail that opens its key figure, its main finding's claim whole with a verdict
    badge, the number with its unit and meaning, and the labelled p (the question opens the experiment's section)."""
    cards, md_rows = [], []
    for name in data.names:
        h = data.headline(name)
        fig = data.key_figure(name)
        img = (f'<a class="thumb" href="#{figure_id(name)}" title="open the figure"><img src="{data_uri(fig["path"])}" '
               f'alt="{html.escape(fig["alt"])}"></a>' if fig and fig["path"].is_file() else "")
        if h:
            f = h["finding"]
            also = "; ".join(f"{SYMBOL.get(o['verdict'], '•')} {o['verdict']}: {o['claim']}" for o in h["others"])
            lines = [("c", f["claim"]), ("h", h["number"]),
                     ("m", h["meaning"]), ("p", h["p"]), ("o", also and f"Other primary findings: {also}")]
            md = f"{f['claim']} ({f['verdict']}): {h['number']} ({h['meaning']}){'; ' + h['p'] if h['p'] else ''}"
        else:
            lines, md = [("h", "no findings in this run's metrics")], "no findings in this run's metrics"
        body = "".join(f'<div class="{k}">{badge_html(h["finding"]["verdict"]) + " " if k == "c" else ""}'
                       f"{md_inline(v)}</div>" for k, v in lines if v)
        cards.append(f'<div class="card">{img}<div><div class="t"><a href="#{name}">{html.escape(data.title(name))}'
                     f'</a> {badge_html(data.verdict(name))}</div>{body}</div></div>')
        md_rows.append(f"| {data.title(name)} | {data.question(name)} | {md} | {badge_md(data.verdict(name))} |")
    lead = ("A card shows an experiment's main finding: its claim, the effect in its unit with the interval matched "
            "to the test, what the number means, then the deciding one-sided p with its Holm-adjusted p; each rule was "
            "fixed before the data were seen (docs/protocol.md). A thumbnail opens its figure.")
    doc.raw(f'<section id="summary"><h2>Summary</h2><p class="lead">{html.escape(lead)}</p>'
            f'<div class="cards">{"".join(cards)}</div></section>',
            "## Summary\n\n" + lead + "\n\n| experiment | question | main finding | verdict |\n|---|---|---|---|\n"
            + "\n".join(md_rows) + "\n")
    doc.toc.append(("summary", "Summary"))


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def verdicts_section(doc: Doc, data: Data):
    """The replication's primary verdicts first, each beside the confirmatory run's verdict on the same question,
    with the planned power and the power the same rule has at the registered effect with this run's own spread;
    then every disagreement in words, what study-wide Holm would change, and the checks, apart."""
    from dlps.report.examiner import study_holm

    doc.heading(2, "Verdicts", "verdicts")
    conf = data.confirmatory
    doc.para("Each primary question of this run (the replication on protocol v2, docs/protocol.md), beside the "
             "confirmatory run's verdict on the same question"
             + (f" ({conf.get('note', '')}; kept at commit {str(conf.get('commit', ''))[:7]})" if conf else
                " (metrics/confirmatory/findings.json is missing in this checkout)")
             + ". Planned power is the protocol's, computed before the seeds ran; the next column is the same "
             "rule's power at the registered effect with this run's own spread between seeds.")
    rows, differ = [], []
    for name in data.names:
        for f in [f for f in data.findings(name) if f.get("primary")]:
            old = data.confirmatory_finding(name, f["id"])
            was = old["verdict"] if old else "new question"
            rows.append([data.title(name), f"{f['claim']} ({f['id']})", f["verdict"], was,
                         _pct(f.get("planned_power")), _pct(f.get("power_at_effect_run_sd"))])
            if old and was != f["verdict"]:
                differ.append(f"{data.title(name)}, {f['id']}: the confirmatory run found it {was} "
                              f"({old['id']}: {effect_text(old)}); this run finds it {f['verdict']} "
                              f"({effect_text(f)}).")
    doc.table(["experiment", "primary question", "this run", "confirmatory run", "planned power",
               "power with this run's spread"], rows)
    doc.para("Where the two runs disagree: " + ("none." if not differ else
             f"{len(differ)} question{'s' if len(differ) > 1 else ''}. Either can be the design's doing: the "
             "replication changed designs where the confirmatory one was not a fair test (docs/protocol.md says "
             "which and why)."))
    if differ:
        doc.bullets(differ)
    fam = study_holm(data)
    moved = [f"{n}/{f['id']} ({f['verdict']} → inconclusive, study-wide adjusted p {fmt(adj)})" for n, f, adj in fam
             if f["verdict"] != "inconclusive" and adj >= f["alpha"]]
    doc.para(f"Study-wide Holm over all {len(fam)} primaries with a p-value (the protocol's family is each "
             "experiment's): " + ("no verdict would change." if not moved else
                                  f"{len(moved)} would become inconclusive: " + "; ".join(moved) + "."))
    checks = [(n, f) for n in data.names for f in data.checks(n)]
    if checks:
        doc.para("Checks (of the code, an identity or a design's precondition; not questions, outside every Holm "
                 "family): " + "; ".join(f"{data.title(n)} {f['id']}: " + ("passes" if f["verdict"] == "shown"
                                                                           else f["verdict"]) for n, f in checks) + ".")
        failed = [(n, f) for n, f in checks if f["verdict"] != "shown"]
        if failed:
            doc.para("A check that does not pass qualifies its experiment's answers (its text says how): "
                     + " ".join(f"{data.title(n)}, {f['id']} ({f['verdict']}): {flat(f['text'])}" for n, f in failed))


def figure_id(name: str) -> str:
    """The anchor of an experiment's key figure (its summary thumbnail links there)."""
    return f"fig-{name}"


def _finding(doc: Doc, data: Data, name: str, f: dict):
    """A finding as a student reads it: the claim, the effect in words with its interval, the verdict, then the
    rule and its p's."""
    tag = "primary finding" if f.get("primary") else "check" if f.get("role") == "check" else "finding"
    meaning, number = data.reading(name, f)
    meaning = meaning[:1].upper() + meaning[1:]
    rule = f"Rule: {flat(f['rule'])}. Evidence: {evidence_text(f)}."
    if f.get("primary"):
        old = data.confirmatory_finding(name, f["id"])
        rule += (f" Confirmatory run: {old['verdict']} ({effect_text(old)})." if old else
                 " Confirmatory run: a question new in protocol v2.")
        if f.get("planned_power") is not None:
            rule += (f" Power: planned {_pct(f['planned_power'])}; with this run's spread "
                     f"{_pct(f.get('power_at_effect_run_sd'))}.")
    doc.raw(f'<div class="finding"><div><strong>{md_inline(f["claim"])}</strong> <em>({tag} {html.escape(f["id"])})'
            f'</em></div><div class="effect">{md_inline(meaning)}: <span class="num">{html.escape(number)}</span> '
            f'{badge_html(f["verdict"])}</div><div>{md_inline(f["text"])}</div>'
            f'<div class="rule">{md_inline(rule)}</div></div>',
            f"- **{f['claim']}** *({tag} {f['id']})*. {meaning}: {number} — {badge_md(f['verdict'])}. "
            f"{f['text']}\n  {rule}\n")


def _cell(s: dict) -> str:
    if s.get("n", 0) <= 1:
        return f"{fmt(s['mean'])} (one seed, no CI)"
    return f"{fmt(s['mean'])} [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}] (median {fmt(s['median'])})"


def _table_metrics(name: str, m: dict) -> list[str]:
    from dlps.experiments import load

    try:
        shown = list(load(name).spec.table_metrics)
    except Exception:  # noqa: BLE001 -- a spec that cannot be imported still leaves the metrics to show
        shown = list(next(iter(m["variants"].values()), {}))
    first = next(iter(m["variants"].values()), {})
    return [k for k in shown if k in first]


def experiment_section(doc: Doc, data: Data, name: str):
    """An experiment as a student reads it: the question, the key figure, the findings (effect first), then the
    set-up, the tables and the other figures."""
    m, cfg, w = data.metrics[name], data.params.get(name, {}), data.writeups.get(name, {})
    doc.heading(2, data.title(name), name)
    doc.raw(f"<p>{badge_html(data.verdict(name))} <strong>Question.</strong> {md_inline(data.question(name))}</p>",
            f"{badge_md(data.verdict(name))} — **Question.** {data.question(name)}\n")
    figs = [f for f in data.figures[name] if f["path"].is_file()]
    key = data.key_figure(name)
    if key in figs:
        doc.figure(key["path"], key["caption"], key["alt"], figure_id(name))
    doc.heading(3, "Findings")
    for f in sorted(data.findings(name), key=lambda f: not f.get("primary")):
        _finding(doc, data, name, f)
    if not data.findings(name):
        doc.para("This run's metrics hold no findings for this experiment (re-run `dvc repro`).")
    doc.heading(3, "Set-up")
    if w.get("setup"):
        doc.para(setup_text(data, name))
    doc.details("Parameters")
    doc.table(["parameter", "value"], [[f"{name}.{k}", _short(v)] for k, v in cfg.items()]
              + ([] if "seeds" in cfg else [["seeds (shared)", _short(seeds_for(data.params, name))]]))
    doc.end_details()
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
        sides = {c.get("alternative", "two-sided") for c in paired}
        doc.para("Descriptive comparisons, paired by seed" + (
            " (two-sided tests; the findings above decide by one-sided tests, so where both test the same "
            "difference the finding's p is about half of this one):" if sides == {"two-sided"} else ":"))
        doc.table(["comparison", "metric", "mean difference a − b [95% CI]", "test",
                   "statistic", "p (two-sided)" if sides == {"two-sided"} else "p (side)"], [
            [f"{c['a']} vs {c['b']}", c["metric"], f"{fmt(c['mean_diff'])} [{fmt(c['diff_ci_low'])}, "
             f"{fmt(c['diff_ci_high'])}]", c["test"], fmt(c["statistic"]),
             fmt_p(c["p_value"]) + ("" if sides == {"two-sided"} else f" ({c.get('alternative', 'two-sided')})")]
            for c in paired])
    for fig in figs:
        if fig is not key:
            doc.figure(fig["path"], fig["caption"], fig["alt"])
    try_it(doc, w.get("try"))


def try_it(doc: Doc, t: dict | None):
    if not t:
        return
    doc.heading(3, "Try it")
    doc.para(t["question"])
    doc.code(f"{t['command']}\n# then compare: {t['compare']}")


def _short(v) -> str:
    """A parameter value as JSON, a run of consecutive integers (seeds) as its range."""
    if (isinstance(v, list) and len(v) > 3 and all(isinstance(x, int) for x in v)
            and v == list(range(v[0], v[0] + len(v)))):
        return f"{v[0]}–{v[-1]} ({len(v)} values)"
    return json.dumps(v, ensure_ascii=False)


def claims_section(doc: Doc, data: Data):
    doc.heading(2, "Claims check", "claims")
    doc.para("The notebooks this project replaces asserted these results without running them. Each verdict is "
             "computed from this run's findings (metrics/claims.json); each experiment's claim and how it is tested "
             "live in its folder's writeup.yaml (old_claim), the study-wide ones in dlps/report/claims.yaml.")
    if not data.claims:
        doc.para("metrics/claims.json is missing or empty in this run.")
        return
    doc.table(["claim", "how it is tested", "finding", "verdict", "measured"],
              [[c["claim"], c["tested_by"], c.get("finding") or "—", c["verdict"], c["measured"]] for c in data.claims])


def methods_section(doc: Doc, data: Data):
    doc.heading(2, "Methods", "methods")
    doc.para("Seeds. Every condition is repeated over seeds (counts below). A seed fixes everything random in a run "
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
    facts = methods_lines(data)
    doc.para("Intervals. Tables give the mean over seeds with a 95% Student-t confidence interval and the median; "
             "heavy-tailed metrics are judged by rank or sign tests on medians, rates by exact binomial intervals.")
    doc.bullets([facts[k] for k in ("alpha", "holm", "seeds", "power")])


def protocol_section(doc: Doc, data: Data):
    """The protocol's commit and every deviation from it, before any result is read."""
    doc.heading(2, "Protocol and deviations", "protocol")
    commit = data.protocol.get("commit")
    doc.para((f"This run follows docs/protocol.md as committed in {commit} (the last commit that changed it). "
              if commit else "This run follows docs/protocol.md (its commit is not known in this checkout). ")
             + "Its rules, margins and seed counts were fixed before this run's seeds ran; the pilots "
             "(exploratory) and the confirmatory run informed only the variances of the power calculation and the "
             "run's cost, and the confirmatory run's verdicts are shown beside this run's, not re-judged.")
    devs, body = data.protocol.get("deviations"), data.protocol.get("deviations_md", "")
    doc.heading(3, "Deviations from the protocol")
    if devs:
        doc.markdown(body, base="../docs/")
    else:
        doc.para("None." if devs is not None else "Not recorded: docs/deviations.md is missing in this checkout.")


def pilot_section(doc: Doc, data: Data):
    """The pilot's verdicts, labelled exploratory, beside this run's verdict for the same finding."""
    doc.heading(2, "Pilot (exploratory)", "pilot")
    pilot = data.pilot
    if not pilot:
        doc.para("metrics/pilot/findings.json is missing in this checkout.")
        return
    doc.para(f"Exploratory, not evidence: the pilot run at commit {str(pilot.get('commit', 'unknown'))[:12]} "
             f"({pilot.get('note', 'before the protocol')}). Its verdicts used the old rules and seeds; only this "
             "run's verdicts answer the questions.")
    rows = []
    for name, found in pilot.get("experiments", {}).items():
        now = {f["id"]: f["verdict"] for f in data.findings(name)} if name in data.metrics else {}
        rows += [[name, f["claim"], "primary" if f.get("primary") else f.get("role", "secondary"), f"{f['verdict']} (exploratory)",
                  effect_text(f), now.get(f["id"], "not in this run")] for f in found]
    doc.table(["experiment", "pilot finding", "role", "pilot verdict", "pilot effect", "this run's verdict"], rows)


def readme_results(data: Data, times: list[dict]) -> str:
    """The README's results block: each experiment's verdict with its primary findings counted by verdict (their
    claims are in the report), the claims check, and what the run cost."""
    cost = run_cost(times)
    doc = Doc()
    doc.para(bottom_line(data))
    doc.table(["experiment", "verdict", "primary findings"], [
        [data.title(n), data.verdict(n), ", ".join(f"{k} {v}" for v in SYMBOL for k in [Counter(
            f["verdict"] for f in data.primary(n))[v]] if k)] for n in data.names])
    if data.claims:
        doc.table(["old claim", "verdict"], [[c["claim"], c["verdict"]] for c in data.claims])
    span = (" (the stages ran in several `dvc repro` runs)" if cost["span_s"] is None else
            f", {cost['span_s'] / 60:.1f} minutes of wall time from the first stage's start to the last one's end")
    doc.para(f"Last full run: {cost['total_s'] / 60:.1f} minutes of recorded stage time (train, evaluate and plots "
             f"stages; fetching and decoding the data not counted){span}; the largest "
             f"peak memory of one stage was {cost['peak_mib'] / 1024:.1f} GiB "
             "(stages run one at a time, so that plus the operating system's share is the RAM needed). "
             "Details: report/report.md; slides: report/slides.html.")
    return "\n".join(doc.md)


def update_readme(readme: Path, block_md: str, start: str = README_START, end: str = README_END) -> None:
    """Rewrite one of the README's marked blocks from the metrics (never typed by hand)."""
    text = readme.read_text() if readme.is_file() else ""
    if start not in text or end not in text:
        return
    block = f"{start}\n*Generated by the `report` stage from `metrics/`; do not edit by hand.*\n\n{block_md}{end}"
    head, rest = text.split(start, 1)
    from dlps.io import write_text

    write_text(readme, head + block + rest.split(end, 1)[1])


def judge_claims(data: Data, times: list[dict]) -> list[dict]:
    """metrics/claims.json, written here (the report stage declares it): the old claims judged from the findings
    and the recorded stage times by dlps.report.claims."""
    from dlps.report.claims import judge
    from dlps.paths import claims_file

    rows = judge({n: data.findings(n) for n in data.names}, run_cost(times)["total_s"])
    write_json(claims_file(), {"claims": rows})
    return rows


def document(data: Data, times: list[dict]) -> Doc:
    doc = Doc()
    doc.heading(1, "dlps — a deep-learning practice study, actually run")
    line = bottom_line(data)
    doc.raw(f'<p class="bottom" id="bottom-line">{html.escape(line)}</p>', f"**{line}**\n")
    summary(doc, data)  # this run's verdicts, one card per experiment, on the first screen
    doc.top = len(doc.html)  # the contents list follows the summary
    verdicts_section(doc, data)  # every primary beside the confirmatory run's verdict, before any experiment
    for name in data.names:  # the experiments first: what a student reads; how they were judged follows
        experiment_section(doc, data, name)
    protocol_section(doc, data)
    claims_section(doc, data)
    literature.section(doc, data.literature)
    methods_section(doc, data)
    pilot_section(doc, data)
    reproducibility(doc, data.params, times)
    return doc


def build(params: dict, out_dir: Path = REPORT_DIR, readme: Path = Path("README.md")) -> dict:
    """Write report/{index.html, report.md, slides.html, defense.md} (replaced together, only
    when all are complete), metrics/claims.json, metrics/literature.json and the README's results block; returns
    the literature rows."""
    from dlps.report import defense, slides

    data = load(params)
    data.literature = literature.check(params, data.metrics)
    times = stage_times(params)
    data.claims = judge_claims(data, times)
    write_json(Path("metrics/literature.json"), {"rows": data.literature})
    doc = document(data, times)
    update_readme(readme, readme_results(data, times))
    with atomic_dir(out_dir) as tmp:
        (tmp / "index.html").write_text(doc.render_html("dlps report", top=doc.top))
        (tmp / "report.md").write_text(doc.render_md(top=doc.top))
        (tmp / "slides.html").write_text(slides.render(data))
        (tmp / "defense.md").write_text(defense.render(data))
    return {"rows": data.literature}
