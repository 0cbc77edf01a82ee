"""Earlier runs' verdicts, kept beside this run's: every finding of every experiment as committed at a revision, in
metrics/<run>/findings.json (a plain committed file, not a stage output). `python -m dlps.tools.pilot pilot REV`
keeps the pilot's (exploratory), `python -m dlps.tools.pilot confirmatory REV` the confirmatory run's (earlier
evidence); the report shows the pilot in its pilot section and the confirmatory verdict beside each primary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dlps.experiments import NAMES
from dlps.io import write_json

RUNS = {  # run -> (default revision, label, note)
    "pilot": ("4333c39", "exploratory", "the pilot run: its seeds and rules predate the protocol (docs/protocol.md); "
              "it informed the variances of the first power calculation only"),
    "confirmatory": ("25e4cad", "earlier evidence", "the confirmatory run (seeds 1000+, run at f8a3a32 on protocol "
                     "v1, commit 98cbbd8), its per-seed results judged by the same rules under today's finding ids "
                     "(python -m dlps.tools.preserved f8a3a32: 48 findings, 0 differences)"),
}


def out_file(run: str) -> Path:
    return Path(f"metrics/{run}/findings.json")


def _show(rev: str, path: str) -> str:
    done = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: cannot read {path} at {rev} ({done.stderr.strip()}); give a revision of this "
                         "repository that has that run's metrics")
    return done.stdout


# finding ids that named a params value until the records were renamed (docs/deviations.md, item 7)
RENAMED_IDS = {"overfitting": {"underfits_1_vs_3": "underfits_low_vs_mid", "overfits_15_vs_3": "overfits_high_vs_mid"}}


def renamed(record):
    """An old record with today's interval keys (ci95_low/high are ci_low/high since the judging records were
    renamed; the values are the old run's own); its other fields stay as the run wrote them."""
    if isinstance(record, dict):
        return {{"ci95_low": "ci_low", "ci95_high": "ci_high"}.get(k, k): renamed(v) for k, v in record.items()}
    return [renamed(x) for x in record] if isinstance(record, list) else record


def renamed_findings(name: str, findings: list[dict]) -> list[dict]:
    """An experiment's old findings under today's ids and interval keys."""
    ids = RENAMED_IDS.get(name, {})
    return [renamed(f) | {"id": ids.get(f["id"], f["id"])} for f in findings]


def snapshot(run: str, rev: str) -> dict:
    """{run, commit, label, note, experiments: {name: [finding records]}} for every registered experiment."""
    _, label, note = RUNS[run]
    sha = subprocess.run(["git", "rev-parse", rev], capture_output=True, text=True, check=True).stdout.strip()
    experiments = {name: renamed_findings(name, json.loads(_show(sha, f"metrics/{name}.json"))["findings"])
                   for name in NAMES}
    return {"run": run, "commit": sha, "label": label, "note": note, "experiments": experiments}


if __name__ == "__main__":
    run = sys.argv[1] if len(sys.argv) > 1 else "pilot"
    if run not in RUNS:
        raise SystemExit(f"error: unknown run {run!r}; one of {', '.join(RUNS)}")
    write_json(out_file(run), snapshot(run, sys.argv[2] if len(sys.argv) > 2 else RUNS[run][0]))
    print(f"wrote {out_file(run)}")
