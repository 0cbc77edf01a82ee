"""What the report, slides and defense notes read: metrics, findings, claims, write-ups and figures, loaded once,
and the sentences every view quotes the same way (headline, rule, verdict of an experiment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlps.io import read_json
from dlps.fmt import fmt, fmt_p

WRITEUPS_FILE = Path(__file__).parent / "experiments" / "writeups.yaml"


@dataclass
class Data:
    params: dict
    names: list[str]
    metrics: dict[str, dict]
    writeups: dict[str, dict]
    figures: dict[str, list[dict]]  # per experiment: [{"path", "caption", "alt"}], key figure first
    claims: list[dict] = field(default_factory=list)
    literature: list[dict] = field(default_factory=list)

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

    def key_figure(self, name: str) -> dict | None:
        return self.figures[name][0] if self.figures[name] else None


def load(params: dict, writeups_file: Path = WRITEUPS_FILE) -> Data:
    """Everything from files: metrics/<exp>.json, plots/<exp>/figures.json, metrics/claims.json, writeups.yaml."""
    from dlps.experiments import NAMES
    from dlps.paths import claims_file, figures_dir, metrics_file

    names = list(NAMES)
    writeups = yaml.safe_load(writeups_file.read_text()) if writeups_file.is_file() else {}
    figures = {}
    for name in names:
        listing = figures_dir(name) / "figures.json"
        figs = [{"path": figures_dir(name) / f["file"], "caption": f["caption"], "alt": f["alt"], "file": f["file"]}
                for f in (read_json(listing) if listing.is_file() else [])]
        key = writeups.get(name, {}).get("key_figure")
        figures[name] = sorted(figs, key=lambda f: f["file"] != key)
    claims = read_json(claims_file())["claims"] if claims_file().is_file() else []
    return Data(params, names, {n: read_json(metrics_file(n)) for n in names}, writeups, figures, claims)


def seeds_for(params: dict, name: str) -> list:
    return params.get(name, {}).get("seeds", params.get("seeds", []))


def experiment_verdict(primary: list[dict]) -> str:
    """The primary findings' common verdict, or 'mixed' when they disagree."""
    verdicts = {f["verdict"] for f in primary}
    return verdicts.pop() if len(verdicts) == 1 else "mixed" if verdicts else "no findings"


def _num(x, scale: float = 1.0) -> str:
    return "n/a" if x is None else fmt(x * scale)


def effect_text(f: dict) -> str:
    """'effect unit [95% CI low, high]' read in the finding's own scale and unit."""
    scale, unit = f.get("scale", 1.0), f.get("unit", "")
    sep = "" if unit.startswith("%") or not unit else " "
    eff = f"{_num(f.get('effect'), scale)}{sep}{unit}"
    if f.get("n", 0) <= 1:
        return f"{eff} (one seed, no CI)"
    if f.get("test") == "deterministic check":
        return f"{eff} (range over {f['n']} seeds {_num(f['ci95_low'], scale)} to {_num(f['ci95_high'], scale)})"
    return f"{eff} [95% CI {_num(f.get('ci95_low'), scale)}, {_num(f.get('ci95_high'), scale)}]"


def evidence_text(f: dict, with_test: bool = True) -> str:
    """The rule's evidence: its p-value at α, or what decides it when there is none."""
    if f.get("p_value") is not None:
        alpha = f" (α = {f['alpha']:g})" if f.get("alpha") is not None else ""
        return f"{fmt_p(f['p_value'])}{alpha}" + (f", {f.get('test', 'test')}" if with_test else "")
    if f.get("margin") is not None:
        return f"interval vs margin ±{fmt(f['margin'])}, {f.get('test', '')}"
    return f.get("test", "")


def headline(f: dict, with_test: bool = True) -> str:
    """One line: the effect, its interval, and the rule's p or interval (and which test, unless asked not to)."""
    return f"{effect_text(f)}; {evidence_text(f, with_test)}"


def flat(text: str) -> str:
    return " ".join(str(text).split())
