"""Findings decided by rules fixed before the data are seen: a test at α, an equivalence or non-inferiority test
against a margin, an exact interval for a rate, or a deterministic check. Three verdicts: shown, refuted,
inconclusive. Every rule returns the same record shape, so metrics/<experiment>.json stores them all alike."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

SHOWN, REFUTED, INCONCLUSIVE = "shown", "refuted", "inconclusive"
VERDICTS = (SHOWN, REFUTED, INCONCLUSIVE)
CLAIM_VERDICTS = ("holds", "does not hold", "inconclusive", "not testable as stated")
CLAIM_OF = {SHOWN: "holds", REFUTED: "does not hold", INCONCLUSIVE: "inconclusive"}
CONFIDENCE = 0.95


def _record(rule: str, verdict: str, *, alpha: float | None, effect: float, low: float, high: float, n: int,
            p_value: float | None, **extra) -> dict:
    assert verdict in VERDICTS
    return {"verdict": verdict, "rule": rule, "alpha": alpha, "effect": _num(effect), "ci95_low": _num(low),
            "ci95_high": _num(high), "n": int(n), "p_value": None if p_value is None else _num(p_value), **extra}


def _num(x: float) -> float:
    """JSON has no infinity or NaN: clip infinities, keep NaN out (None)."""
    x = float(x)
    return None if math.isnan(x) else float(np.clip(x, -1e300, 1e300))


def _t_interval(d: np.ndarray) -> tuple[float, float]:
    """The 95% Student-t interval of the mean of d (the point when n = 1 or the spread is zero)."""
    mean = float(d.mean())
    if d.size < 2 or np.all(d == d[0]):
        return mean, mean
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return mean - half, mean + half


def _one_sided_t(d: np.ndarray, null: float, alternative: str) -> float:
    """p of a one-sample t-test of mean(d) against `null` (scipy); exact 0/1 when every value is the same."""
    if d.size < 2:
        return 1.0
    if np.all(d == d[0]):
        beyond = d[0] > null if alternative == "greater" else d[0] < null
        return 0.0 if beyond else 1.0
    return float(stats.ttest_1samp(d, null, alternative=alternative).pvalue)


def _median_interval(d: np.ndarray) -> tuple[float, float, float]:
    """A distribution-free interval for the median from order statistics (binomial), and its exact coverage."""
    x = np.sort(d)
    n = x.size
    k = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))  # largest k with P(B <= k) small, then widen if needed
    while k > 0 and 1 - 2 * stats.binom.cdf(k - 1, n, 0.5) < CONFIDENCE:
        k -= 1
    k = max(k, 1)
    coverage = 1 - 2 * stats.binom.cdf(k - 1, n, 0.5)
    return float(x[k - 1]), float(x[n - k]), float(coverage)


def difference(a, b=None, *, expect: str, alpha: float, test: str = "t", margin: float | None = None,
               what: str = "a − b") -> dict:
    """Is a − b (paired by seed; b omitted or a constant: one sample against it) on the expected side of 0?

    shown: the one-sided test in the expected direction (`expect` "greater" or "less") has p < α. refuted: the
    opposite one-sided test has p < α, or, with a `margin`, the paired TOST shows |a − b| < margin at α (an
    effect ruled out). Otherwise inconclusive. test "t" (paired Student t; effect = mean and its t interval),
    "wilcoxon" (signed-rank; effect = median with an order-statistic interval) or "sign" (exact binomial sign
    test on the paired differences; effect = median) for heavy-tailed metrics whose mean means little.
    The record's p_value is the p of the test that decided (p_expected, p_opposite and tost_p_value are all kept).
    """
    a = np.asarray(a, dtype=float)
    b = np.zeros_like(a) if b is None else np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    d = a - b
    opposite = "less" if expect == "greater" else "greater"
    if test == "t":
        p, p_opp = _one_sided_t(d, 0.0, expect), _one_sided_t(d, 0.0, opposite)
        effect, (low, high) = float(d.mean()), _t_interval(d)
        name = "paired t-test" if b.any() else "one-sample t-test"
    elif test in ("wilcoxon", "sign"):
        p, p_opp = (_rank_p(d, expect, test), _rank_p(d, opposite, test))
        effect = float(np.median(d))
        low, high, _ = _median_interval(d) if d.size >= 2 else (effect, effect, 0.0)
        name = "Wilcoxon signed-rank test" if test == "wilcoxon" else "exact sign test"
    else:
        raise ValueError(f"unknown test {test!r}")
    tost = equivalence(d, margin=margin, alpha=alpha) if margin is not None and test == "t" else None
    verdict = SHOWN if p < alpha else REFUTED if p_opp < alpha or (tost and tost["verdict"] == SHOWN) \
        else INCONCLUSIVE
    rule = (f"one-sided {name} of {what} {'>' if expect == 'greater' else '<'} 0 at α = {alpha:g}; refuted if the "
            f"opposite one-sided test is significant" + (f" or a paired TOST shows |{what}| < {margin:g}"
                                                          if tost else ""))
    # p_value is the deciding test's: the expected direction's unless the verdict is refuted, then the refuting one
    deciding = p if verdict != REFUTED else p_opp if p_opp < alpha else tost["p_value"]
    return _record(rule, verdict, alpha=alpha, effect=effect, low=low, high=high, n=d.size, p_value=deciding,
                   test=name, p_expected=_num(p), p_opposite=_num(p_opp),
                   **({"tost_p_value": tost["p_value"]} if tost else {}))


def _rank_p(d: np.ndarray, alternative: str, test: str) -> float:
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    if test == "sign":
        k = int(np.sum(nonzero > 0)) if alternative == "greater" else int(np.sum(nonzero < 0))
        return float(stats.binomtest(k, nonzero.size, 0.5, alternative="greater").pvalue)
    return float(stats.wilcoxon(d, alternative=alternative).pvalue)


def equivalence(a, b=None, *, margin: float, alpha: float, what: str = "a − b") -> dict:
    """Two one-sided t-tests (TOST): shown if −margin < mean(a − b) < margin at α (equivalence shown); refuted if
    the difference lies significantly outside the margin (the 1 − 2α interval entirely beyond ±margin);
    otherwise inconclusive. Not significant is never taken for equivalent."""
    a = np.asarray(a, dtype=float)
    d = a - (0.0 if b is None else np.asarray(b, dtype=float))
    p_low, p_high = _one_sided_t(d, -margin, "greater"), _one_sided_t(d, margin, "less")
    p = max(p_low, p_high)
    outside = min(_one_sided_t(d, -margin, "less"), _one_sided_t(d, margin, "greater"))
    verdict = SHOWN if p < alpha else REFUTED if outside < alpha else INCONCLUSIVE
    low, high = _t_interval(d)
    rule = (f"paired TOST: |{what}| < {margin:g} at α = {alpha:g} (two one-sided t-tests); refuted if the "
            f"difference is significantly beyond ±{margin:g}")
    return _record(rule, verdict, alpha=alpha, effect=float(d.mean()), low=low, high=high, n=d.size,
                   p_value=outside if verdict == REFUTED else p, test="TOST (paired t)", margin=margin,
                   p_expected=_num(p), p_opposite=_num(outside))


def noninferiority(a, b=None, *, margin: float, alpha: float, what: str = "a − b") -> dict:
    """The lower half of a TOST: shown if mean(a − b) > −margin at α (a is not worse than b by the margin);
    refuted if mean(a − b) < −margin at α; otherwise inconclusive."""
    a = np.asarray(a, dtype=float)
    d = a - (0.0 if b is None else np.asarray(b, dtype=float))
    p, p_worse = _one_sided_t(d, -margin, "greater"), _one_sided_t(d, -margin, "less")
    verdict = SHOWN if p < alpha else REFUTED if p_worse < alpha else INCONCLUSIVE
    low, high = _t_interval(d)
    rule = (f"one-sided t-test of {what} > −{margin:g} at α = {alpha:g} (non-inferiority, the lower half of a TOST); "
            f"refuted if {what} < −{margin:g} is significant")
    return _record(rule, verdict, alpha=alpha, effect=float(d.mean()), low=low, high=high, n=d.size,
                   p_value=p_worse if verdict == REFUTED else p, test="non-inferiority t-test", margin=margin,
                   p_expected=_num(p), p_opposite=_num(p_worse))


def rate(successes, *, threshold: float, alpha: float, expect: str = "above") -> dict:
    """A success rate against a threshold by its exact (Clopper–Pearson) 1 − α interval: shown if the interval
    lies entirely on the expected side, refuted if entirely on the other, otherwise inconclusive. Records the
    number of seeds that an all-success (or all-failure) run would need to clear the threshold."""
    x = np.asarray(successes, dtype=bool)
    k, n = int(x.sum()), int(x.size)
    res = stats.binomtest(k, n, threshold, alternative="greater" if expect == "above" else "less")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="exact")  # two-sided
    above, below = ci.low > threshold, ci.high < threshold
    verdict = (SHOWN if (above if expect == "above" else below) else
               REFUTED if (below if expect == "above" else above) else INCONCLUSIVE)
    rule = (f"exact Clopper–Pearson {100 * (1 - alpha):g}% interval of the success rate entirely "
            f"{'above' if expect == 'above' else 'below'} {threshold:g}; refuted if entirely on the other side")
    return _record(rule, verdict, alpha=alpha, effect=k / n, low=ci.low, high=ci.high, n=n,
                   p_value=float(res.pvalue), test="exact binomial", successes=k, threshold=threshold,
                   n_needed=seeds_needed(threshold, alpha, expect))


def seeds_needed(threshold: float, alpha: float, expect: str = "above") -> int:
    """The fewest seeds whose all-success (expect above) or all-failure (below) run has its exact two-sided
    1 − α interval clear the threshold."""
    target = threshold if expect == "above" else 1 - threshold
    return int(math.floor(math.log(alpha / 2) / math.log(target))) + 1 if 0 < target < 1 else 1


def rates_paired(a_success, b_success, *, alpha: float, expect: str = "greater", what: str = "a vs b") -> dict:
    """Two success rates on the same seeds by the exact McNemar test (a binomial test on the discordant seeds):
    shown if a succeeds where b fails significantly more often than the reverse (one-sided, at α), refuted if
    the reverse is significant, otherwise inconclusive. Effect: rate(a) − rate(b) with a Newcombe-free bound
    from the discordant counts' exact interval."""
    a, b = np.asarray(a_success, dtype=bool), np.asarray(b_success, dtype=bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    m = only_a + only_b
    first, second = (only_a, only_b) if expect == "greater" else (only_b, only_a)
    p = float(stats.binomtest(first, m, 0.5, alternative="greater").pvalue) if m else 1.0
    p_opp = float(stats.binomtest(second, m, 0.5, alternative="greater").pvalue) if m else 1.0
    n = int(a.size)
    if m:  # exact interval of the share of discordant seeds won by a, mapped to a difference in rates
        ci = stats.binomtest(only_a, m, 0.5).proportion_ci(confidence_level=CONFIDENCE, method="exact")
        low, high = m / n * (2 * ci.low - 1), m / n * (2 * ci.high - 1)
    else:
        low = high = 0.0
    verdict = SHOWN if p < alpha else REFUTED if p_opp < alpha else INCONCLUSIVE
    rule = (f"exact McNemar test (one-sided binomial on the seeds where exactly one succeeds) of {what} at "
            f"α = {alpha:g}; refuted if the opposite direction is significant")
    return _record(rule, verdict, alpha=alpha, effect=(a.sum() - b.sum()) / n, low=low, high=high, n=n,
                   p_value=p_opp if verdict == REFUTED else p, test="exact McNemar", discordant=[only_a, only_b],
                   p_expected=p, p_opposite=p_opp)


def check(values, *, tol: float, what: str = "value") -> dict:
    """A deterministic numerical check (no sampling involved): shown if every seed's value is at most tol,
    refuted otherwise. The interval is the range over seeds."""
    x = np.asarray(values, dtype=float)
    verdict = SHOWN if np.all(x <= tol) else REFUTED
    return _record(f"deterministic check: {what} <= {tol:g} in every seed", verdict, alpha=None,
                   effect=float(x.max()), low=float(x.min()), high=float(x.max()), n=x.size, p_value=None,
                   test="deterministic check", tol=tol)


def all_of(parts: dict[str, dict], rule: str | None = None, effect_of: str | None = None) -> dict:
    """An intersection–union rule: shown if every part is shown, refuted if any part is refuted, otherwise
    inconclusive. Each part is tested at its own α (no correction is needed for an intersection–union test).
    The record's effect and interval are those of the part `effect_of` names, else of the part closest to failing
    (largest p). Its p_value decides like the rule: the largest part p when shown or inconclusive, the smallest
    p of a refuted part when refuted."""
    verdicts = [p["verdict"] for p in parts.values()]
    verdict = SHOWN if all(v == SHOWN for v in verdicts) else REFUTED if REFUTED in verdicts else INCONCLUSIVE
    worst = parts[effect_of] if effect_of else max(parts.values(),
                                                    key=lambda p: -1 if p["p_value"] is None else p["p_value"])
    ps = [p["p_value"] for p in parts.values() if p["p_value"] is not None and
          (verdict != REFUTED or p["verdict"] == REFUTED)]
    deciding = None if not ps else min(ps) if verdict == REFUTED else max(ps)
    text = rule or "every part shown (intersection–union); refuted if any part is refuted"
    return {**worst, "verdict": verdict, "p_value": deciding, "rule": text + ": " + "; ".join(f"{k}: {p['rule']}" for k, p in parts.items()),
            "parts": {k: {key: p[key] for key in ("verdict", "effect", "ci95_low", "ci95_high", "p_value", "n")}
                      for k, p in parts.items()}}


def within(x, lo: float, hi: float, alpha: float, what: str) -> dict:
    """Is the mean of x inside [lo, hi]? Shown if its 95% t interval lies inside (two one-sided t-tests at α/2
    each, intersection–union), refuted if the interval lies entirely outside, otherwise inconclusive. The
    record's effect and interval are those of x itself."""
    x = np.asarray(x, dtype=float)
    parts = {f"above {lo:g}": difference(x - lo, expect="greater", alpha=alpha / 2, what=f"{what} − {lo:g}"),
             f"below {hi:g}": difference(x - hi, expect="less", alpha=alpha / 2, what=f"{what} − {hi:g}")}
    rec = all_of(parts, f"the 95% t interval of {what} lies inside [{lo:g}, {hi:g}]; refuted if it lies "
                        "entirely outside")
    own = difference(x, expect="greater", alpha=alpha, what=what)
    return rec | {k: own[k] for k in ("effect", "ci95_low", "ci95_high", "n")}


def finding(fid: str, claim: str, result: dict, text: str, *, primary: bool = False, scale: float = 1.0,
            unit: str = "") -> dict:
    """A finding: its id, whether it answers the experiment's question (primary), the claim, the rule's record
    and a sentence generated from the numbers. `scale`/`unit` say how effect and interval read (e.g. 100, 'pp')."""
    return {"id": fid, "primary": primary, "claim": claim, **result, "scale": scale, "unit": unit, "text": text}


def claim_verdict(f: dict) -> str:
    """A finding's verdict read as a claim's: holds, does not hold, inconclusive (or the finding's own
    'not testable as stated')."""
    return f.get("claim_verdict") or CLAIM_OF[f["verdict"]]
