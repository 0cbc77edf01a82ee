"""The questions a sharp examiner asks of this run, built from its own weak points and answered from its files:
what each n counts, the protocol's planned power (docs/protocol.md), verdicts that moved since the pilot
(metrics/pilot/findings.json; both as dlps.report.data loads them), tests that cannot reach α with the counts
they have, rate claims no outcome could pass, effects pointing the other way, what an interval covers, multiplicity across the whole study, and datasets
that are not the canonical copy (metrics/datasets/*.json). No number is typed here."""

from __future__ import annotations

import re
from pathlib import Path

from scipy import stats

from dlps.fmt import fmt, fmt_p
from dlps.io import read_json
from dlps.report.data import Data, effect_text, flat, power_plan
from dlps.report.verdict_change import cp, mcnemar_floor
from dlps.verdicts import holm, p_of, seeds_needed

DATASETS = Path("metrics/datasets")


def counts(f: dict, n_seeds: int) -> str:
    """What a finding's n counts, read from its record and rule (seeds, matched seeds, test reviews, runs…)."""
    n, rule = f.get("n", 0), flat(f.get("rule", ""))
    every = re.search(r"in every ([\w–-]+(?: [\w–-]+)?)$", rule)
    if f.get("test") == "deterministic check" and every:
        return every.group(1) + "s"
    if f.get("matched_seeds") is not None and n == f["matched_seeds"]:
        return "matched seeds (both models reached the target)"
    over = (re.search(rf"over the {n} ([a-z][\w-]*(?: [a-z][\w-]*)?)", rule)
            or re.search(r"binomial on the ([a-z][\w-]* (?!where|exactly)[a-z][\w-]*)", rule))
    if over:
        return over.group(1)
    if n == n_seeds:
        return "seeds"
    said = re.search(rf"(?<![\d.,])(?:{n}|{n:,}) ([a-z][\w-]*(?: [a-z][\w-]*)?)", f.get("text", ""))
    return said.group(1) if said else "units named in its rule"


def pilot_verdicts(data: Data) -> tuple[dict, str]:
    """The pilot's verdicts (data.pilot, from metrics/pilot/findings.json) per experiment and finding id, and its
    commit."""
    p = data.pilot or {}
    return ({exp: {f["id"]: f["verdict"] for f in fs} for exp, fs in p.get("experiments", {}).items()},
            p.get("commit", "")[:7])


def study_holm(data: Data) -> list[tuple[str, dict, float]]:
    """Holm over every primary of the study with a p-value (dlps.verdicts.holm on copies, one study-wide family):
    (experiment, finding, adjusted p), by raw p."""
    fam = [(n, f) for n in data.names for f in data.primary(n)
           if p_of(f) is not None and f.get("alpha") is not None]
    adjusted = holm([{**f, "primary": True, "text": ""} for _, f in fam], "the study")
    return sorted(((n, f, a["p_adjusted"]) for (n, f), a in zip(fam, adjusted)), key=lambda t: p_of(t[1]))


def _multiplicity(data: Data) -> str:
    fam = study_holm(data)
    within = [f"{n}/{f['id']}" for n in data.names for f in data.primary(n) if f.get("raw_verdict")]
    moved = [(n, f, adj) for n, f, adj in fam
             if (f.get("raw_verdict") or f["verdict"]) != "inconclusive" and adj >= f["alpha"]
             and f["verdict"] != "inconclusive"]
    head = (f"*What about multiplicity?* The protocol's family is each experiment's primaries (Holm within the "
            f"experiment); primary verdicts it made inconclusive in this run: {len(within)}"
            + (f" ({', '.join(within)})" if within else "") + f". Under one Holm family over all {len(fam)} "
            "primaries with a p-value, ")
    if not moved:
        return head + "no further verdict would change."
    return head + f"{len(moved)} more would become inconclusive: " + "; ".join(
        f"{n}/{f['id']} ({f['verdict']}, raw {fmt_p(p_of(f))}, study-wide adjusted p = {fmt(adj)})"
        for n, f, adj in moved) + "."


def _power(data: Data) -> str:
    plan, target = power_plan(data)
    if not plan:
        return "*Was the study powered?* docs/protocol.md has no power table."
    low = [(n, f, plan[(n, f["id"])]) for n in data.names for f in data.primary(n)
           if (n, f["id"]) in plan and plan[(n, f["id"])]["power"] is not None
           and plan[(n, f["id"])]["power"] < target]
    return (f"*Was the study powered?* docs/protocol.md aimed at {target}% power; primaries it planned below that, "
            f"knowingly: {len(low)}" + (" — " if low else ".") + "; ".join(
                f"{n}/{f['id']}: {p['power_text']} with {p['run']} seeds ({p['needed']} for {target}%), now "
                f"**{f['verdict']}**" for n, f, p in low)
            + (". Where one of them is inconclusive, that is the expected outcome of the budget, not evidence of no "
               "effect." if low else ""))


def _pilot(data: Data) -> str:
    pilot, commit = pilot_verdicts(data)
    if not pilot:
        return "*Did the pilot agree?* This run's metrics hold no pilot findings (metrics/pilot/findings.json)."
    pairs = [(n, f, pilot.get(n, {}).get(f["id"])) for n in data.names for f in data.primary(n)]
    moved = [(n, f, v) for n, f, v in pairs if v is not None and v != f["verdict"]]
    new = [f"{n}/{f['id']}" for n, f, v in pairs if v is None]
    return (f"*Did the pilot agree?* The pilot ({commit}, exploratory: other seeds and the rules before the "
            f"protocol) had {len(pairs) - len(new)} of these {len(pairs)} primaries; {len(moved)} changed verdict"
            + (": " + "; ".join(f"{n}/{f['id']} {v} → {f['verdict']}" for n, f, v in moved) if moved else "")
            + (f". New since the pilot: {', '.join(new)}" if new else "") + ".")


def _datasets(data: Data) -> list[str]:
    from dlps.experiments import load

    out = []
    for path in sorted(DATASETS.glob("*.json")) if DATASETS.is_dir() else []:
        d = read_json(path)
        if d.get("canonical", True):
            continue
        users = [n for n in data.names if path.stem in load(n).spec.datasets]
        out.append(f"*What does the copy of {path.stem} change?* {path} says it is not the canonical data: "
                   f"{flat(d.get('description', ''))}. Used by {', '.join(users) or 'no experiment'}: every "
                   "comparison inside the study is paired on the same data, so it is a comparison on this copy; "
                   "its absolute numbers are not those of the published data set.")
    return out


def study(data: Data) -> list[str]:
    """The questions about the whole study."""
    undecided = [f"{n}/{f['id']}" for n in data.names for f in data.primary(n) if f["verdict"] == "inconclusive"]
    return [f"- {q}" for q in [_multiplicity(data), _power(data), _pilot(data), *_datasets(data),
                               f"*Which primaries stay open?* {len(undecided)}: {', '.join(undecided) or 'none'}."]]


def _attainable(f: dict, what: str) -> str | None:
    """Why a test cannot reach α with the counts it has, or a rate claim cannot pass with n."""
    alpha, n = f.get("alpha"), f.get("n", 0)
    if alpha is None:
        return None
    if "discordant" in f and mcnemar_floor(sum(f["discordant"])) >= alpha:
        m = sum(f["discordant"])
        return (f"*Why can {f['id']} not be significant?* Exact McNemar uses only the {m} discordant {what} "
                f"({f['discordant'][0]} vs {f['discordant'][1]}); its smallest one-sided p is 0.5^{m} = "
                f"{fmt(mcnemar_floor(m))}, not below α = {fmt(alpha)}: it needs at least "
                f"{seeds_needed(0.5, alpha)} discordant {what}.")
    if f.get("test") == "exact sign test" and n and mcnemar_floor(n) >= alpha:
        return (f"*Why can {f['id']} not reach α?* An exact sign test on {n} {what} has its smallest one-sided p at "
                f"0.5^{n} = {fmt(mcnemar_floor(n))} ≥ α = {fmt(alpha)}, even with every pair on one side.")
    if "threshold" in f and "entirely below" not in f.get("rule", "") and n:
        low = float(cp(n, n, f.get("ci_level", 0.95))[0])
        if low <= f["threshold"]:
            return (f"*Why can \"{f['claim']}\" never pass with {n} {what}?* Even {n}/{n} successes give an exact "
                    f"lower bound of {fmt(100 * low)}%, not above {fmt(100 * f['threshold'])}%"
                    + (f"; it takes at least {f['n_needed']} {what} that all succeed." if f.get("n_needed") else "."))
    return None


def _covers(f: dict, n_seeds: int) -> str | None:
    """What the interval of a finding over training seeds plus a shared test set covers, and what df costs."""
    if "sampling" not in f.get("test", "") or f.get("n", 0) < 2:
        return None
    n, alpha = f["n"], f["alpha"]
    df = f.get("df") or n - 1
    how = "Welch–Satterthwaite df" if "Welch" in f.get("test", "") else "df n − 1"
    items = next((p["n"] for p in f.get("per_seed", {}).values()), None)
    return (f"*What does the interval of {f['id']} cover?* Both sources of error: the spread between its {n} "
            f"training seeds and, added in full, the sampling of the " + (f"{items:,} " if items else "")
            + f"shared test items; its t quantile is at {how} ({fmt(df)}): {fmt(float(stats.t.ppf(1 - alpha, df)))}"
            f" against {fmt(float(stats.norm.ppf(1 - alpha)))} with many seeds.")


def weak_points(data: Data, name: str, n_seeds: int) -> list[str]:
    """The questions this experiment's own records raise."""
    out = [q for f in data.findings(name) if (q := _attainable(f, counts(f, n_seeds)))]
    out += [q for f in data.findings(name) if (q := _covers(f, n_seeds))]
    for f in data.primary(name):
        if (f.get("p_expected") or 0) > 0.5 and f["verdict"] != "refuted" and "threshold" not in f:
            out.append(f"*Why does {f['id']} point the other way?* Its effect, {effect_text(f)}, lies on the other "
                       f"side of the claim (one-sided p {fmt(f['p_expected'])} in the expected direction, "
                       f"{fmt(f.get('p_opposite'))} in the opposite): the data lean against the claim, and only the "
                       "opposite test reaching α would refute it.")
    if n_seeds == 1 and any(counts(f, 1) not in ("seeds", "units named in its rule") for f in data.findings(name)):
        out.append("*Why one training seed?* With one seed every interval here covers the sampling of the test "
                   "items only, not the spread between training runs.")
    plan, target = power_plan(data)
    mine = [(f, plan[(name, f["id"])]) for f in data.primary(name) if (name, f["id"]) in plan]
    if mine:
        out.append("*Was it powered?* " + "; ".join(
            f"{f['id']}: planned power {p['power_text']} with {p['run']} seeds ({p['needed']} for {target}%, "
            f"computed at {p['at']}) → **{f['verdict']}**" for f, p in mine) + ".")
    pilot, _ = pilot_verdicts(data)
    was = [(f, pilot.get(name, {}).get(f["id"])) for f in data.primary(name)]
    if pilot:
        out.append("*What did the pilot say?* " + "; ".join(
            f"{f['id']}: {v or 'not in the pilot'} → {f['verdict']}" for f, v in was) + " (pilot: exploratory).")
    return [f"- {q}" for q in out]
