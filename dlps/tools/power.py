"""Planned power of every primary question, by Monte Carlo simulation of its rule as the judge applies it: per-seed
spread from the pilot (metrics/pilot_v2/<experiment>/, else the confirmatory run's per-seed files at CONFIRMATORY),
the true effect at the smallest effect of interest or margin (each experiment's power.py; never an observed
effect), α per test Holm's first-step share (α / the experiment's primaries with a p). `python -m dlps.tools.power`
prints the table and writes docs/protocol-power.json, which evaluate copies into each primary finding."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
from scipy import integrate, stats

from dlps.verdicts import welch_df  # the judge's df rule, simulated here

POWER = 0.8
ALPHA = 0.025  # one-sided, the study's α (docs/protocol.md)
CONFIRMATORY = "f8a3a32"  # the confirmatory run's commit: its per-seed spread where a design did not change
ROOT = Path(__file__).resolve().parents[2]
PLANNED = Path("docs/protocol-power.json")
REPS = 20_000  # simulated experiments per power: MC standard error <= 0.0035
N_MAX = 400


class Source:
    """Per-seed rows by variant, read through `runs`; `col` and `sd` are what the experiments' power.py use."""

    def runs(self, variant: str) -> list[dict]:
        raise NotImplementedError

    def has(self, variant: str) -> bool:
        try:
            return bool(self.runs(variant))
        except (KeyError, FileNotFoundError, subprocess.CalledProcessError):
            return False

    def col(self, variant: str, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.runs(variant)], dtype=float)

    @staticmethod
    def sd(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1))


class Rows(Source):
    """A run's own per-seed rows ({variant: rows}): the spread a finding's run actually had."""

    def __init__(self, runs: dict[str, list[dict]]):
        self._runs = runs

    def runs(self, variant: str) -> list[dict]:
        return self._runs[variant]


class Pilot(Source):
    """One experiment's pilot files (metrics/pilot_v2/<experiment>/<variant>.json in the working tree), a variant
    without one falling back to the confirmatory run's file at `rev` (its design did not change)."""

    def __init__(self, experiment: str, rev: str = CONFIRMATORY, root: Path = ROOT):
        self.experiment, self.rev, self.root = experiment, rev, root
        self.used: dict[str, str] = {}

    def runs(self, variant: str) -> list[dict]:
        path = self.root / "metrics/pilot_v2" / self.experiment / f"{variant}.json"
        if path.is_file():
            self.used[variant] = "pilot_v2"
            return json.loads(path.read_text())["runs"]
        text = subprocess.run(["git", "show", f"{self.rev}:metrics/runs/{self.experiment}/{variant}.json"],
                              cwd=self.root, capture_output=True, text=True, check=True).stdout
        self.used[variant] = self.rev
        return json.loads(text)["runs"]


def _t_rejects(rng, sd: float, shift: float, alpha: float, n: int, extra_var: float, extra_df: float | None,
               reps: int, tost: bool = False) -> np.ndarray:
    """Which of `reps` simulated experiments the one-sided t rule (true mean `shift`) or, `tost`, both one-sided
    tests of a TOST within ±shift (true mean 0) reject. The t statistic depends on the seeds only through mean and
    variance, drawn exactly: mean ~ N(true, sd²/n + the shared variance), s² ~ sd² χ²(n − 1)/(n − 1), independent."""
    mean = (0.0 if tost else shift) + math.sqrt(sd * sd / n + extra_var) * rng.standard_normal(reps)
    s2 = sd * sd * rng.chisquare(n - 1, reps) / (n - 1)
    se = np.sqrt(s2 / n + extra_var)
    crit = stats.t.isf(alpha, welch_df(s2, n, extra_var, extra_df))
    with np.errstate(divide="ignore", invalid="ignore"):
        if tost:  # true mean 0, margin `shift`: both one-sided tests must reject
            return ((mean + shift) / se > crit) & ((mean - shift) / se < -crit)
        return mean / se > crit


def _sign_rejects(rng, q: float, alpha: float, n: int, reps: int) -> np.ndarray:
    """Which simulated experiments the exact one-sided sign test rejects, each seed on the expected side with
    probability q (continuous differences: no ties)."""
    k = rng.binomial(n, q, reps)
    return stats.binom.sf(k - 1, n, 0.5) < alpha


def sign_q(plan: dict, sd: float | None) -> float:
    """How often a seed lands on the expected side: the plan's q, else P(N(effect, sd²) > 0), else every seed (the
    fewest seeds that can reach α at all)."""
    if plan.get("q") is not None:
        return float(plan["q"])
    if plan.get("effect") is not None and sd:
        return float(stats.norm.cdf(plan["effect"] / sd))
    return 1.0


def simulate(plan: dict, alpha: float, n: int, reps: int = REPS, seed: int = 0) -> float:
    """The plan's power with n seeds: the share of simulated experiments in which EVERY part (one per `sds`) passes.
    Parts are simulated independently; positively correlated parts (shared seeds) only raise it."""
    rng = np.random.default_rng(seed)
    ok = np.ones(reps, dtype=bool)
    for sd in plan.get("sds") or [None]:
        if plan["test"] == "sign":
            q = sign_q(plan, sd)
            ok &= _sign_rejects(rng, q, alpha, n, reps)
        else:
            ok &= _t_rejects(rng, sd, plan["effect"], alpha, n, plan.get("extra_var", 0.0), plan.get("extra_df"),
                             reps, tost=plan["test"] == "tost")
    return float(ok.mean())


def n_for(plan: dict, alpha: float, target: float = POWER, n_max: int = N_MAX) -> int | None:
    """The fewest seeds whose simulated power reaches `target` (None: not within n_max, e.g. a shared variance that
    seeds cannot shrink caps it). Power rises with n; a bisection over the same random numbers."""
    if plan["test"] == "sign":  # the exact test's power saws with n: the first n that reaches it
        return next((n for n in range(1, n_max + 1) if simulate(plan, alpha, n) >= target), None)
    if simulate(plan, alpha, n_max) < target:
        return None
    if simulate(plan, alpha, 2) >= target:
        return 2
    lo, hi = 2, n_max  # power(lo) < target <= power(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if simulate(plan, alpha, mid) >= target else (mid, hi)
    return hi


def exact_power_t(sd: float, shift: float, alpha: float, n: int, extra_var: float = 0.0,
                  extra_df: float | None = None) -> float:
    """The one-sided t rule's power by numerical integration over s² (the check on the simulation): P(mean > crit·SE)
    given s², integrated against s²'s scaled χ² density."""
    tot = math.sqrt(sd * sd / n + extra_var)
    k = n - 1

    def given(u: float) -> float:  # u = s²(n − 1)/sd² ~ χ²(k)
        s2 = sd * sd * u / k
        se = math.sqrt(s2 / n + extra_var)
        crit = stats.t.isf(alpha, float(welch_df(np.array(s2), n, extra_var, extra_df)))
        return stats.norm.sf((crit * se - shift) / tot) * stats.chi2.pdf(u, k)

    return float(integrate.quad(given, 0, np.inf, limit=200, epsabs=1e-10)[0])


def nct_power_t(sd: float, shift: float, alpha: float, n: int) -> float:
    """The plain one-sided t-test's power from the noncentral t (no shared variance): the textbook formula."""
    return float(stats.nct.sf(stats.t.isf(alpha, n - 1), n - 1, shift * math.sqrt(n) / sd))


def alpha_share(found: list[dict]) -> float:
    """Holm's first step: α over the experiment's primaries with a p (one plan each)."""
    return ALPHA / max(1, len(found))


def evaluate_plans(found: list[dict], n: int) -> dict[str, dict]:
    """Each plan's simulated power with n seeds, by finding id."""
    alpha = alpha_share(found)
    return {p["finding"]: {"power": simulate(p, alpha, n), "n": n, "alpha_each": alpha} for p in found}


def rows() -> list[dict]:
    """One row per primary with a p-value, from every experiment's power.py and params' seeds."""
    from dlps.experiments import load_all
    from dlps.params import load

    params, out = load(), []
    for exp in load_all():
        if exp.power is None:
            continue
        pilot = Pilot(exp.name)
        found = exp.power.plans(pilot)
        alpha, n = alpha_share(found), len(params[exp.name]["seeds"])
        for p in found:
            out.append({"experiment": exp.name, "finding": p["finding"], "rule": p["rule"], "test": p["test"],
                        "sd": p["sd"], "at": p["at"], "effect": p.get("q", p.get("effect")), "alpha_each": alpha,
                        "n": n, "planned_power": round(simulate(p, alpha, n), 4), "n_for_80": n_for(p, alpha),
                        "parts": len(p.get("sds") or [None]),
                        "source": " + ".join(sorted(set(pilot.used.values()))) or "no per-seed file read"})
    return out


def table(found: list[dict]) -> str:
    lines = [f"| experiment | primary finding | rule | per-seed sd (source) | power computed at | α per test (Holm's "
             f"first share) | seeds for {POWER:.0%} power | seeds run | power with them |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in found:
        need = r["n_for_80"] if r["n_for_80"] is not None else f"> {N_MAX}"
        lines.append(f"| {r['experiment']} | {r['finding']} | {r['rule']} | {r['sd']} ({r['source']}) | {r['at']} | "
                     f"{r['alpha_each']:.4g} | {need} | {r['n']} | {100 * r['planned_power']:.0f}% |")
    return "\n".join(lines)


def write(found: list[dict], path: Path = ROOT / PLANNED) -> None:
    out: dict = {}
    for r in found:
        out.setdefault(r["experiment"], {})[r["finding"]] = {
            k: r[k] for k in ("planned_power", "n", "n_for_80", "alpha_each", "effect", "sd", "rule", "test", "at",
                              "source")}
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    found = rows()
    print(table(found))
    write(found)
