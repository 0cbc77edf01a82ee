"""What the report, slides and defense notes read: metrics, findings, claims, write-ups, figures, the protocol and the
pilot, loaded once, and the sentences every view quotes the same way (headline, labelled p, bottom line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dlps.fmt import fmt, fmt_p
from dlps.io import read_json
from dlps.verdicts import p_of

PROTOCOL, DEVIATIONS = Path("docs/protocol.md"), Path("docs/deviations.md")
PILOT, CONFIRMATORY = Path("metrics/pilot/findings.json"), Path("metrics/confirmatory/findings.json")
OPEN_CLAIMS = ("inconclusive", "not testable as stated")


@dataclass
class Data:
    params: dict
    names: list[str]
    metrics: dict[str, dict]
    writeups: dict[str, dict]
    figures: dict[str, list[dict]]  # per experiment: [{"path", "caption", "alt"}], key figure first
    claims: list[dict] = field(default_factory=list)
    literature: list[dict] = field(default_factory=list)
    protocol: dict = field(default_factory=dict)  # {"commit", "deviations": [...], "power": [table rows]}
    pilot: dict = field(default_factory=dict)  # metrics/pilot/findings.json
    confirmatory: dict = field(default_factory=dict)  # metrics/confirmatory/findings.json

    def confirmatory_finding(self, name: str, fid: str) -> dict | None:
        """The confirmatory run's finding that asked the same question: the same id, or the one the writeup's
        `confirmatory_ids` maps a renamed or redesigned finding to (null there: a question new in this protocol)."""
        ids = self.writeups.get(name, {}).get("confirmatory_ids") or {}
        old = ids.get(fid, fid)
        found = (self.confirmatory.get("experiments") or {}).get(name, [])
        return next((f for f in found if f["id"] == old), None) if old else None

    def checks(self, name: str) -> list[dict]:
        """Findings that check code or an identity (role check): reported apart from the questions."""
        return [f for f in self.findings(name) if f.get("role") == "check"]

    def holm_adjusted(self) -> bool:
        """Whether this run's findings carry Holm's adjustment (runs before the protocol's rule do not)."""
        return any("p_adjusted" in f for n in self.names for f in self.findings(n))

    def findings(self, name: str) -> list[dict]:
        return self.metrics[name].get("findings", [])

    def primary(self, name: str) -> list[dict]:
        found = self.findings(name)
        return [f for f in found if f.get("primary")] or found[:1]

    def title(self, name: str) -> str:
        return self.writeups.get(name, {}).get("title", name)

    def question(self, name: str) -> str:
        return self.writeups.get(name, {}).get("question", "")

    def verdict(self, name: str) -> str:
        return experiment_verdict(self.primary(name))

    def reading(self, name: str, f: dict) -> tuple[str, str]:
        """What a finding's number means, in words, and the number with its unit and interval: the writeup's
        words for its headline finding, else the rule's."""
        h = self.headline(name)
        if h and h["finding"] is f:
            return h["meaning"], h["number"]
        return " ".join(rule_meaning(f).split()), effect_text(f)

    def key_figure(self, name: str) -> dict | None:
        return self.figures[name][0] if self.figures[name] else None

    def finding(self, ref: str) -> dict | None:
        """A finding by 'experiment/id' (how claims name theirs)."""
        name, _, fid = (ref or "").partition("/")
        return next((f for f in self.findings(name) if f["id"] == fid), None) if name in self.metrics else None

    def headline(self, name: str) -> dict | None:
        """What a summary shows for an experiment: the finding its writeup's `headline` names (its main result),
        else the first primary; with the number in its unit, a one-line meaning and the labelled p."""
        w, prim = self.writeups.get(name, {}), self.primary(name)
        f = next((f for f in self.findings(name) if f["id"] == w.get("headline")), None) or (prim[0] if prim else None)
        if f is None:
            return None
        own = f["id"] == w.get("headline") or "headline" not in w  # the writeup's words describe this finding
        unit = w["headline_unit"] if own and "headline_unit" in w and not f.get("unit") else None  # fills a gap only
        meaning = (own and w.get("headline_meaning")) or rule_meaning(f)
        return {"finding": f, "number": effect_text(f, unit), "meaning": " ".join(str(meaning).split()),
                "p": p_text(f), "others": [o for o in prim if o is not f]}


def load(params: dict) -> Data:
    """Everything from files: metrics/<exp>.json, plots/<exp>/figures.json, metrics/claims.json, each
    experiment's writeup.yaml, docs/protocol.md with docs/deviations.md, and the earlier runs' findings
    (metrics/pilot/findings.json, metrics/confirmatory/findings.json)."""
    from dlps.experiments import NAMES, load
    from dlps.paths import claims_file, figures_dir, metrics_file

    names = list(NAMES)
    writeups = {n: load(n).data("writeup.yaml", {}) for n in names}
    figures = {}
    for name in names:
        listing = figures_dir(name) / "figures.json"
        figs = [{"path": figures_dir(name) / f["file"], "caption": f["caption"], "alt": f["alt"], "file": f["file"]}
                for f in (read_json(listing) if listing.is_file() else [])]
        key = writeups.get(name, {}).get("key_figure")
        figures[name] = sorted(figs, key=lambda f: f["file"] != key)
    claims = read_json(claims_file())["claims"] if claims_file().is_file() else []
    return Data(params, names, {n: read_json(metrics_file(n)) for n in names}, writeups, figures, claims,
                protocol=protocol(), pilot=read_json(PILOT) if PILOT.is_file() else {},
                confirmatory=read_json(CONFIRMATORY) if CONFIRMATORY.is_file() else {})


def protocol() -> dict:
    """The protocol's commit (the last one that changed docs/protocol.md), the deviations docs/deviations.md lists,
    and the rows of the protocol's power table."""
    from dlps.report.repro import _git

    text = PROTOCOL.read_text() if PROTOCOL.is_file() else ""
    devs = DEVIATIONS.read_text() if DEVIATIONS.is_file() else None
    return {"commit": _git("log", "-1", "--format=%H", "--", str(PROTOCOL)) or None, "present": bool(text),
            "deviations": deviations(devs) if devs is not None else None,
            "deviations_md": re.sub(r"\A\s*#[^\n]*\n", "", devs or ""),  # the body under the file's title
            "power": power_rows(text)}


LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


def deviations(text: str) -> list[str]:
    """The deviations a deviations file lists: its list items (with their continuation lines), else its
    paragraphs; none when it only says 'None.'."""
    body = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    items: list[str] = []
    for line in body:
        if LIST_ITEM.match(line):
            items.append(LIST_ITEM.sub("", line).strip())
        elif items and line.strip() and line[:1].isspace():
            items[-1] += " " + line.strip()
    if not items:
        items = [" ".join(p.split()) for p in re.split(r"\n\s*\n", "\n".join(body)) if p.strip()]
    return [] if [i.rstrip(".").lower() for i in items] in ([], ["none"]) else items


def power_rows(text: str) -> list[dict]:
    """The protocol's power table (the Markdown table with a 'power with them' column), one dict per row."""
    split = lambda row: [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]  # noqa: E731
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and "power with them" in line:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(split(line), split(row))))
            return rows
    return []


def setup_text(data: Data, name: str) -> str:
    """The writeup's set-up prose with its {p:…}, {m:…} and {seeds:…} fields filled from this run's params and
    metrics (dlps.report.literature.fill), so the text cannot drift from the run it describes."""
    from dlps.report.literature import fill

    return fill(data.writeups[name]["setup"], data.params, data.metrics[name])


def seeds_for(params: dict, name: str) -> list:
    return params.get(name, {}).get("seeds", params.get("seeds", []))


def experiment_verdict(primary: list[dict]) -> str:
    """The primary findings' common verdict, or 'mixed' when they disagree."""
    verdicts = {f["verdict"] for f in primary}
    return verdicts.pop() if len(verdicts) == 1 else "mixed" if verdicts else "no findings"


def _num(x, scale: float = 1.0) -> str:
    return "n/a" if x is None else fmt(x * scale)


def ci_label(f: dict) -> str:
    """The interval's level as the record states it (1 − 2α, matched to the test), 95% where it does not say."""
    return f"{100 * f.get('ci_level', 0.95):.4g}% CI"


def effect_text(f: dict, unit: str | None = None) -> str:
    """'effect unit [95% CI low, high]' read in the finding's own scale and unit (or the unit given)."""
    scale, unit = f.get("scale", 1.0), f.get("unit", "") if unit is None else unit
    sep = "" if unit.startswith("%") or not unit else " "
    eff = f"{_num(f.get('effect'), scale)}{sep}{unit}"
    if f.get("n", 0) <= 1:
        return f"{eff} (one seed, no CI)"
    if f.get("test") == "deterministic check":
        return f"{eff} (range over {f['n']} seeds {_num(f['ci_low'], scale)} to {_num(f['ci_high'], scale)})"
    return f"{eff} [{ci_label(f)} {_num(f.get('ci_low'), scale)}, {_num(f.get('ci_high'), scale)}]"


def p_label(f: dict) -> str:
    """Which p a finding's deciding p is: its record names the test that decided (`test`, key `decided_by`)."""
    return f"{f.get('test', 'test')} p"


def p_text(f: dict) -> str:
    """The deciding p, labelled, at its α; for a primary finding also its Holm-adjusted p within its family."""
    if p_of(f) is None:
        return ""
    alpha = f" (α = {f['alpha']:g})" if f.get("alpha") is not None else ""
    text = f"{p_label(f)} {fmt_p(p_of(f))[2:]}{alpha}"
    if f.get("p_adjusted") is not None:
        text += f"; Holm-adjusted p {fmt_p(f['p_adjusted'])[2:]} ({f.get('family', 'within the experiment')})"
    return text


def evidence_text(f: dict, with_test: bool = True) -> str:
    """The rule's evidence: its p-value at α, labelled by the test that decided, or what decides it when there is
    none."""
    if p_of(f) is not None:
        return p_text(f)
    if f.get("margin") is not None:
        return f"interval vs margin ±{fmt(f['margin'])}, {f.get('test', '')}"
    return f.get("test", "")


def headline(f: dict, with_test: bool = True) -> str:
    """One line: the effect, its interval, and the rule's p or interval (and which test, unless asked not to)."""
    return f"{effect_text(f)}; {evidence_text(f, with_test)}"


def rule_meaning(f: dict) -> str:
    """A one-line reading of a finding's number from its rule, for findings whose writeup does not give one."""
    rule = flat(f.get("rule", ""))
    if f.get("test") == "deterministic check":
        m = re.search(r"check: (.+?) <= ([^ ]+)", rule)
        return f"largest over seeds of: {m.group(1)}; it must be at most {m.group(2)}" if m else rule
    m = re.search(r"TOST: \|(.+?)\| < ([^ ]+)", rule)
    if m:
        return f"{m.group(1)}; the claim needs it within ±{m.group(2)}"
    m = re.search(r"\bof (.+?) ([<>]) (\S+) at α", rule)
    if m:
        side = "above" if m.group(2) == ">" else "below"
        return f"{m.group(1)}; the claim expects it {side} {'0' if m.group(3) == '0' else 'the rule’s bound'}"
    m = re.search(r"interval of (.+?) entirely (above|below) (\S+)", rule)
    return f"{m.group(1)}; the claim needs it {m.group(2)} {m.group(3).rstrip('(')}" if m else f.get("claim", "")


def bottom_line(data: Data) -> str:
    """One sentence: how many old claims hold, do not hold or stay open, and how many primary findings are shown,
    refuted or inconclusive, all counted from metrics."""
    c = [x["verdict"] for x in data.claims]
    p = [f["verdict"] for n in data.names for f in data.findings(n) if f.get("primary")]
    checks = [f["verdict"] for n in data.names for f in data.checks(n)]
    holm = data.holm_adjusted()
    n_open = sum(v in OPEN_CLAIMS for v in c)
    claims = (f"of the old project's {len(c)} claims, {_n(c.count('holds'), 'holds', 'hold')}, "
              f"{_n(c.count('does not hold'), 'does not hold', 'do not hold')} and "
              f"{_n(n_open, 'stays open', 'stay open')} (inconclusive)"
              if c else "no old claims were judged in this run")
    passed = (f"; {checks.count('shown')} of {len(checks)} checks (code, identities, design preconditions) pass"
              if checks else "")
    return (f"Bottom line: {claims}; of the {len(p)} primary findings, {_n(p.count('shown'), 'is shown', 'are shown')}"
            f", {p.count('refuted')} refuted and {p.count('inconclusive')} inconclusive"
            + (" (after Holm's adjustment within each experiment)" if holm else "") + passed + ".")


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def power_plan(data: Data) -> tuple[dict, int | None]:
    """The protocol's power table (data.protocol, from docs/protocol.md) per (experiment, finding): seeds needed,
    seeds run, what the power was computed at, planned power; and the target power (the '80%' of its 'seeds for
    80% power' column)."""
    rows = data.protocol.get("power", [])
    need = next((k for k in (rows[0] if rows else {}) if k.startswith("seeds for")), None)
    if need is None:
        return {}, None
    plan = {}
    for r in rows:
        pct = re.match(r"(\d+(?:\.\d+)?)\s*%", r.get("power with them", ""))
        plan[(r.get("experiment"), r.get("primary finding"))] = {
            "needed": r[need], "run": r.get("seeds run", "?"), "at": r.get("power computed at", "?"),
            "power": float(pct.group(1)) if pct else None, "power_text": r.get("power with them", "?")}
    return plan, int(re.search(r"(\d+)%", need).group(1))


def underpowered(data: Data) -> list[str]:
    """'experiment finding (power)' for each primary the protocol's power table plans below its target power."""
    plan, target = power_plan(data)
    return [f"{exp} {fid} ({p['power_text']})" for (exp, fid), p in plan.items()
            if p["power"] is not None and p["power"] < target]


def methods_lines(data: Data) -> dict[str, str]:
    """The protocol in one sentence per point (α and intervals, multiplicity, seeds, power, protocol and
    deviations), read from params, the findings and docs/: the report's methods and the methods slide quote them."""
    alphas = sorted({data.params.get(n, {}).get("alpha") for n in data.names} - {None})
    alpha = (f"one-sided α = {alphas[0]:g} in every experiment (two-sided {2 * alphas[0]:g})" if len(alphas) == 1
             else "one-sided α per experiment: " + ", ".join(f"{n} {data.params[n].get('alpha')}" for n in data.names))
    levels = sorted({f.get("ci_level") for n in data.names for f in data.findings(n)} - {None})
    level = ("every interval is the two-sided 1 − 2α interval matched to its test "
             f"({', '.join(f'{100 * x:g}%' for x in levels)})" if levels else "intervals are 95%")
    holm = data.holm_adjusted()
    seeds = ", ".join(f"{n} {len(s)} ({min(s)}–{max(s)})" if len(s) > 1 else f"{n} {len(s)}"
                      for n in data.names for s in [data.metrics[n].get("seeds", [])] if s)
    rows, target = power_plan(data)
    low = underpowered(data)
    proto = data.protocol
    return {
        "alpha": f"Tests: {alpha}; {level}, so a test and its interval always agree.",
        "holm": ("Multiplicity: Holm's step-down adjustment within each experiment over its primary findings with a "
                 "p-value; a verdict whose adjusted p is not below α becomes inconclusive. Secondary findings are "
                 "descriptive (raw p)." if holm else
                 "Multiplicity: this run's findings carry no Holm adjustment (they predate the protocol's rule)."),
        "seeds": f"Seeds per experiment: {seeds}; compared variants share seeds, so every comparison is paired.",
        "power": (f"Power, simulated before the run from the pilots' and the earlier run's spread "
                  "(docs/protocol.md): "
                  f"{len(rows) - len(low)} of {len(rows)} primary findings reach {target}% with the seeds run"
                  + (f"; below it: {', '.join(low)}, where inconclusive is the expected outcome." if low else ".")
                  if rows else "Power: the protocol's power table is not available in this checkout."),
        "protocol": (f"Protocol: docs/protocol.md, last changed in commit {proto['commit']}; "
                     if proto.get("commit") else "Protocol: docs/protocol.md (its commit is unknown here); "
                     if proto.get("present") else "Protocol: no docs/protocol.md in this checkout; ")
                    + ("deviations from it: not recorded (no docs/deviations.md)." if proto.get("deviations") is None
                       else "deviations from it (docs/deviations.md): "
                       + ("; ".join(proto["deviations"]) if proto["deviations"] else "None.")),
    }


def flat(text: str) -> str:
    return " ".join(str(text).split())
