"""report/defense.md, notes for an oral defense: per experiment the talking points, the examiner's questions with
answers read from this run's records (what each n counts, which tests the primaries use, what would change each
verdict, the run's own weak points), questions on the whole study, the design decisions of docs/protocol.md, and
a code walkthrough. All generated: no number is typed by hand."""

from __future__ import annotations

import re
from pathlib import Path

from dlps.fmt import fmt
from dlps.report import examiner
from dlps.report.data import PROTOCOL, Data, evidence_text, flat, headline
from dlps.report.verdict_change import flip

DESIGN, PARAMS_FILE = Path("docs/design.md"), Path("params.yaml")
SIZE_KEYS = ("n_train", "n_val", "n_test", "n_datasets", "dd_n_train", "steps", "max_steps", "epochs", "max_epochs")
PROTOCOL_SECTIONS = ("Conventions that hold for every finding",)


def param_comments(path: Path = PARAMS_FILE) -> dict[str, str]:
    """The comment beside each `section.key` in params.yaml: the reason a size was chosen, in the author's words."""
    notes, section = {}, None
    for line in path.read_text().splitlines() if path.is_file() else []:
        top = re.match(r"^(\w+):", line)
        if top:
            section = top.group(1)
        key = re.match(r"^  (\w+):[^#]*#\s*(.+)$", line)
        if key and section:
            notes[f"{section}.{key.group(1)}"] = key.group(2).strip()
    return notes


def _sizes(data: Data, name: str, comments: dict[str, str]) -> str:
    cfg = data.params.get(name, {})
    sizes = [f"{k} = {cfg[k]}" + (f" ({comments[name + '.' + k]})" if f"{name}.{k}" in comments else "")
             for k in SIZE_KEYS if k in cfg]
    return "params.yaml sets " + "; ".join(sizes) if sizes else "it sets no subset size (full data or simulated data)"


def _seeds(seeds: list) -> str:
    ints = all(isinstance(s, int) for s in seeds)
    return (f"{seeds[0]}–{seeds[-1]}" if ints and len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1))
            else ", ".join(map(str, seeds)))


def _sizes_counted(data: Data, name: str, n_seeds: int) -> str:
    """Each distinct n of the experiment's findings and what it counts, with the findings that use it."""
    groups: dict[tuple[int, str], list[str]] = {}
    for f in data.findings(name):
        groups.setdefault((f.get("n", 0), examiner.counts(f, n_seeds)), []).append(f["id"])
    return "; ".join(f"n = {n:,} counts {what} ({', '.join(ids)})" for (n, what), ids in groups.items())


def _literature(data: Data, name: str) -> list[str]:
    out = []
    for r in (r for r in data.literature if r["experiment"] == name):
        ours = "n/a" if r["ours"] is None else fmt(r["ours"]) + (
            f" [{fmt(r['interval'][0])}, {fmt(r['interval'][1])}]" if r.get("interval") else "")
        label = ("Theory check (not a literature result)" if r.get("kind") == "theory"
                 else "Literature (published)")
        out.append(f"- {label}: {r['quantity']}: ours {ours}, band {r['band']}: **{r['verdict']}** "
                   f"({r['source']}; {r.get('where', '')}).")
    return out


def _experiment(data: Data, name: str, comments: dict[str, str]) -> list[str]:
    m, prim = data.metrics[name], data.primary(name)
    n_seeds, w = len(m["seeds"]), data.writeups.get(name, {})
    out = [f"## {data.title(name)}", "", "**Talking points**", "",
           f"- The question: {data.question(name)}",
           f"- Verdict: **{data.verdict(name)}** (from {len(prim)} primary finding(s)).",
           *(f"- {f['claim']} — {headline(f)} → **{f['verdict']}**." for f in prim), *_literature(data, name)]
    if w.get("try"):
        out.append(f"- Try it: `{w['try']['command']}` — {w['try']['question']}")
    tests = sorted({f.get("test", "") for f in prim} - {""})
    claims = [c for c in data.claims if (c.get("finding") or "").split("/")[0] == name]
    out += ["", "**Examiner's questions**", "",
            f"- *How many seeds?* {n_seeds} ({_seeds(m['seeds'])}), each its own run; "
            f"{_sizes_counted(data, name, n_seeds)}.",
            f"- *Which test?* The primaries use: {', '.join(tests) or 'no test'}. "
            + " ".join(f"{f['id']}: {evidence_text(f)}." for f in prim),
            f"- *Why this subset size?* {_sizes(data, name, comments)}.",
            *(f"- *What would change the verdict of {f['id']}?* {flip(f, examiner.counts(f, n_seeds))}"
              for f in prim),
            *examiner.weak_points(data, name, n_seeds)]
    if claims:
        out += [f"- *What did the old claim get wrong?* \"{c['claim']}\": **{c['verdict']}**. {flat(c['measured'])}"
                for c in claims]
    else:
        out.append("- *What did the old claim get wrong?* The old project made no claim about this experiment.")
    return out + [""]


def design_decisions(path: Path = PROTOCOL) -> list[str]:
    """The protocol's study-design bullets (pilot and confirmation, conventions), each with its reason, whole."""
    text = path.read_text() if path.is_file() else ""
    out = []
    for title in PROTOCOL_SECTIONS:
        body = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0] if f"## {title}" in text else ""
        out += [f"- {flat(b)}" for b in re.findall(r"^- (\*\*.+?)(?=^- |^\S|\Z)", body, re.M | re.S)]
    return out or ["- docs/protocol.md is missing: the design decisions are not available in this checkout."]


def _walkthrough(data: Data) -> list[str]:
    out = ["## Code walkthrough", "", "| experiment | what it is | training | judging | figures |",
           "|---|---|---|---|---|"]
    for name in data.names:
        base = f"dlps/experiments/{name}"
        out.append(f"| {name} | `{base}/spec.py` | `{base}/train.py` | `{base}/judge.py` | `{base}/figures.py` |")
    out += ["", "Shared code: `dlps/verdicts.py` (the decision rules), `dlps/stats.py` (summaries and paired tests), "
            "`dlps/report/` (this report: `build.py`, `data.py`, `doc.py`, `slides.py`, `defense.py` with "
            "`verdict_change.py` and `examiner.py`, `literature.py`, `claims.py` + `claims.yaml`), and in each "
            "experiment's folder `writeup.yaml` (title, question, set-up prose, try-it) and `literature.yaml` "
            "(published results and theory checks).", "",
            "**Design decisions** (docs/protocol.md, fixed before this run's seeds ran):", "",
            *design_decisions(), "", "Engineering decisions: docs/design.md" + (
                " (" + "; ".join(m.group(1).rstrip(".") for m in re.finditer(r"^- \*\*(.+?)\*\*", DESIGN.read_text(),
                                                                              re.M)) + ")." if DESIGN.is_file()
                else ".")]
    return out + [""]


def render(data: Data) -> str:
    lines = ["# Presentation notes (generated)", "",
             "Every number below is read from this run's metrics/ (sizes from params.yaml, planned power from "
             "docs/protocol.md) by the report stage; regenerate with `dvc repro` rather than editing.", "",
             "## Examiner's questions on the whole study", "", *examiner.study(data), ""]
    comments = param_comments()
    for name in data.names:
        lines += _experiment(data, name, comments)
    return "\n".join(lines + _walkthrough(data))
