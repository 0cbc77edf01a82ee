"""Judge the old project's claims (data, not code) from the stored findings and timings: each experiment's own claim
from its folder's writeup.yaml (`old_claim`), the study-wide ones from claims.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from dlps.experiments import NAMES, load
from dlps.fmt import fmt
from dlps.verdicts import claim_verdict

CLAIMS_FILE = Path(__file__).with_name("claims.yaml")


def listed(names, path: Path = CLAIMS_FILE) -> list[dict]:
    """Every claim: each experiment's, its finding named <experiment>/<id>, then the study-wide ones."""
    own = [(n, (load(n).data("writeup.yaml", {}) or {}).get("old_claim")) for n in names]
    return [c | {"finding": f"{n}/{c['finding']}"} for n, c in own if c] + yaml.safe_load(path.read_text())


def judge(findings: dict[str, list[dict]], total_wall_s: float, path: Path = CLAIMS_FILE,
          names=None) -> list[dict]:
    """One row per claim: the claim, how it is tested, the finding that decides it, its verdict (holds, does not
    hold, inconclusive, not testable as stated) and the measured value behind it."""
    rows = []
    for c in listed(NAMES if names is None else names, path):
        if "finding" in c:
            exp, fid = c["finding"].split("/")
            found = next((f for f in findings.get(exp, []) if f.get("id") == fid), None)
            if found is None:
                verdict, measured = "inconclusive", f"not measured: the {exp} run has no finding {fid!r}"
            else:
                verdict, measured = claim_verdict(found), found["text"]
        else:
            limit = c["total_minutes_at_most"]
            minutes = total_wall_s / 60
            verdict = "holds" if minutes <= limit else "does not hold"
            measured = f"{fmt(minutes)} minutes of recorded stage time in the last full run (limit {limit})"
        rows.append({"claim": c["claim"], "tested_by": c["tested_by"], "finding": c.get("finding"),
                     "verdict": verdict, "measured": measured})
    return rows
