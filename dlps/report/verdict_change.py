"""What would change a finding's verdict, answered in its own rule's terms from its record (dlps.verdicts): the
margin of an equivalence (TOST) or non-inferiority test, the bar of a test against a constant, the threshold of an
exact rate, the discordant counts of a McNemar test, 0 for a plain difference, the weakest part of an
intersection–union rule; and the Holm adjustment of a primary. Quantities read in the finding's own scale and unit."""

from __future__ import annotations

import math
import re

import numpy as np
from scipy import stats

from dlps.fmt import fmt, fmt_p
from dlps.verdicts import p_of, seeds_needed

UP, DOWN = "greater", "less"


def unit(f: dict) -> str:
    """The finding's unit without its gloss ('decades (log10 test MSE, …)' → 'decades')."""
    return f.get("unit", "").split(" (")[0]


def q(x: float | None, f: dict) -> str:
    """x in the finding's scale and unit, e.g. 0.003 at scale 100, unit pp → '0.3 pp'."""
    if x is None:
        return "n/a"
    u = unit(f)
    return f"{fmt(x * f.get('scale', 1.0))}{'' if not u or u.startswith('%') else ' '}{u}"


def level(f: dict) -> str:
    return f"{100 * f.get('ci_level', 0.95):g}% interval"


def span(f: dict) -> str:
    return f"[{q(f['ci_low'], f)}, {q(f['ci_high'], f)}]"


def segment(rule: str, key: str, keys) -> str:
    """The part of an intersection–union rule's text that belongs to part `key`."""
    start = rule.find(f"{key}: ")
    if start < 0:
        return rule
    ends = [i for k in keys if k != key and (i := rule.find(f"; {k}: ", start)) > start]
    return rule[start:min(ends, default=len(rule))]


def direction(rule: str) -> tuple[str, float | None]:
    """The expected side (greater/less) of a one-sided test and its bar: 'of X − 0.3 > 0' tests X against 0.3."""
    m = re.search(r" of (.+?) ([<>]) 0 at α", rule)
    if not m:
        return UP, None
    bar = re.search(r" − (-?\d+(?:\.\d+)?(?:e-?\d+)?)$", m.group(1))
    return (UP if m.group(2) == ">" else DOWN), (float(bar.group(1)) if bar else None)


def _reads_value(f: dict, expect: str, bar: float) -> bool:
    """Whether the record's effect is the value itself (its null is the bar) rather than value − bar (null 0).
    The records do not store their null, and judges report it both ways; a t-test's p, effect and interval
    together fix the null the p was computed against."""
    p = f.get("p_expected")
    lo, hi, n = f.get("ci_low"), f.get("ci_high"), f.get("n", 0)
    if p is None or lo is None or hi is None or n < 2 or hi <= lo or not 0 < p < 1:
        return False
    se = (hi - lo) / (2 * stats.t.ppf(0.5 + f.get("ci_level", 0.95) / 2, n - 1))
    t = stats.t.isf(p, n - 1) if expect == UP else stats.t.ppf(p, n - 1)
    null = f["effect"] - t * se
    return abs(null - bar) < abs(null)


def seeds_to_clear(f: dict, distance: float) -> int | None:
    """At the observed mean and spread, the seeds whose matched interval would end `distance` from the effect's
    boundary (a rough reading for an examiner, not the protocol's power calculation); None if no n would."""
    lo, hi, n, alpha = f.get("ci_low"), f.get("ci_high"), f.get("n", 0), f.get("alpha")
    if distance <= 0 or None in (lo, hi, alpha) or n < 2 or hi <= lo:
        return None
    sd = (hi - lo) / (2 * stats.t.ppf(1 - alpha, n - 1)) * math.sqrt(n)
    return next((k for k in range(2, 100_001) if stats.t.ppf(1 - alpha, k - 1) * sd / math.sqrt(k) < distance), None)


def _state(f: dict, shown: str, refuted: str, boundary: float, side: str, estimate: float | None) -> str:
    """Where the interval stands against the region that shows and the one that refutes, and what moves it."""
    lo, hi = f["ci_low"], f["ci_high"]
    head = (f"shown while the {level(f)} lies {shown}, refuted if it lies {refuted}; it is {span(f)} now, so "
            f"**{f['verdict']}**")
    if f["verdict"] == "shown":
        end = lo if side == "above" else hi
        return head + (f": it would fall to inconclusive if a re-run's interval reached {q(boundary, f)} (its "
                       f"{'lower' if side == 'above' else 'upper'} end is {q(abs(end - boundary), f)} from it)")
    if f["verdict"] == "refuted":
        return head + ": only an interval out of that region would change it"
    # a t interval narrows as 1/√n; a sign test's or a shared test set's term does not, so no estimate there
    words = " ".join((f.get("tests") or {}).values()) or f.get("test", "")
    t_based = re.search(r"t-test|TOST", words) and "sampling" not in words
    need = seeds_to_clear(f, estimate) if t_based and estimate is not None else None
    more = (f"; at the observed mean and spread about {need} seeds would put the interval clear of "
            f"{q(boundary, f)} (a rough reading, not the protocol's power calculation)" if need else
            f"; the mean lies on the other side of {q(boundary, f)}, so more seeds at this mean would not clear it"
            if t_based else "")
    return head + f": the interval straddles {q(boundary, f)}" + more


def _tost(f: dict) -> str:
    m = f["margin"]
    return (f"an equivalence test (TOST): the boundaries are the margin ±{q(m, f)}, not 0. Equivalence is "
            + _state(f, f"inside ±{q(m, f)}", f"entirely beyond ±{q(m, f)}", m if f["effect"] >= 0 else -m,
                     "below" if f["effect"] >= 0 else "above", m - abs(f["effect"])))


def _noninferiority(f: dict) -> str:
    m = f["margin"]
    return (f"a non-inferiority test: the boundary is the margin −{q(m, f)} (not 0, and no TOST is involved: "
            f"an inferiority test, the interval entirely below −{q(m, f)}, is what refutes it). Non-inferiority is "
            + _state(f, f"above −{q(m, f)}", f"entirely below −{q(m, f)}", -m, "above", f["effect"] + m))


def _bar(f: dict, expect: str, bar: float) -> str:
    at = bar if _reads_value(f, expect, bar) else 0.0
    side = "above" if expect == UP else "below"
    reading = ("the effect reads as the value itself" if at else
               f"the effect reads as the distance from the bar, so {q(0.0, f)} is the bar")
    return (f"a test against the bar {fmt(bar)} (its null is the bar, not 0; {reading}). It is "
            + _state(f, f"entirely {side} {q(at, f)}", f"entirely {'below' if side == 'above' else 'above'} "
                     f"{q(at, f)}", at, side, (f["effect"] - at) * (1 if expect == UP else -1)))


def _difference(f: dict, expect: str) -> str:
    side, other = ("above", "below") if expect == UP else ("below", "above")
    est = f["effect"] * (1 if expect == UP else -1)
    if f.get("margin") is None:
        return "a plain one-sided difference: the boundary is 0 (no difference). It is " + _state(
            f, f"entirely {side} 0", f"entirely {other} 0", 0.0, side, est)
    m = f["margin"]
    return (f"a one-sided difference with a smallest effect of interest ±{q(m, f)}: it is shown only on the "
            f"expected side of 0 and not inside ±{q(m, f)}, and refuted by the opposite test or by a TOST that puts "
            f"it inside ±{q(m, f)}"
            + (f" (equivalence {fmt_p(f['p_tost'])} now)" if f.get("p_tost") is not None else "")
            + " — significant but negligible is refuted. It is "
            + _state(f, f"entirely {side} 0, reaching beyond ±{q(m, f)}", f"entirely {other} 0 or inside ±{q(m, f)}",
                     0.0, side, est))


def cp(k, n: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact Clopper–Pearson bounds of k successes in n (k may be an array), as dlps.verdicts.rate computes them."""
    cis = [stats.binomtest(int(j), n).proportion_ci(confidence_level=confidence, method="exact")
           for j in np.atleast_1d(k)]
    low, high = np.array([c.low for c in cis]), np.array([c.high for c in cis])
    return (low, high) if np.ndim(k) else (low[0], high[0])


def _rate(f: dict, rule: str, what: str) -> str:
    k, n, thr, conf = f.get("successes", round(f["effect"] * f["n"])), f["n"], f["threshold"], f.get("ci_level", 0.95)
    above = "entirely below" not in rule
    low, high = cp(np.arange(n + 1), n, conf)
    clears = np.flatnonzero(low > thr if above else high < thr)
    fails = np.flatnonzero(high < thr if above else low > thr)
    pct = lambda x: f"{fmt(100 * float(x))}%"
    text = (f"an exact rate: the boundary is the threshold {pct(thr)}, judged by the exact (Clopper–Pearson) "
            f"{level(f)} of {k}/{n} {what}, now [{pct(f['ci_low'])}, {pct(f['ci_high'])}]: **{f['verdict']}**. ")
    if not clears.size:
        j = n if above else 0
        return text + (f"With {n} {what} no outcome can show it: even {j}/{n} gives [{pct(low[j])}, "
                       f"{pct(high[j])}], which does not clear {pct(thr)}"
                       + (f"; it takes at least {f['n_needed']} {what} that all succeed" if f.get("n_needed") else ""))
    edge = (f"from {min(clears)}/{n}" if above else f"at or below {max(clears)}/{n}")
    flop = (f"; refuted {'at or below ' + str(max(fails)) if above else 'from ' + str(min(fails))}/{n}" if fails.size
            else "")
    return text + f"With {n} {what} it is shown {edge} {what} succeeding{flop}"


def mcnemar_floor(m: int) -> float:
    """The smallest one-sided p an exact McNemar (sign) test can give on m discordant units: all on one side."""
    return 0.5 ** m


def _mcnemar(f: dict, what: str) -> str:
    b, c = f["discordant"]
    m, alpha = b + c, f["alpha"]
    expect_b = m == 0 or math.isclose(f["p_expected"], stats.binomtest(b, m, 0.5, alternative="greater").pvalue)
    reach = np.flatnonzero(stats.binom.sf(np.arange(m + 1) - 1, m, 0.5) < alpha)  # P(X ≥ j) < α
    need = int(reach[0]) if reach.size else None
    text = (f"an exact McNemar test: only the {m} {what} where exactly one of the two succeeds count ({b} where "
            f"only the first does, {c} where only the second does); under no difference each is a coin flip. ")
    if need is None:
        least = seeds_needed(0.5, alpha)  # the fewest coin flips whose all-one-side p is below α
        return text + (f"The smallest p any split of {m} can give is 0.5^{m} = {fmt(mcnemar_floor(m))}, not below "
                       f"α = {fmt(alpha)}: no outcome of these {what} can be significant; it takes at least {least} "
                       f"discordant {what}")
    return text + (f"Shown needs at least {need} of the {m} on the expected side (now {b if expect_b else c}); "
                   f"**{f['verdict']}** now ({fmt_p(p_of(f))})")


def rule_of(text: str) -> dict:
    """A part's test and margin read from its rule's text (for parts whose record the all_of did not keep)."""
    margin = re.search(r"\| < (-?[\d.]+(?:e-?\d+)?)|−(-?[\d.]+(?:e-?\d+)?) at α", text)
    tests = (("McNemar", "exact McNemar"), ("Clopper", "exact binomial"), ("non-inferiority", "non-inferiority t-test"),
             ("TOST:", "TOST (paired t)"), ("lies inside [", "range"), ("sign test", "exact sign test"),
             ("t-test", "t-test"))
    out = {"test": next((t for key, t in tests if key in text), "")}
    if margin and out["test"] != "t-test" or margin and "smallest effect" in text:
        out["margin"] = float(next(g for g in margin.groups() if g))
    return out


def _range(f: dict, rule: str) -> str:
    lo, hi = (float(x) for x in re.search(r"inside \[(\S+), (\S+)\]", rule).groups())
    return (f"an interval against a range: the boundaries are its ends, {q(lo, f)} and {q(hi, f)}. It is shown "
            f"while the {level(f)} lies inside [{q(lo, f)}, {q(hi, f)}], refuted if it lies entirely outside; it is "
            f"{span(f)} now, so **{f['verdict']}**")


def kind(f: dict, rule: str) -> str:
    """The rule's kind in words, from the tests its record names (or, for a record without them, its `test`)."""
    tests = f.get("tests")
    if tests is None:
        return f.get("test", "")
    if not tests:
        return "deterministic check" if "tol" in f else ""
    if "p_beyond" in tests:
        return "TOST (paired t)"
    if "p_all_parts" in tests:
        return rule_of(rule)["test"]
    return tests.get("p_expected", "")


def single(f: dict, rule: str, what: str) -> str:
    """The answer for one rule's record (`rule`: its own text, e.g. one part of an intersection–union rule)."""
    test = kind(f, rule)
    if test == "deterministic check":
        return (f"a deterministic check: one {what[:-1] if what.endswith('s') else what} above the tolerance "
                f"{fmt(f.get('tol'))} would refute it; the worst is at {q(f['effect'], f)}")
    if f.get("effect") is None or f.get("ci_low") is None:
        return f"not decided: {rule}"
    if "threshold" in f:
        return _rate(f, rule, what)
    if "discordant" in f:
        return _mcnemar(f, what)
    if "McNemar" in test:
        return f"an exact McNemar test on the discordant {what} (its counts are in the finding's sentence)"
    if test == "range":
        return _range(f, rule)
    if test.startswith("non-inferiority"):
        return _noninferiority(f)
    if test.startswith("TOST"):
        return _tost(f)
    expect, bar = direction(rule)
    return _bar(f, expect, bar) if bar is not None else _difference(f, expect)


def holm(f: dict) -> str:
    if f.get("p_adjusted") is None:
        return f" Multiplicity: {f['family']}." if f.get("family") else ""
    raw = (f" (unadjusted the rule says {f['raw_verdict']}: it stays inconclusive until the adjusted p falls "
           f"below α)" if f.get("raw_verdict") else "")
    return (f" Multiplicity: {f['family']}, Holm-adjusted p = {fmt(f['p_adjusted'])} against α = "
            f"{fmt(f['alpha'])} (raw {fmt_p(p_of(f))}, {f['test']}){raw}.")


def flip(f: dict, what: str = "seeds") -> str:
    """What would change this finding's verdict: its rule's boundary, where the interval stands, what moves it."""
    parts = f.get("parts")
    if not parts:
        return "It is " + single(f, f["rule"], what) + "." + holm(f)
    refuted = [k for k, p in parts.items() if p["verdict"] == "refuted"]
    key = refuted[0] if f["verdict"] == "refuted" and refuted else max(
        parts, key=lambda k: -1 if p_of(parts[k]) is None else p_of(parts[k]))
    part = {**{k: v for k, v in f.items() if k not in ("parts", "tests", "test", "decided_by")
               and not k.startswith("p_")}, **parts[key]}
    own = rule_of(segment(f["rule"], key, parts))
    if key != f.get("effect_part") or any(f.get(k) != parts[key].get(k) for k in ("effect", "ci_low", "ci_high")):
        # the record's own fields belong to another part (or were re-read by the judge): keep only the part's rule
        for k in ("successes", "n_needed", "discordant", "margin"):
            part.pop(k, None)
        part |= {k: v for k, v in own.items() if k == "margin" or "tests" not in part}
    shown = sum(p["verdict"] == "shown" for p in parts.values())
    return (f"All {len(parts)} parts must be shown (intersection–union: no correction inside it), and {shown} "
            f"{'is' if shown == 1 else 'are'}; "
            f"the weakest, *{key}*, decides. It is {single(part, segment(f['rule'], key, parts), what)}." + holm(f))
