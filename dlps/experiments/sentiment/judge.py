"""How the sentiment experiment is judged, fixed before the data are seen (docs/protocol.md). With >= 2 training
seeds every verdict accounts for both sources of error: a t-test over seeds (df = seeds − 1) whose standard error
adds, in full, the sampling variance of the shared test reviews (binomial for an accuracy, the paired per-review
variance for a difference) — each accuracy bar one-sided against the bar, the best recurrent model (chosen on
validation) against TF-IDF on the same tokens (and beside it on whole reviews). Per-seed exact intervals and
McNemar tests are shown beside them. With one seed the rules fall back to the test reviews alone (exact
Clopper–Pearson, exact McNemar) and say so. Two deterministic checks say whether the selection was left free:
every validation-best C inside its grid, every recurrent run stopped by patience rather than by its cap."""

from __future__ import annotations

import numpy as np
from scipy import stats

from dlps.experiments.sentiment.spec import (BASELINE, CORRECT_KEY, SAME_TEXT, TEST_SCORED, TFIDF, recurrent,
                                             unpack_correct)
from dlps.experiments.estimate import estimate, p_clause
from dlps.fmt import fmt
from dlps.verdicts import SHOWN, check, ci_label, difference, finding, not_run, rate, rates_paired

ONE_SEED = ("One training seed: the interval covers the sampling of test reviews only, not the variance between "
            "training seeds.")


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


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


def _pairs(runs: dict) -> list[tuple[str, str]]:
    """(a, b) pairs compared on the test reviews: every recurrent model against both TF-IDF variants, and TF-IDF
    on the recurrent models' tokens against TF-IDF on whole reviews (what the truncation costs a bag of words)."""
    return [(v, b) for v in recurrent(runs) for b in TFIDF] + [(SAME_TEXT, BASELINE)]


def _minus_pp(runs: dict, a: str | None, b: str) -> float | None:
    return 100 * (_mean(runs[a], "test_acc") - _mean(runs[b], "test_acc")) if a else None


def best_recurrent(runs: dict) -> str | None:
    """The recurrent model with the highest mean validation accuracy (None if none ran): the one selection."""
    neural = recurrent(runs)
    return max(neural, key=lambda v: _mean(runs[v], "val_acc")) if neural else None


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """The model chosen on mean validation accuracy; the _pairs by per-seed exact McNemar counts on the test
    reviews, and with >= 2 seeds by paired t-tests of test accuracy over seeds."""
    chosen = max(runs, key=lambda v: _mean(runs[v], "val_acc"))
    neural = recurrent(runs)
    comparisons = {}
    for a, b in _pairs(runs):
        per_seed = discordant(runs, a, b)
        if per_seed is not None:
            comparisons[f"mcnemar_{a}_vs_{b}"] = {"a": a, "b": b, "metric": "test reviews right",
                                                  "test": "exact McNemar (two-sided)", "per_seed": per_seed}
        if len(cfg["seeds"]) >= 2:
            comparisons[f"test_acc_{a}_vs_{b}"] = paired(a, b, "test_acc", "t")
    best = best_recurrent(runs)
    derived = {"chosen_model": chosen, "chosen_test_acc": _mean(runs[chosen], "test_acc"), "best_neural": best,
               "best_neural_minus_tfidf_pp": _minus_pp(runs, best, BASELINE),
               f"best_neural_minus_{SAME_TEXT}_pp": _minus_pp(runs, best, SAME_TEXT),
               f"{SAME_TEXT}_minus_{BASELINE}_pp": _minus_pp(runs, SAME_TEXT, BASELINE),
               "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}


def test_sampling_var(rows: list[dict]) -> float:
    """The binomial variance of one run's test accuracy over its test reviews, averaged over the runs."""
    return float(np.mean([r["test_acc"] * (1 - r["test_acc"]) / _n_test(r) for r in rows]))


def paired_sampling_var(a_rows: list[dict], b_rows: list[dict]) -> float:
    """The variance of one seed's accuracy difference a − b over the shared test reviews (per-review differences
    are −1, 0 or 1: ((b + c)/N − d²)/N), averaged over the seeds."""
    out = []
    for ra, rb in zip(a_rows, b_rows):
        ca, cb = _correct(ra), _correct(rb)
        n = ca.size
        d = float(np.mean(ca) - np.mean(cb))
        out.append((float(np.mean(ca != cb)) - d * d) / n)
    return float(np.mean(out))


def _rate_record(runs: list[dict], bar: float, alpha: float, model: str) -> dict:
    """The bar: with >= 2 seeds, a one-sided t-test over seeds of test accuracy − bar whose standard error also
    carries the test reviews' sampling variance; with one seed, the exact Clopper–Pearson interval over its test
    reviews. Per-seed exact intervals are kept for the sentence."""
    per_seed = {}
    for r in runs:
        rec = rate(_correct_count(r), threshold=bar, alpha=alpha)
        rec.pop("n_needed")  # counts all-success seeds; meaningless for a rate over reviews
        rec["rule"] = rec["rule"].replace("the success rate", f"the test accuracy over the {rec['n']} test reviews")
        per_seed[f"seed {r['seed']}"] = rec
    if len(runs) < 2:
        return next(iter(per_seed.values()))
    over = difference([r["test_acc"] - bar for r in runs], expect="greater", alpha=alpha, test="t",
                      extra_var=test_sampling_var(runs), what=f"{model} test accuracy − {bar:g}")
    return over | {"per_seed": {k: {f: p[f] for f in ("effect", "ci_low", "ci_high", "n")}
                                for k, p in per_seed.items()}}


def _pct(x: float, digits: int = 4) -> str:
    return f"{fmt(100 * x, digits)}%"


REACHES = dict(shown="The interval lies above the bar: it reaches it.",
               refuted="The interval lies entirely below the bar: it does not reach it.",
               inconclusive="The interval straddles the bar: the data cannot tell whether it reaches it.")


def _bar_text(model: str, runs: list[dict], rec: dict, bar: float) -> str:
    parts = rec.get("per_seed") or {f"seed {runs[0]['seed']}": rec}  # per-seed intervals: at rec's α too
    seeds = []
    for r in runs:
        p = parts[f"seed {r['seed']}"]
        boot = (f"; bootstrap [{_pct(r['test_acc_boot_low'])}, {_pct(r['test_acc_boot_high'])}]"
                if "test_acc_boot_low" in r else "")
        seeds.append(f"seed {r['seed']}: {_pct(p['effect'])} of {p['n']:,} test reviews, exact {ci_label(rec)} interval "
                     f"[{_pct(p['ci_low'])}, {_pct(p['ci_high'])}]{boot}")
    head = f"{model} test accuracy, " + "; ".join(seeds) + f", against the {_pct(bar, 3)} bar."
    if len(runs) >= 2:
        return head + (f" Over {rec['n']} training seeds, mean minus bar {estimate(rec, scale=100, unit=' pp')}, df "
                       f"{rec['n'] - 1}, its standard error adding the test reviews' sampling variance to the spread "
                       "between seeds.")
    return head + f" ({p_clause(rec)}; the interval clears the bar exactly when p < α = {fmt(rec['alpha'])}.)"


def _bar_finding(fid: str, model: str, claim: str, cfg: dict, runs: dict, bar: float) -> dict:
    if model not in runs:
        return finding(fid, claim, not_run(f"not run: {model} is not in sentiment.models", cfg["alpha"]),
                       f"{model} is not in sentiment.models, so the claim is not tested.", primary=True)
    rec = _rate_record(runs[model], bar, cfg["alpha"], model)
    unit = "%" if "per_seed" not in rec else "pp"  # a rate, or (over seeds) accuracy − bar
    one = "" if "per_seed" in rec else " " + ONE_SEED
    return finding(fid, claim, rec, _bar_text(model, runs[model], rec, bar), primary=True, scale=100, unit=unit,
                   compared={"model": model, "bar": bar}, **{k: t + one for k, t in REACHES.items()})


def _mcnemar(a_row: dict, b_row: dict, alpha: float, what: str) -> dict:
    rec = rates_paired(_correct(a_row), _correct(b_row), alpha=alpha, expect="greater", what=what)
    rec["rule"] = rec["rule"].replace("on the seeds where exactly one succeeds",
                                      "on the test reviews exactly one of the two gets right")
    return rec


def _tokens(cfg: dict) -> str:
    """The text the recurrent models read, in words."""
    return f"the {'last' if cfg['truncate'] == 'tail' else 'first'} {cfg['max_len']} tokens of each review"


def _versus_claim(cfg: dict, best: str, base: str) -> str:
    if base == SAME_TEXT:
        return (f"The best recurrent model on validation ({best}) beats TF-IDF on test accuracy, both reading "
                f"{_tokens(cfg)}")
    return (f"The best recurrent model on validation ({best}, reading {_tokens(cfg)}) beats TF-IDF on whole reviews "
            "on test accuracy")


def _beside(runs: dict, best: str) -> str:
    """The whole-review TF-IDF figure set beside the same-text comparison."""
    acc, diff = _mean(runs[BASELINE], "test_acc"), _minus_pp(runs, best, BASELINE)
    return (f" Beside it, TF-IDF on whole reviews: {_pct(acc)} test accuracy, {best} minus it {fmt(diff)} pp "
            "(finding best_recurrent_vs_tfidf_whole).")


def _versus_finding(cfg: dict, m: dict, runs: dict, base: str, fid: str, primary: bool) -> dict | None:
    """The best recurrent model (chosen on validation) against TF-IDF variant `base` on the shared test reviews."""
    best, alpha = best_recurrent(runs), cfg["alpha"]
    if best is None:
        return None
    claim = _versus_claim(cfg, best, base)
    what = f"{best} vs {base}"
    if any(_correct(r) is None for r in runs[best] + runs[base]):
        rec = not_run(f"exact McNemar test of {what} on the test reviews: not run, the runs lack per-review "
                       f"correctness ({CORRECT_KEY}); re-run `dvc repro train_sentiment`", alpha)
        return finding(fid, claim, rec, "The runs were stored without which test reviews each model got right, so "
                       "the paired test cannot be made: inconclusive.", primary=primary, scale=100, unit="pp")
    per_seed = {f"seed {a['seed']}": _mcnemar(a, b, alpha, what) for a, b in zip(runs[best], runs[base])}
    if len(per_seed) >= 2:
        rec = difference([r["test_acc"] for r in runs[best]], [r["test_acc"] for r in runs[base]],
                         expect="greater", alpha=alpha, test="t", extra_var=paired_sampling_var(runs[best], runs[base]),
                         what=f"{best} − {base} test accuracy")
    else:
        rec = next(iter(per_seed.values()))
    seeds = [f"{key}: {fmt(100 * p['effect'])} pp [{fmt(100 * p['ci_low'])}, {fmt(100 * p['ci_high'])}]; {best} alone "
             f"right on {p['discordant'][0]:,} reviews, {base} alone on {p['discordant'][1]:,} "
             f"({p_clause(p, ('p_expected', 'p_opposite'))})" for key, p in per_seed.items()]
    text_of = f"TF-IDF on {_tokens(cfg)}" if base == SAME_TEXT else "TF-IDF on whole reviews"
    text = (f"{best} (chosen on validation accuracy) minus {text_of} ({base}): test accuracy on the shared test "
            f"reviews, per seed by the exact McNemar test at α = {alpha}: " + "; ".join(seeds) + ".")
    if len(per_seed) >= 2:
        text += (f" The rule, over {rec['n']} training seeds: mean difference {estimate(rec, scale=100, unit=' pp')}, "
                 f"df {rec['n'] - 1}, its standard error adding the per-review sampling variance of the difference "
                 "to the spread between seeds.")
    after = (_beside(runs, best) if base == SAME_TEXT else "") + (" " + ONE_SEED if len(per_seed) < 2 else "")
    return finding(fid, claim, rec, text, primary=primary, scale=100, unit="pp", compared={"best": best, "tfidf": base},
                   shown=f"{best} is significantly more accurate than {base}.{after}",
                   refuted=f"{base} is significantly more accurate than {best}: the claim is refuted.{after}",
                   inconclusive=f"Neither is shown to be more accurate at α = {alpha}.{after}")


def _check_record(values: list[float], what: str, over: str) -> dict:
    """verdicts.check with tolerance 0 on 0/1 flags (1 = the run failed the check), its rule naming the runs."""
    rec = check(values, tol=0, what=what)
    rec["rule"] = rec["rule"].replace("in every seed", f"in every {over}")
    return rec


def _not_recorded(fid: str, claim: str, key: str) -> dict:
    rec = not_run(f"deterministic check: not run, the runs lack {key}; re-run `dvc repro train_sentiment`", None)
    return finding(fid, claim, rec, f"The runs were stored without {key}, so the check cannot be made: inconclusive.")


def _grid(values) -> str:
    return "{" + ", ".join(f"{c:g}" for c in sorted(values)) + "}"


def _at_edge(row: dict) -> bool:
    """Whether the run's validation-best C is the smallest or largest of the grid it was chosen from."""
    return row["tfidf_C"] in (min(row["tfidf_C_grid"]), max(row["tfidf_C_grid"]))


def _c_interior_finding(runs: dict) -> dict:
    """Every TF-IDF run's validation-best C strictly inside its grid: at an end, the optimum may lie beyond it, and
    the baseline would be handicapped by the grid rather than by its model."""
    fid, rows = "tfidf_C_interior", [(v, r) for v in TFIDF for r in runs[v]]
    claim = "Every TF-IDF run's validation-best C lies inside the tfidf_C grid, not at either end"
    if any("tfidf_C_grid" not in r for _, r in rows):
        return _not_recorded(fid, claim, "tfidf_C_grid")
    edge = [_at_edge(r) for _, r in rows]
    rec = _check_record([float(e) for e in edge], "validation-best C at an end of its grid (1 = at an end)",
                        "TF-IDF run")
    each = [f"{v} seed {r['seed']}: C = {r['tfidf_C']:g} of {_grid(r['tfidf_C_grid'])}{' (at an end)' if e else ''}"
            for (v, r), e in zip(rows, edge)]
    text = "Validation-best C: " + "; ".join(each) + ". "
    if rec["verdict"] == SHOWN:
        text += "Every one is inside the grid: the grid brackets the validation optimum."
    elif any(len(r["tfidf_C_grid"]) < 3 for _, r in rows):
        text += "A grid of fewer than three values has no interior: give sentiment.tfidf_C at least three."
    else:
        text += ("At an end of the grid the validation optimum may lie beyond it: widen sentiment.tfidf_C past that "
                 "end (chosen on validation accuracy only).")
    return finding(fid, claim, rec, text)


def _stopped_finding(cfg: dict, runs: dict) -> dict | None:
    """Every recurrent run stopped by patience: one stopped by max_epochs may still have been improving, so its
    accuracy would measure the budget rather than the model."""
    fid, rows = "stopped_by_patience", [(v, r) for v in recurrent(runs) for r in runs[v]]
    if not rows:
        return None
    claim = (f"Every recurrent run stopped by patience ({cfg['patience']} epochs without a better validation "
             f"accuracy), not at the max_epochs cap ({cfg['max_epochs']})")
    if any("stopped_by" not in r for _, r in rows):
        return _not_recorded(fid, claim, "stopped_by")
    capped = [r["stopped_by"] != "patience" for _, r in rows]
    rec = _check_record([float(c) for c in capped], "runs stopped by the max_epochs cap (1 = by the cap)",
                        "recurrent run")
    each = [f"{v} seed {r['seed']}: best epoch {r['best_epoch']} of {r['epochs_run']}, stopped by "
            f"{'the cap' if c else 'patience'}" for (v, r), c in zip(rows, capped)]
    text = "; ".join(each) + ". " + (
        "Every run stopped by patience: the cap did not cut training short." if rec["verdict"] == SHOWN else
        "A run reached the cap and may still have been improving: raise sentiment.max_epochs.")
    return finding(fid, claim, rec, text)


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The two accuracy bars (the BiLSTM one is the old claim) and whether the best recurrent model beats TF-IDF on
    the same tokens: these answer the experiment's question. Beside them, not primary: the best recurrent model
    against TF-IDF on whole reviews, and the two checks that C and the epoch were chosen freely."""
    out = [_bar_finding("old_claim", "bilstm", f"A BiLSTM reaches {_pct(cfg['bar_bilstm'], 3)} test accuracy on IMDB",
                        cfg, runs, cfg["bar_bilstm"]),
           _bar_finding("tfidf_bar", BASELINE, f"TF-IDF (uni+bigram, whole reviews) + logistic regression reaches "
                        f"{_pct(cfg['bar_tfidf'], 3)} test accuracy", cfg, runs, cfg["bar_tfidf"]),
           _versus_finding(cfg, m, runs, SAME_TEXT, "best_recurrent_vs_tfidf", primary=True),
           _versus_finding(cfg, m, runs, BASELINE, "best_recurrent_vs_tfidf_whole", primary=False),
           _c_interior_finding(runs),
           _stopped_finding(cfg, runs)]
    return [f for f in out if f is not None]
