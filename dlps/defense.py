"""report/defense.md: talking points, an examiner's likely questions with answers read from metrics, and a code
walkthrough, all generated (no number is typed by hand)."""

from __future__ import annotations

import re
from pathlib import Path

from dlps.report_data import Data, effect_text, evidence_text, flat, headline
from dlps.fmt import fmt, fmt_p

ROOT = Path(__file__).resolve().parents[1]
DESIGN, PARAMS_FILE = ROOT / "docs" / "design.md", Path("params.yaml")
SIZE_KEYS = ("n_train", "n_val", "n_test", "n_datasets", "dd_n_train", "steps", "max_steps", "epochs", "max_epochs")


def _flip(f: dict) -> str:
    """What would change this finding's verdict, in the rule's own terms."""
    v, p, alpha = f["verdict"], f.get("p_value"), f.get("alpha")
    if f.get("test") == "deterministic check":
        return (f"it is a deterministic check: one seed with a value above the tolerance ({fmt(f.get('tol'))}) would "
                f"refute it; the worst seed is at {fmt(f['effect'])}")
    if "n_needed" in f:
        return (f"an exact interval over {f['n']} seeds ({f.get('successes', '?')} successes); clearing the threshold "
                f"{fmt(f.get('threshold'))} takes at least {f['n_needed']} seeds that all succeed, so the verdict moves "
                f"with more seeds or a failure")
    if p is not None and alpha is not None:
        if v == "shown":
            return (f"{fmt_p(p)} against α = {alpha:g}: it would fall to inconclusive if a re-run's p reached α, i.e. "
                    f"if the interval {effect_text(f)} came to include no effect")
        if v == "refuted":
            return (f"the opposite test was significant (p of the expected direction {fmt_p(p)}); it would need an "
                    f"effect of the other sign, beyond the interval {effect_text(f)}")
        return (f"{fmt_p(p)} ≥ α = {alpha:g}: more seeds (n = {f['n']} now) or a larger effect would be needed to "
                f"decide it" + (f"; a TOST against the margin {fmt(f['margin'])} could refute it" if f.get("margin")
                                else ""))
    return f"its rule: {flat(f['rule'])}"


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


def _experiment(data: Data, name: str, comments: dict[str, str]) -> list[str]:
    m, prim = data.metrics[name], data.primary(name)
    w = data.writeups.get(name, {})
    out = [f"## {data.title(name)}", "", "**Talking points**", "",
           f"- The question: {data.question(name)}",
           f"- Verdict: **{data.verdict(name)}** (from {len(prim)} primary finding(s)).",
           *(f"- {f['claim']} — {headline(f)} → **{f['verdict']}**." for f in prim)]
    lit = [r for r in data.literature if r["experiment"] == name]
    out += [f"- Literature: {r['quantity']}: ours {'n/a' if r['ours'] is None else fmt(r['ours'])}, band {r['band']} "
            f"({r['verdict']})." for r in lit]
    if w.get("try"):
        out.append(f"- Try it: `{w['try']['command']}` — {w['try']['question']}")
    tests = sorted({f.get("test", "") for f in data.findings(name)})
    claims = [c for c in data.claims if (c.get("finding") or "").split("/")[0] == name]
    out += ["", "**Examiner's questions**", "",
            f"- *How many seeds?* {len(m['seeds'])} ({', '.join(map(str, m['seeds']))}); the findings use n = "
            + ", ".join(sorted({str(f['n']) for f in data.findings(name)})) + ".",
            f"- *Which test?* {', '.join(t for t in tests if t)}. "
            + " ".join(f"{f['id']}: {evidence_text(f)}." for f in prim),
            f"- *Why this subset size?* {_sizes(data, name, comments)}.",
            *(f"- *What would change the verdict of {f['id']}?* {_flip(f)}." for f in prim)]
    if claims:
        out += [f"- *What did the old claim get wrong?* \"{c['claim']}\": **{c['verdict']}**. {flat(c['measured'])}"
                for c in claims]
    else:
        out.append("- *What did the old claim get wrong?* The old project made no claim about this experiment.")
    return out + [""]


def _walkthrough(data: Data) -> list[str]:
    out = ["## Code walkthrough", "", "| experiment | what it is | training | judging | figures |", "|---|---|---|---|---|"]
    for name in data.names:
        base = f"dlps/experiments/{name}"
        out.append(f"| {name} | `{base}/spec.py` | `{base}/train.py` | `{base}/judge.py` | `{base}/figures.py` |")
    out += ["", "Shared code: `dlps/verdicts.py` (the decision rules), `dlps/stats.py` (summaries and paired tests), "
            "`dlps/claims.yaml` + `dlps/claims.py` (the old claims), `dlps/report*.py`, `dlps/slides.py`, "
            "`dlps/defense.py`, `dlps/literature.py` + `dlps/literature.yaml` (this report), "
            "`dlps/experiments/writeups.yaml` (titles, questions, set-up prose, try-it suggestions).", "",
            "**Design decisions** (from docs/design.md):", ""]
    if DESIGN.is_file():
        out += [f"- {m.group(1)}" for m in re.finditer(r"^- \*\*(.+?)\*\*", DESIGN.read_text(), re.M)]
    return out + [""]


def render(data: Data) -> str:
    lines = ["# Presentation notes (generated)", "",
             "Every number below is read from this run's metrics/ (and the sizes from params.yaml) by the report "
             "stage; regenerate with `dvc repro` rather than editing.", ""]
    comments = param_comments()
    for name in data.names:
        lines += _experiment(data, name, comments)
    return "\n".join(lines + _walkthrough(data))
