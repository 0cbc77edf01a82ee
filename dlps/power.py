"""Seed counts from a power calculation: the per-seed spread of a pilot run (committed per-seed files at a git
revision) and a stated smallest effect of interest give the seeds a one-sided paired t-test (or a non-inferiority
test) needs for 80% power. `python -m dlps.power [REV]` prints the table kept in docs/power.md."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
from scipy import stats

POWER = 0.8
# (experiment, variant a, variant b, metric, smallest effect of interest, margin for non-inferiority or None, what)
PLANS = [
    ("dropout", "0.5", "0.0", "test_acc", 0.01, None, "dropout p = 0.5 − p = 0, test accuracy (δ = 1 pp)"),
    ("l2", "0.01", "0", "test_acc", 0.01, None, "l2 λ = 0.01 − λ = 0, test accuracy (δ = 1 pp)"),
    ("early_stopping", "all:test_acc_restored_p5", "all:test_acc_full", None, 0.0, 0.003,
     "early stopping restored − full run, non-inferior by 0.3 pp (true difference 0)"),
]


def n_for_power(sd: float, effect: float, alpha: float, margin: float | None = None, n_max: int = 500) -> int:
    """The fewest seeds with which a one-sided t-test at α reaches POWER: of mean(d) > 0 at a true mean `effect`,
    or (margin) of mean(d) > −margin at a true mean `effect`, with per-seed standard deviation `sd`."""
    shift = effect + (margin or 0.0)
    for n in range(2, n_max + 1):
        ncp = shift * math.sqrt(n) / sd
        crit = stats.t.ppf(1 - alpha, n - 1)
        if stats.nct.sf(crit, n - 1, ncp) >= POWER:
            return n
    return n_max


def _rows(rev: str, exp: str, variant: str) -> list[dict]:
    text = subprocess.run(["git", "show", f"{rev}:metrics/runs/{exp}/{variant}.json"], capture_output=True,
                          text=True, check=True).stdout
    return json.loads(text)["runs"]


def _column(rev: str, exp: str, ref: str, metric: str | None) -> np.ndarray:
    variant, _, key = ref.partition(":")
    return np.array([r[key or metric] for r in _rows(rev, exp, variant)], dtype=float)


def table(rev: str, alpha: float = 0.05) -> str:
    lines = [f"| comparison | pilot seeds | per-seed sd of the difference | seeds for {POWER:.0%} power at α = {alpha} |",
             "|---|---|---|---|"]
    for exp, a, b, metric, effect, margin, what in PLANS:
        d = _column(rev, exp, a, metric) - _column(rev, exp, b, metric)
        sd = float(d.std(ddof=1))
        lines.append(f"| {what} | {d.size} | {100 * sd:.2f} pp | {n_for_power(sd, effect, alpha, margin)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "HEAD"))
