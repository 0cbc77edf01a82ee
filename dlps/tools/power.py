"""Seed counts for the confirmatory run, from a power calculation made before its seeds are drawn: the pilot run's
per-seed spread (committed per-seed files at a git revision) and each primary question's smallest effect of
interest or margin (its experiment's power.py; docs/protocol.md says why each) give the seeds its rule needs for 80% power at α, Bonferroni
over the experiment's primaries (Holm is never less powerful). `python -m dlps.tools.power [PILOT_REV]` prints the table
kept in docs/protocol.md. The pilot supplies only variances: every assumed true effect is the margin's, never the
pilot's observed effect."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
from scipy import stats

POWER = 0.8
ALPHA = 0.025  # one-sided, the study's α (docs/protocol.md)
PILOT = "4333c39"


def n_t(sd: float, shift: float, alpha: float, n_max: int = 400, extra_var: float = 0.0) -> int:
    """The fewest seeds with which a one-sided one-sample t-test at α reaches POWER when the true mean lies `shift`
    beyond the null, per-seed sd `sd` (and a shared variance `extra_var` that more seeds do not shrink)."""
    for n in range(2, n_max + 1):
        se = math.sqrt(sd * sd / n + extra_var)
        if stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, shift / se) >= POWER:
            return n
    return n_max


def power_t(sd: float, shift: float, alpha: float, n: int, extra_var: float = 0.0) -> float:
    """The power of that test with n seeds."""
    se = math.sqrt(sd * sd / n + extra_var)
    return float(stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, shift / se))


def n_tost(sd: float, margin: float, alpha: float, n_max: int = 400) -> int:
    """The fewest seeds for a TOST at α to show |mean| < margin with POWER when the true mean is 0 (each one-sided
    test then needs power 1 − (1 − POWER)/2; a close, slightly conservative bound)."""
    for n in range(2, n_max + 1):
        ncp = margin * math.sqrt(n) / sd
        if stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, ncp) >= 1 - (1 - POWER) / 2:
            return n
    return n_max


def power_tost(sd: float, margin: float, alpha: float, n: int) -> float:
    """The (slightly conservative) power of that TOST with n seeds at a true mean of 0."""
    one = stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, margin * math.sqrt(n) / sd)
    return float(max(0.0, 2 * one - 1))


def n_sign(alpha: float) -> int:
    """The fewest pairs whose one-sided exact sign test can reach p < α at all (every pair the same sign)."""
    return int(math.floor(math.log(alpha) / math.log(0.5))) + 1


class Pilot:
    """One experiment's committed per-seed files at the pilot's git revision."""

    def __init__(self, rev: str, experiment: str):
        self.rev, self.experiment = rev, experiment

    def runs(self, variant: str) -> list[dict]:
        text = subprocess.run(["git", "show", f"{self.rev}:metrics/runs/{self.experiment}/{variant}.json"],
                              capture_output=True, text=True, check=True).stdout
        return json.loads(text)["runs"]

    def col(self, variant: str, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.runs(variant)], dtype=float)

    @staticmethod
    def sd(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1))


def needed(plan: dict, alpha: float) -> int:
    """The seeds a plan's rule needs for POWER at α (all its parts, `sds`, required)."""
    if plan["test"] == "sign":
        return n_sign(alpha)
    if plan["test"] == "tost":
        return max(n_tost(s, plan["effect"], alpha) for s in plan["sds"])
    return max(n_t(s, plan["effect"], alpha, extra_var=plan.get("extra_var", 0.0)) for s in plan["sds"])


def power_with(plan: dict, alpha: float, n: int) -> float | None:
    """The rule's power with n seeds (the weakest part's); None for a rule whose n follows from the rule itself."""
    if plan["test"] == "sign":
        return None
    if plan["test"] == "tost":
        return min(power_tost(s, plan["effect"], alpha, n) for s in plan["sds"])
    return min(power_t(s, plan["effect"], alpha, n, plan.get("extra_var", 0.0)) for s in plan["sds"])


def plans(rev: str) -> list[dict]:
    """One row per primary question with a p-value, from each experiment's power.py: its rule, the pilot's
    per-seed sd, the effect the power is computed at, and the seeds needed at α divided by the experiment's number
    of such primaries (its Holm family)."""
    from dlps.experiments import load_all
    from dlps.params import load

    params, rows = load(), []
    for exp in load_all():
        if exp.power is None:
            continue
        name = exp.name
        found = exp.power.plans(Pilot(rev, name))
        alpha, used = ALPHA / len(found), len(params[name]["seeds"])
        rows += [{"experiment": name, "finding": p["finding"], "rule": p["rule"], "sd": p["sd"], "at": p["at"],
                  "n": needed(p, alpha), "alpha_each": alpha, "seeds": used, "power": power_with(p, alpha, used)}
                 for p in found]
    return rows


def table(rev: str) -> str:
    lines = [f"| experiment | primary finding | rule | pilot per-seed sd | power computed at | α per test "
             f"(Bonferroni share) | seeds for {POWER:.0%} power | seeds run | power with them |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in plans(rev):
        power = "by the rule" if r["power"] is None else f"{100 * r['power']:.0f}%"
        if r["power"] is None and r["seeds"] < r["n"]:
            power = "cannot reach α"
        lines.append(f"| {r['experiment']} | {r['finding']} | {r['rule']} | {r['sd']} | {r['at']} | "
                     f"{r['alpha_each']:.4g} | {r['n']} | {r['seeds']} | {power} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else PILOT))
