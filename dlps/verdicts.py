"""Findings decided by rules fixed before the data are seen: a test at α, an equivalence or non-inferiority test
against a margin, an exact interval for a rate, or a deterministic check. Three verdicts: shown, refuted,
inconclusive. Every rule returns the same record shape, so metrics/<experiment>.json stores them all alike.

Tests are one-sided at α and every interval is the two-sided 1 − 2α interval (95% at the study's α = 0.025), so a
test and its interval always say the same thing: the effect is shown on the expected side exactly when the interval
lies on that side. `holm` adjusts the primary findings of one experiment for multiplicity."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

SHOWN, REFUTED, INCONCLUSIVE = "shown", "refuted", "inconclusive"
VERDICTS = (SHOWN, REFUTED, INCONCLUSIVE)
CLAIM_VERDICTS = ("holds", "does not hold", "inconclusive", "not testable as stated")
CLAIM_OF = {SHOWN: "holds", REFUTED: "does not hold", INCONCLUSIVE: "inconclusive"}
CONFIDENCE = 0.95  # the level of intervals that belong to no test (deterministic checks, summaries)


def level(alpha: float) -> float:
    """The two-sided interval level that matches a one-sided test at α: 1 − 2α."""
    return 1 - 2 * alpha


def ci_label(result: dict) -> str:
    """A result's interval level as the findings' sentences print it: "95%" at α = 0.025, "90%" at α = 0.05."""
    return f"{100 * result['ci_level']:.4g}%"


def p_of(result: dict) -> float | None:
    """The p of the test that decided the verdict (None for a deterministic check)."""
    return result[result["decided_by"]] if result.get("decided_by") else None


def p_keys(result: dict) -> list[str]:
    """The record's p-value keys, each the p of one named test (`tests` says which)."""
    return [k for k in result.get("tests", {}) if result.get(k) is not None]


def _record(rule: str, verdict: str, *, alpha: float | None, effect: float, low: float, high: float, n: int,
            decided_by: str | None, tests: dict[str, str], ps: dict[str, float | None], **extra) -> dict:
    """The shape every rule returns: each test's p under its own key, `tests` naming each key's test in words,
    `decided_by` the key whose test decided the verdict and `test` that test's words; the interval is the one
    matched to the test, at `ci_level` (1 − 2α)."""
    assert verdict in VERDICTS
    return {"verdict": verdict, "rule": rule, "alpha": alpha, "decided_by": decided_by,
            "test": tests[decided_by] if decided_by else tests.get(None, "deterministic check"),
            "effect": _num(effect), "ci_low": _num(low), "ci_high": _num(high),
            "ci_level": CONFIDENCE if alpha is None else level(alpha), "n": int(n),
            **{k: None if v is None else _num(v) for k, v in ps.items()},
            "tests": {k: t for k, t in tests.items() if k is not None}, **extra}


def _num(x: float) -> float:
    """JSON has no infinity or NaN: clip infinities, keep NaN out (None)."""
    x = float(x)
    return None if math.isnan(x) else float(np.clip(x, -1e300, 1e300))


def _se(d: np.ndarray, extra_var: float = 0.0) -> float:
    """Standard error of mean(d): the spread over its values, plus a variance component they cannot show (e.g. the
    sampling of a test set every value shares), added in full (conservative)."""
    return math.sqrt(d.var(ddof=1) / d.size + extra_var)


def welch_df(s2, n: int, extra_var: float = 0.0, extra_df: float | None = None) -> np.ndarray:
    """Degrees of freedom of mean/SE with SE² = s²/n + extra_var (s² may be an array): n − 1 without `extra_df`,
    else Welch–Satterthwaite with extra_var estimated on extra_df degrees of freedom (e.g. test reviews − 1):
    SE⁴ / ((s²/n)²/(n − 1) + extra_var²/extra_df)."""
    s2 = np.asarray(s2, dtype=float)
    if extra_df is None:
        return np.full(s2.shape, n - 1.0)
    a = s2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + extra_var) ** 2 / (a * a / (n - 1) + extra_var ** 2 / extra_df)
    return np.where(np.isfinite(df), df, n - 1.0)


def t_df(d: np.ndarray, extra_var: float = 0.0, extra_df: float | None = None) -> float:
    """Degrees of freedom of mean(d)/SE (welch_df of d's own spread)."""
    if d.size < 2:
        return float(d.size - 1)
    return float(welch_df(d.var(ddof=1), d.size, extra_var, extra_df))


def _t_interval(d: np.ndarray, confidence: float = CONFIDENCE, extra_var: float = 0.0,
                df: float | None = None) -> tuple[float, float]:
    """The Student-t interval of the mean of d (the point when n = 1 or the spread is zero); df n − 1 unless given."""
    mean = float(d.mean())
    if d.size < 2 or (np.all(d == d[0]) and extra_var == 0):
        return mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, d.size - 1 if df is None else df) * _se(d, extra_var))
    return mean - half, mean + half


def _one_sided_t(d: np.ndarray, null: float, alternative: str, extra_var: float = 0.0,
                 df: float | None = None) -> float:
    """p of a one-sample t-test of mean(d) against `null` (df n − 1 unless given); exact 0/1 when every value is the
    same."""
    if d.size < 2:
        return 1.0
    if np.all(d == d[0]) and extra_var == 0:
        beyond = d[0] > null if alternative == "greater" else d[0] < null
        return 0.0 if beyond else 1.0
    if extra_var == 0:
        return float(stats.ttest_1samp(d, null, alternative=alternative).pvalue)
    t, df = (float(d.mean()) - null) / _se(d, extra_var), d.size - 1 if df is None else df
    return float(stats.t.sf(t, df) if alternative == "greater" else stats.t.cdf(t, df))


def _median_interval(d: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """A distribution-free interval for the median from order statistics (binomial), and its exact coverage: the
    inversion of the sign test, so the two agree."""
    x = np.sort(d)
    n = x.size
    k = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))  # largest k with P(B <= k) small, then widen if needed
    while k > 0 and 1 - 2 * stats.binom.cdf(k - 1, n, 0.5) < confidence:
        k -= 1
    k = max(k, 1)
    coverage = 1 - 2 * stats.binom.cdf(k - 1, n, 0.5)
    return float(x[k - 1]), float(x[n - k]), float(coverage)


def difference(a, b=None, *, expect: str, alpha: float, test: str = "t", margin: float | None = None,
               what: str = "a − b", extra_var: float = 0.0, extra_df: float | None = None) -> dict:
    """Is a − b (paired by seed; b omitted or a constant: one sample against it) on the expected side of 0?

    shown: the one-sided test in the expected direction (`expect` "greater" or "less"; p_expected) has p < α and,
    with a `margin` (the smallest effect of interest), the paired TOST (p_tost) does not show |a − b| < margin.
    refuted: the opposite one-sided test (p_opposite) has p < α, or the TOST shows |a − b| < margin at α (an effect
    too small to matter, even a significant one). Otherwise inconclusive. test "t" (paired Student t; effect = mean
    and its 1 − 2α t interval; `extra_var` adds a variance component the values share, e.g. the sampling of one
    test set; with `extra_df`, that variance's estimate's degrees of freedom, the test's df is Welch–Satterthwaite's
    and recorded as `df`), "wilcoxon" (signed-rank; effect = median) or "sign" (exact binomial sign test; effect =
    median; its order-statistic interval is the sign test inverted) for heavy-tailed metrics."""
    a = np.asarray(a, dtype=float)
    b = np.zeros_like(a) if b is None else np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    d = a - b
    opposite = "less" if expect == "greater" else "greater"
    extra = {}
    if test == "t":
        df = t_df(d, extra_var, extra_df)
        p, p_opp = _one_sided_t(d, 0.0, expect, extra_var, df), _one_sided_t(d, 0.0, opposite, extra_var, df)
        effect, (low, high) = float(d.mean()), _t_interval(d, level(alpha), extra_var, df)
        name = "paired t-test" if b.any() else "one-sample t-test"
        if extra_var:
            name += " (seed spread plus shared test-set sampling" + (
                ", Welch–Satterthwaite df)" if extra_df is not None else ")")
        extra["df"] = _num(df)
    elif test in ("wilcoxon", "sign"):
        p, p_opp = (_rank_p(d, expect, test), _rank_p(d, opposite, test))
        effect = float(np.median(d))
        low, high, cover = _median_interval(d, level(alpha)) if d.size >= 2 else (effect, effect, 0.0)
        name = "Wilcoxon signed-rank test" if test == "wilcoxon" else "exact sign test"
        if test == "sign":  # a discrete interval: its level is its exact coverage (97.85% at n = 10), not 1 − 2α
            extra = {**extra, "ci_level": cover}
    else:
        raise ValueError(f"unknown test {test!r}")
    tost = (equivalence(d, margin=margin, alpha=alpha, extra_var=extra_var, extra_df=extra_df)
            if margin is not None and test == "t" else None)
    # an effect shown inside ±margin is too small to matter, even where it is significantly above 0: refuted
    negligible = bool(tost and tost["verdict"] == SHOWN)
    verdict = REFUTED if negligible else SHOWN if p < alpha else REFUTED if p_opp < alpha else INCONCLUSIVE
    sign = ">" if expect == "greater" else "<"
    rule = (f"one-sided {name} of {what} {sign} 0 at α = {alpha:g}; refuted if the opposite one-sided test is "
            "significant" + (f" or a paired TOST shows |{what}| < {margin:g} (the smallest effect of interest), even "
                             "if it is significant" if tost else ""))
    tests = {"p_expected": f"one-sided {name} ({sign} 0)",
             "p_opposite": f"one-sided {name}, opposite direction ({'<' if sign == '>' else '>'} 0)"}
    ps = {"p_expected": p, "p_opposite": p_opp}
    if tost:
        tests["p_tost"], ps["p_tost"] = f"paired TOST within ±{margin:g}", tost["p_tost"]
    decided_by = "p_tost" if negligible else "p_opposite" if verdict == REFUTED else "p_expected"
    return _record(rule, verdict, alpha=alpha, effect=effect, low=low, high=high, n=d.size, decided_by=decided_by,
                   tests=tests, ps=ps, **({"margin": margin} if tost else {}), **extra)


def _rank_p(d: np.ndarray, alternative: str, test: str) -> float:
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    if test == "sign":
        k = int(np.sum(nonzero > 0)) if alternative == "greater" else int(np.sum(nonzero < 0))
        return float(stats.binomtest(k, nonzero.size, 0.5, alternative="greater").pvalue)
    return float(stats.wilcoxon(d, alternative=alternative).pvalue)


def equivalence(a, b=None, *, margin: float, alpha: float, what: str = "a − b", extra_var: float = 0.0,
                extra_df: float | None = None) -> dict:
    """Two one-sided t-tests (TOST): shown if −margin < mean(a − b) < margin at α (p_tost, the larger of the two;
    the 1 − 2α interval lies inside ±margin); refuted if the difference lies significantly outside the margin
    (p_beyond: the interval entirely beyond ±margin); otherwise inconclusive. Not significant is never taken for
    equivalent."""
    a = np.asarray(a, dtype=float)
    d = a - (0.0 if b is None else np.asarray(b, dtype=float))
    df = t_df(d, extra_var, extra_df)
    p_low, p_high = _one_sided_t(d, -margin, "greater", extra_var, df), _one_sided_t(d, margin, "less", extra_var, df)
    p = max(p_low, p_high)
    outside = min(_one_sided_t(d, -margin, "less", extra_var, df), _one_sided_t(d, margin, "greater", extra_var, df))
    verdict = SHOWN if p < alpha else REFUTED if outside < alpha else INCONCLUSIVE
    low, high = _t_interval(d, level(alpha), extra_var, df)
    rule = (f"paired TOST: |{what}| < {margin:g} at α = {alpha:g} (two one-sided t-tests); refuted if the "
            f"difference is significantly beyond ±{margin:g}")
    tests = {"p_tost": f"TOST (paired t) within ±{margin:g}", "p_beyond": f"one-sided t-test beyond ±{margin:g}"}
    return _record(rule, verdict, alpha=alpha, effect=float(d.mean()), low=low, high=high, n=d.size,
                   decided_by="p_beyond" if verdict == REFUTED else "p_tost", tests=tests,
                   ps={"p_tost": p, "p_beyond": outside}, margin=margin, df=_num(df))


def noninferiority(a, b=None, *, margin: float, alpha: float, what: str = "a − b") -> dict:
    """The lower half of a TOST: shown if mean(a − b) > −margin at α (a is not worse than b by the margin);
    refuted if mean(a − b) < −margin at α (inferiority shown); otherwise inconclusive."""
    a = np.asarray(a, dtype=float)
    d = a - (0.0 if b is None else np.asarray(b, dtype=float))
    p, p_worse = _one_sided_t(d, -margin, "greater"), _one_sided_t(d, -margin, "less")
    verdict = SHOWN if p < alpha else REFUTED if p_worse < alpha else INCONCLUSIVE
    low, high = _t_interval(d, level(alpha))
    rule = (f"one-sided t-test of {what} > −{margin:g} at α = {alpha:g} (non-inferiority, the lower half of a TOST); "
            f"refuted if {what} < −{margin:g} is significant")
    tests = {"p_expected": f"non-inferiority t-test (> −{margin:g})",
             "p_opposite": f"one-sided t-test of inferiority (< −{margin:g})"}
    return _record(rule, verdict, alpha=alpha, effect=float(d.mean()), low=low, high=high, n=d.size,
                   decided_by="p_opposite" if verdict == REFUTED else "p_expected", tests=tests,
                   ps={"p_expected": p, "p_opposite": p_worse}, margin=margin)


def rate(successes, *, threshold: float, alpha: float, expect: str = "above") -> dict:
    """A success rate against a threshold by its exact (Clopper–Pearson) 1 − 2α interval: shown if the interval
    lies entirely on the expected side (the one-sided exact binomial test at α), refuted if entirely on the other,
    otherwise inconclusive. Records the number of seeds that an all-success (or all-failure) run would need to clear
    the threshold."""
    x = np.asarray(successes, dtype=bool)
    k, n = int(x.sum()), int(x.size)
    res = stats.binomtest(k, n, threshold, alternative="greater" if expect == "above" else "less")
    opp = stats.binomtest(k, n, threshold, alternative="less" if expect == "above" else "greater")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level(alpha), method="exact")  # two-sided
    above, below = ci.low > threshold, ci.high < threshold
    verdict = (SHOWN if (above if expect == "above" else below) else
               REFUTED if (below if expect == "above" else above) else INCONCLUSIVE)
    other = "below" if expect == "above" else "above"
    rule = (f"exact Clopper–Pearson {100 * level(alpha):g}% interval of the success rate entirely "
            f"{expect} {threshold:g} (the one-sided exact binomial test at α = {alpha:g}); refuted if entirely on "
            "the other side")
    tests = {"p_expected": f"one-sided exact binomial test ({expect} {threshold:g})",
             "p_opposite": f"one-sided exact binomial test ({other} {threshold:g})"}
    return _record(rule, verdict, alpha=alpha, effect=k / n, low=ci.low, high=ci.high, n=n,
                   decided_by="p_opposite" if verdict == REFUTED else "p_expected", tests=tests,
                   ps={"p_expected": res.pvalue, "p_opposite": opp.pvalue}, successes=k, threshold=threshold,
                   n_needed=seeds_needed(threshold, alpha, expect))


def seeds_needed(threshold: float, alpha: float, expect: str = "above") -> int:
    """The fewest seeds whose all-success (expect above) or all-failure (below) run has its exact two-sided
    1 − 2α interval clear the threshold (target^n < α)."""
    target = threshold if expect == "above" else 1 - threshold
    return int(math.floor(math.log(alpha) / math.log(target))) + 1 if 0 < target < 1 else 1


def rates_paired(a_success, b_success, *, alpha: float, expect: str = "greater", what: str = "a vs b") -> dict:
    """Two success rates on the same seeds by the exact McNemar test (a binomial test on the discordant seeds):
    shown if a succeeds where b fails significantly more often than the reverse (one-sided, at α), refuted if
    the reverse is significant, otherwise inconclusive. Effect: rate(a) − rate(b) with a Newcombe-free bound
    from the discordant counts' exact 1 − 2α interval."""
    a, b = np.asarray(a_success, dtype=bool), np.asarray(b_success, dtype=bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    m = only_a + only_b
    first, second = (only_a, only_b) if expect == "greater" else (only_b, only_a)
    p = float(stats.binomtest(first, m, 0.5, alternative="greater").pvalue) if m else 1.0
    p_opp = float(stats.binomtest(second, m, 0.5, alternative="greater").pvalue) if m else 1.0
    n = int(a.size)
    if m:  # exact interval of the share of discordant seeds won by a, mapped to a difference in rates
        ci = stats.binomtest(only_a, m, 0.5).proportion_ci(confidence_level=level(alpha), method="exact")
        low, high = m / n * (2 * ci.low - 1), m / n * (2 * ci.high - 1)
    else:
        low = high = 0.0
    verdict = SHOWN if p < alpha else REFUTED if p_opp < alpha else INCONCLUSIVE
    rule = (f"exact McNemar test (one-sided binomial on the seeds where exactly one succeeds) of {what} at "
            f"α = {alpha:g}; refuted if the opposite direction is significant")
    tests = {"p_expected": "one-sided exact McNemar test", "p_opposite": "one-sided exact McNemar test, opposite "
                                                                         "direction"}
    return _record(rule, verdict, alpha=alpha, effect=(a.sum() - b.sum()) / n, low=low, high=high, n=n,
                   decided_by="p_opposite" if verdict == REFUTED else "p_expected", tests=tests,
                   ps={"p_expected": p, "p_opposite": p_opp}, discordant=[only_a, only_b])


def check(values, *, tol: float, what: str = "value") -> dict:
    """A deterministic numerical check (no sampling involved): shown if every seed's value is at most tol,
    refuted otherwise. The interval is the range over seeds."""
    x = np.asarray(values, dtype=float)
    verdict = SHOWN if np.all(x <= tol) else REFUTED
    return _record(f"deterministic check: {what} <= {tol:g} in every seed", verdict, alpha=None,
                   effect=float(x.max()), low=float(x.min()), high=float(x.max()), n=x.size, decided_by=None,
                   tests={}, ps={}, tol=tol)


def not_run(rule: str, alpha: float | None) -> dict:
    """An inconclusive record for a rule that could not be applied (a variant or field missing)."""
    return {"verdict": INCONCLUSIVE, "rule": rule, "alpha": alpha, "decided_by": None, "test": "not run",
            "effect": None, "ci_low": None, "ci_high": None, "ci_level": None, "n": 0, "tests": {}}


PART_KEYS = ("verdict", "effect", "ci_low", "ci_high", "decided_by", "n")


def all_of(parts: dict[str, dict], rule: str | None = None, effect_of: str | None = None) -> dict:
    """An intersection–union rule: shown if every part is shown, refuted if any part is refuted, otherwise
    inconclusive. Each part is tested at its own α (no correction is needed for an intersection–union test).
    The record's effect and interval are those of the part `effect_part` names (`effect_of`, else the part
    closest to failing: the largest deciding p). p_all_parts is the intersection–union p (the largest part's);
    p_refuting_part the smallest deciding p of a refuted part; the verdict's side picks which decided."""
    verdicts = [p["verdict"] for p in parts.values()]
    verdict = SHOWN if all(v == SHOWN for v in verdicts) else REFUTED if REFUTED in verdicts else INCONCLUSIVE
    pmax = {k: -1 if p_of(p) is None else p_of(p) for k, p in parts.items()}
    shown_by = effect_of or max(parts, key=lambda k: pmax[k])
    worst = parts[shown_by]
    ps = [p_of(p) for p in parts.values() if p_of(p) is not None]
    refuting = [p_of(p) for p in parts.values() if p_of(p) is not None and p["verdict"] == REFUTED]
    kinds = sorted({p.get("test") for p in parts.values() if p_of(p) is not None} - {None})
    each = f", each a {kinds[0]}" if len(kinds) == 1 else ""
    tests = {"p_all_parts": f"intersection–union (the largest p of its parts{each})"} if ps else {}
    if refuting:
        tests["p_refuting_part"] = f"the smallest p of a refuted part{each}"
    decided_by = ("p_refuting_part" if verdict == REFUTED else "p_all_parts") if ps and (
        verdict != REFUTED or refuting) else None
    text = rule or "every part shown (intersection–union); refuted if any part is refuted"
    inherited = {k: v for k, v in worst.items() if k not in ("rule", "decided_by", "test", "tests", "parts")
                 and not k.startswith("p_") and k != "verdict"}
    return {**inherited, "verdict": verdict, "rule": text + ": " + "; ".join(f"{k}: {p['rule']}"
                                                                             for k, p in parts.items()),
            "decided_by": decided_by, "test": tests[decided_by] if decided_by else "deterministic check",
            **({"p_all_parts": max(ps)} if ps else {}), **({"p_refuting_part": min(refuting)} if refuting else {}),
            "tests": tests, "effect_part": shown_by,
            "parts": {k: {**{key: p.get(key) for key in PART_KEYS}, **{key: p[key] for key in p_keys(p)},
                          "tests": p.get("tests", {})} for k, p in parts.items()}}


def within(x, lo: float, hi: float, alpha: float, what: str) -> dict:
    """Is the mean of x inside [lo, hi]? Shown if its 1 − 2α t interval lies inside (two one-sided t-tests at α
    each: an intersection–union test needs no split of α), refuted if the interval lies entirely outside,
    otherwise inconclusive. The record's effect and interval are those of x itself."""
    x = np.asarray(x, dtype=float)
    parts = {f"above {lo:g}": difference(x - lo, expect="greater", alpha=alpha, what=f"{what} − {lo:g}"),
             f"below {hi:g}": difference(x - hi, expect="less", alpha=alpha, what=f"{what} − {hi:g}")}
    rec = all_of(parts, f"the {100 * level(alpha):g}% t interval of {what} lies inside [{lo:g}, {hi:g}]; refuted "
                        "if it lies entirely outside")
    own = difference(x, expect="greater", alpha=alpha, what=what)
    return rec | {k: own[k] for k in ("effect", "ci_low", "ci_high", "n")} | {"effect_part": None}


def shifted(result: dict, by: float) -> dict:
    """The record with its effect and interval moved by `by` (a test of x − bar read back as x)."""
    return result | {k: result[k] + by for k in ("effect", "ci_low", "ci_high")}


def finding(fid: str, claim: str, result: dict, text: str, *, primary: bool = False, check: bool = False,
            scale: float = 1.0, unit: str = "", compared: dict | None = None, **says: str) -> dict:
    """A finding: its id, its role (primary: answers the experiment's question, in its Holm family; check: a code or
    algebra check the question rests on, never primary, outside the family; else secondary), the claim, the rule's
    record, the variants compared (role → value) and a sentence: `text` (from the record's numbers) followed by what
    the verdict says (`says`, keyed by verdict; a missing one is left out). `scale`/`unit` say how effect and
    interval read (e.g. 100, 'pp')."""
    assert not (primary and check), f"{fid}: a check is never a primary"
    said = says.get(result["verdict"])
    role = "primary" if primary else "check" if check else "secondary"
    return {"id": fid, "primary": primary, "role": role, "claim": claim, **result, "scale": scale, "unit": unit,
            **({"compared": compared} if compared else {}), "text": text + (f" {said}" if said else "")}


def claim_verdict(f: dict) -> str:
    """A finding's verdict read as a claim's: holds, does not hold, inconclusive (or the finding's own
    'not testable as stated')."""
    return f.get("claim_verdict") or CLAIM_OF[f["verdict"]]


def holm(findings: list[dict], family: str) -> list[dict]:
    """Holm's step-down adjustment of the deciding p (`decided_by`) over the primary findings that have one (the
    family: one experiment's primary questions), in place. Each gets p_adjusted and family; a shown or refuted
    verdict whose adjusted p is not below its α becomes inconclusive (raw_verdict keeps what the unadjusted rule
    said, and the sentence says so). Deterministic checks have no p and no sampling error: they are left out of
    the family (p_adjusted None)."""
    fam = [f for f in findings if f["primary"] and p_of(f) is not None and f.get("alpha") is not None]
    for f in findings:
        if f["primary"] and f not in fam:
            f["p_adjusted"], f["family"] = None, f"{family} (no p-value: outside the family)"
    m, running = len(fam), 0.0
    for rank, f in enumerate(sorted(fam, key=p_of)):
        running = max(running, min(1.0, (m - rank) * p_of(f)))
        f["p_adjusted"], f["family"] = running, f"{family}: Holm over its {m} primary findings"
        if f["verdict"] != INCONCLUSIVE and running >= f["alpha"]:
            f["raw_verdict"], f["verdict"] = f["verdict"], INCONCLUSIVE
            f["text"] += (f" Multiplicity: the Holm-adjusted p over this experiment's {m} primary findings is "
                          f"{running:.2g}, not below α = {f['alpha']:g}, so the verdict is inconclusive (unadjusted: "
                          f"{f['raw_verdict']}).")
    return findings
