"""How the sentiment experiment is judged, fixed before the data are seen: each accuracy bar as a rate over the
shared test reviews (exact Clopper–Pearson interval; with >= 2 seeds also a one-sample t over seeds), and the
best recurrent model (chosen on validation) against TF-IDF by the exact McNemar test on the test reviews per seed
(with >= 2 seeds also a paired t over seeds)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from dlps.experiments.sentiment.spec import BASELINE, CORRECT_KEY, TEST_SCORED, unpack_correct
from dlps.report_text import fmt, fmt_p
from dlps.verdicts import INCONCLUSIVE, all_of, difference, finding, rate, rates_paired

ONE_SEED = ("One training seed: the interval covers the sampling of test reviews only, not the variance between "
            "training seeds.")


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def _neural(runs: dict) -> list[str]:
    return [v for v in runs if v != BASELINE]


def _n_test(row: dict) -> int:
    return int(row["test_tn"] + row["test_fp"] + row["test_fn"] + row["test_tp"])


def _correct_count(row: dict) -> np.ndarray:
    """A 0/1 vector with the run's number of right test reviews (all a rate needs: k of n)."""
    n, k = _n_test(row), int(row["test_tn"] + row["test_tp"])
    return np.arange(n) < k


def _correct(row: dict) -> np.ndarray | None:
    """Which test reviews the run got right (in test order), or None for runs stored without it."""
    return unpack_correct(row[CORRECT_KEY], _n_test(row)) if CORRECT_KEY in row else None


def discordant(runs: dict, a: str, b: str) -> list[dict] | None:
    """Per seed: b = test reviews a gets right and b wrong, c = the reverse, and the two-sided exact McNemar p
    (scipy.stats.binomtest on the discordant reviews); None when the runs lack per-review correctness."""
    out = []
    for ra, rb in zip(runs[a], runs[b]):
        ca, cb = _correct(ra), _correct(rb)
        if ca is None or cb is None:
            return None
        n_b, n_c = int(np.sum(ca & ~cb)), int(np.sum(~ca & cb))
        p = float(stats.binomtest(n_b, n_b + n_c, 0.5).pvalue) if n_b + n_c else 1.0
        out.append({"seed": ra["seed"], "b": n_b, "c": n_c, "p_value": p})
    return out


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """The model chosen on mean validation accuracy; every recurrent model against the baseline by per-seed exact
    McNemar counts on the test reviews, and with >= 2 seeds by paired t-tests of test accuracy over seeds."""
    chosen = max(runs, key=lambda v: _mean(runs[v], "val_acc"))
    neural = _neural(runs)
    comparisons = {}
    for v in neural:
        per_seed = discordant(runs, v, BASELINE)
        if per_seed is not None:
            comparisons[f"mcnemar_{v}_vs_{BASELINE}"] = {"a": v, "b": BASELINE, "metric": "test reviews right",
                                                         "test": "exact McNemar (two-sided)", "per_seed": per_seed}
        if len(cfg["seeds"]) >= 2:
            comparisons[f"test_acc_{v}_vs_{BASELINE}"] = paired(v, BASELINE, "test_acc", "t")
    best = max(neural, key=lambda v: _mean(runs[v], "val_acc")) if neural else None
    derived = {"chosen_model": chosen, "chosen_test_acc": _mean(runs[chosen], "test_acc"), "best_neural": best,
               "best_neural_minus_tfidf_pp": (100 * (_mean(runs[best], "test_acc") - _mean(runs[BASELINE], "test_acc"))
                                              if best else None),
               "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}


def _rate_record(runs: list[dict], bar: float, alpha: float, model: str) -> dict:
    """The bar as a rate over the test reviews of each seed (exact Clopper–Pearson); with >= 2 seeds also the
    one-sample t over seeds, all of them required (intersection–union)."""
    per_seed = {}
    for r in runs:
        rec = rate(_correct_count(r), threshold=bar, alpha=alpha)
        rec.pop("n_needed")  # counts all-success seeds; meaningless for a rate over reviews
        rec["rule"] = rec["rule"].replace("the success rate", f"the test accuracy over the {rec['n']} test reviews")
        per_seed[f"seed {r['seed']}"] = rec
    if len(runs) < 2:
        return next(iter(per_seed.values()))
    # at α/2 one-sided: the two-sided 1 − α t interval lies above the bar, as each Clopper–Pearson interval must
    over = difference([r["test_acc"] - bar for r in runs], expect="greater", alpha=alpha / 2, test="t",
                      what=f"{model} test accuracy − {bar:g}")
    return all_of({**per_seed, "seeds": over}, f"{model} test accuracy above {bar:g}: every seed's exact interval "
                  f"over its test reviews, and the {100 * (1 - alpha):g}% t interval over seeds, above the bar")


def _pct(x: float, digits: int = 4) -> str:
    return f"{fmt(100 * x, digits)}%"


def _bar_text(model: str, runs: list[dict], rec: dict, bar: float) -> str:
    parts = rec.get("parts") or {f"seed {runs[0]['seed']}": rec}
    seeds = []
    for r in runs:
        p = parts[f"seed {r['seed']}"]
        boot = (f"; bootstrap [{_pct(r['test_acc_boot_low'])}, {_pct(r['test_acc_boot_high'])}]"
                if "test_acc_boot_low" in r else "")
        seeds.append(f"seed {r['seed']}: {_pct(p['effect'])} of {p['n']:,} test reviews, exact 95% interval "
                     f"[{_pct(p['ci95_low'])}, {_pct(p['ci95_high'])}]{boot}")
    head = f"{model} test accuracy, " + "; ".join(seeds) + f", against the {_pct(bar, 3)} bar. "
    if len(runs) >= 2:
        t = parts["seeds"]
        head += (f"Over {t['n']} seeds, mean minus bar {fmt(100 * t['effect'])} pp [95% t interval "
                 f"{fmt(100 * t['ci95_low'])}, {fmt(100 * t['ci95_high'])}] ({fmt_p(t['p_value'])}). ")
        verdict = {"shown": "Every seed's interval and the t interval over seeds lie above the bar: it reaches it.",
                   "refuted": "A seed's interval, or the mean over seeds, lies significantly below the bar: it does "
                              "not reach it.",
                   "inconclusive": "Not every interval clears the bar and none lies below it: the data cannot tell "
                                   "whether it reaches it."}
        return head + verdict[rec["verdict"]]
    head += (f"(One-sided exact binomial {fmt_p(rec['p_value'])}; the interval clears the bar only when p < "
             f"α/2 = {fmt(rec['alpha'] / 2)}.) ")
    verdict = {"shown": "The interval lies above the bar: it reaches it.",
               "refuted": "The interval lies entirely below the bar: it does not reach it.",
               "inconclusive": "The interval straddles the bar: the data cannot tell whether it reaches it."}
    return head + verdict[rec["verdict"]] + " " + ONE_SEED


def _not_run(rule: str, alpha: float) -> dict:
    return {"verdict": INCONCLUSIVE, "rule": rule, "alpha": alpha, "effect": None, "ci95_low": None,
            "ci95_high": None, "n": 0, "p_value": None}


def _bar_finding(fid: str, model: str, claim: str, cfg: dict, runs: dict, bar: float) -> dict:
    if model not in runs:
        return finding(fid, claim, _not_run(f"not run: {model} is not in sentiment.models", cfg["alpha"]),
                       f"{model} is not in sentiment.models, so the claim is not tested.", primary=True)
    rec = _rate_record(runs[model], bar, cfg["alpha"], model)
    unit = "%" if rec.get("test") == "exact binomial" else "pp"  # a rate, or (over seeds) accuracy − bar
    return finding(fid, claim, rec, _bar_text(model, runs[model], rec, bar), primary=True, scale=100, unit=unit)


def _mcnemar(a_row: dict, b_row: dict, alpha: float, what: str) -> dict:
    rec = rates_paired(_correct(a_row), _correct(b_row), alpha=alpha, expect="greater", what=what)
    rec["rule"] = rec["rule"].replace("on the seeds where exactly one succeeds",
                                      "on the test reviews exactly one of the two gets right")
    return rec


def _versus_finding(cfg: dict, m: dict, runs: dict) -> dict | None:
    best, alpha = m["derived"]["best_neural"], cfg["alpha"]
    if best is None:
        return None
    claim = f"The best recurrent model on validation ({best}) beats the TF-IDF baseline on test accuracy"
    what = f"{best} vs {BASELINE}"
    if any(_correct(r) is None for r in runs[best] + runs[BASELINE]):
        rec = _not_run(f"exact McNemar test of {what} on the test reviews: not run, the runs lack per-review "
                       f"correctness ({CORRECT_KEY}); re-run `dvc repro train_sentiment`", alpha)
        return finding("best_recurrent_vs_tfidf", claim, rec, "The runs were stored without which test reviews "
                       "each model got right, so the paired test cannot be made: inconclusive.", primary=True,
                       scale=100, unit="pp")
    per_seed = {f"seed {a['seed']}": _mcnemar(a, b, alpha, what) for a, b in zip(runs[best], runs[BASELINE])}
    if len(per_seed) >= 2:
        over = difference([r["test_acc"] for r in runs[best]], [r["test_acc"] for r in runs[BASELINE]],
                          expect="greater", alpha=alpha, test="t", what=f"{best} − {BASELINE} test accuracy")
        rec = all_of({**per_seed, "seeds": over}, f"{best} better than {BASELINE} on every seed's test reviews and "
                     "over seeds")
    else:
        rec = next(iter(per_seed.values()))
    seeds = []
    for key, p in per_seed.items():
        b, c = p["discordant"]
        seeds.append(f"{key}: {fmt(100 * p['effect'])} pp [{fmt(100 * p['ci95_low'])}, {fmt(100 * p['ci95_high'])}]; "
                     f"{best} alone right on {b:,} reviews, {BASELINE} alone on {c:,} (one-sided "
                     f"{fmt_p(p['p_value'])}, opposite {fmt_p(p['p_opposite'])})")
    text = (f"{best} (chosen on validation accuracy) minus TF-IDF test accuracy on the shared test reviews, exact "
            f"McNemar test at α = {alpha}: " + "; ".join(seeds) + ". ")
    if len(per_seed) >= 2:
        t = rec["parts"]["seeds"]
        text += (f"Over {t['n']} seeds: {fmt(100 * t['effect'])} pp [95% t interval {fmt(100 * t['ci95_low'])}, "
                 f"{fmt(100 * t['ci95_high'])}] ({fmt_p(t['p_value'])}). ")
    text += {"shown": f"{best} is significantly more accurate than TF-IDF.",
             "refuted": f"TF-IDF is significantly more accurate than {best}: the claim is refuted.",
             "inconclusive": f"Neither is shown to be more accurate at α = {alpha}."}[rec["verdict"]]
    text += " " + ONE_SEED if len(per_seed) < 2 else ""
    return finding("best_recurrent_vs_tfidf", claim, rec, text, primary=True, scale=100, unit="pp")


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The two accuracy bars (the BiLSTM one is the old claim) and whether the best recurrent model beats the
    baseline; all three answer the experiment's question."""
    out = [_bar_finding("old_claim", "bilstm", f"A BiLSTM reaches {_pct(cfg['bar_bilstm'], 3)} test accuracy on IMDB",
                        cfg, runs, cfg["bar_bilstm"]),
           _bar_finding("tfidf_bar", BASELINE, f"TF-IDF (uni+bigram) + logistic regression reaches "
                        f"{_pct(cfg['bar_tfidf'], 3)} test accuracy", cfg, runs, cfg["bar_tfidf"])]
    versus = _versus_finding(cfg, m, runs)
    return out + ([versus] if versus else [])
