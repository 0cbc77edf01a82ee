"""The pilot's verdicts, kept beside the confirmatory run: every finding of every experiment as committed at a
pilot revision, labelled exploratory, in metrics/pilot/findings.json (a plain committed file, not a stage output).
`python -m dlps.tools.pilot REV` rebuilds it from git; the report shows it in its pilot section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dlps.experiments import NAMES
from dlps.io import write_json

OUT = Path("metrics/pilot/findings.json")


def _show(rev: str, path: str) -> str:
    done = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: cannot read {path} at {rev} ({done.stderr.strip()}); give a revision of this "
                         "repository that has the pilot's metrics")
    return done.stdout


# finding ids that named a params value until the records were renamed (docs/deviations.md, item 7)
RENAMED_IDS = {"overfitting": {"underfits_1_vs_3": "underfits_low_vs_mid", "overfits_15_vs_3": "overfits_high_vs_mid"}}


def renamed(record):
    """An old record with today's interval keys (ci95_low/high are ci_low/high since the judging records were
    renamed; the values are the pilot's own); its other fields stay as the pilot wrote them."""
    if isinstance(record, dict):
        return {{"ci95_low": "ci_low", "ci95_high": "ci_high"}.get(k, k): renamed(v) for k, v in record.items()}
    return [renamed(x) for x in record] if isinstance(record, list) else record


def renamed_findings(name: str, findings: list[dict]) -> list[dict]:
    """An experiment's old findings under today's ids and interval keys."""
    ids = RENAMED_IDS.get(name, {})
    return [renamed(f) | {"id": ids.get(f["id"], f["id"])} for f in findings]


def snapshot(rev: str) -> dict:
    """{commit, label, experiments: {name: [finding records]}} for every registered experiment the pilot ran."""
    sha = subprocess.run(["git", "rev-parse", rev], capture_output=True, text=True, check=True).stdout.strip()
    experiments = {}
    for name in NAMES:
        experiments[name] = renamed_findings(name, json.loads(_show(sha, f"metrics/{name}.json"))["findings"])
    return {"commit": sha, "label": "exploratory", "note": "the pilot run: its seeds and rules predate the "
            "protocol (docs/protocol.md); it informed the variances of the power calculation only",
            "experiments": experiments}


if __name__ == "__main__":
    write_json(OUT, snapshot(sys.argv[1] if len(sys.argv) > 1 else "4333c39"))
    print(f"wrote {OUT}")
