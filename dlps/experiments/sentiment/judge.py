"""How the sentiment experiment is judged, fixed before the data are seen (docs/protocol.md). With >= 2 training
seeds each verdict is a t-test over seeds whose standard error adds, in full, the sampling variance of the shared
test reviews (SE² = s²/n + v_test), with Welch–Satterthwaite degrees of freedom (v_test estimated on the test
reviews, df n_test − 1): each accuracy bar one-sided against the bar, the best recurrent model (chosen on
validation) against TF-IDF on the same tokens (and, beside it, on whole reviews); per-seed exact intervals and McNemar
tests are shown beside them. With one seed the rules fall back to the test reviews alone (exact Clopper–Pearson,
exact McNemar) and say so. Two deterministic checks say whether C and the epoch were chosen freely."""

from __future__ import annotations

from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.sentiment.analysis import (  # noqa: F401 (analyze: re-exported)
    analyze, best_recurrent, mean_of, minus_pp)
from dlps.experiments.sentiment.reviews import (correct, correct_count, n_test, paired_sampling_var,
                                                test_sampling_var)
from dlps.experiments.sentiment.spec import BASELINE, CORRECT_KEY, SAME_TEXT, TFIDF, recurrent
from dlps.fmt import fmt
from dlps.verdicts import SHOWN, check, ci_label, difference, finding, not_run, rate, rates_paired

ONE_SEED = ("One training seed: the interval covers the sampling of test reviews only, not the variance between "
            "training seeds.")
REACHES = dict(shown="The interval lies above the bar: it reaches it.",
               refuted="The interval lies entirely below the bar: it does not reach it.",
               inconclusive="The interval straddles the bar: the data cannot tell whether it reaches it.")
RERUN = "re-run `dvc repro train_sentiment`"


def _pct(x: float, digits: int = 4) -> str:
    return f"{fmt(100 * x, digits)}%"


def _rate_record(runs: list[dict], bar: float, alpha: float, model: str) -> dict:
    """The bar: with >= 2 seeds, a one-sided t-test over seeds of test accuracy − bar whose standard error also
    carries the test reviews' sampling variance; with one seed, the exact Clopper–Pearson interval over its test
    reviews. Per-seed exact intervals are kept for the sentence."""
    per_seed = {}
    for r in runs:
        rec = rate(correct_count(r), threshold=bar, alpha=alpha)
        rec.pop("n_needed")  # counts all-success seeds; meaningless for a rate over reviews
        rec["rule"] = rec["rule"].replace("the success rate", f"the test accuracy over the {rec['n']} test reviews")
        per_seed[f"seed {r['seed']}"] = rec
    if len(runs) < 2:
        return next(iter(per_seed.values()))
    over = difference([r["test_acc"] - bar for r in runs], expect="greater", alpha=alpha, test="t",
                      extra_var=test_sampling_var(runs), extra_df=n_test(runs[0]) - 1,
                      what=f"{model} test accuracy − {bar:g}")
    return over | {"per_seed": {k: {f: p[f] for f in ("effect", "ci_low", "ci_high", "n")}
                                for k, p in per_seed.items()}}


def _bar_finding(fid: str, model: str, claim: str, cfg: dict, runs: dict, bar: float) -> dict:
    if model not in runs:
        return finding(fid, claim, not_run(f"not run: {model} is not in sentiment.models", cfg["alpha"]),
                       f"{model} is not in sentiment.models, so the claim is not tested.", primary=True)
    rows = runs[model]
    rec = _rate_record(rows, bar, cfg["alpha"], model)
    parts = rec.get("per_seed") or {f"seed {rows[0]['seed']}": rec}  # per-seed intervals: at rec's α too
    seeds = "; ".join(
        f"seed {r['seed']}: {_pct(p['effect'])} of {p['n']:,} test reviews, exact {ci_label(rec)} interval "
        f"[{_pct(p['ci_low'])}, {_pct(p['ci_high'])}]"
        + (f"; bootstrap [{_pct(r['test_acc_boot_low'])}, {_pct(r['test_acc_boot_high'])}]"
           if "test_acc_boot_low" in r else "") for r, p in ((r, parts[f"seed {r['seed']}"]) for r in rows))
    text = f"{model} test accuracy, {seeds}, against the {_pct(bar, 3)} bar." + (
        f" Over {rec['n']} training seeds, mean minus bar {estimate(rec, scale=100, unit=' pp')}, df "
        f"{fmt(rec.get('df'))} (Welch–Satterthwaite), its standard error adding the test reviews' sampling variance "
        "to the spread between seeds."
        if len(rows) >= 2 else f" ({p_clause(rec)}; the interval clears the bar exactly when p < α = "
                               f"{fmt(rec['alpha'])}.)")
    one = "" if len(rows) >= 2 else " " + ONE_SEED
    return finding(fid, claim, rec, text, primary=True, scale=100, unit="pp" if len(rows) >= 2 else "%",
                   compared={"model": model, "bar": bar}, **{k: t + one for k, t in REACHES.items()})


def _versus_finding(cfg: dict, runs: dict, base: str, fid: str, primary: bool) -> dict | None:
    """The best recurrent model (chosen on validation) against TF-IDF variant `base` on the shared test reviews."""
    best, alpha = best_recurrent(runs), cfg["alpha"]
    if best is None:
        return None
    tokens = f"the {'last' if cfg['truncate'] == 'tail' else 'first'} {cfg['max_len']} tokens of each review"
    claim = (f"The best recurrent model on validation ({best}) beats TF-IDF on test accuracy, both reading {tokens}"
             if base == SAME_TEXT else f"The best recurrent model on validation ({best}, reading {tokens}) beats "
                                       "TF-IDF on whole reviews on test accuracy")
    what = f"{best} vs {base}"
    if any(correct(r) is None for r in runs[best] + runs[base]):
        rec = not_run(f"exact McNemar test of {what} on the test reviews: not run, the runs lack per-review "
                      f"correctness ({CORRECT_KEY}); {RERUN}", alpha)
        return finding(fid, claim, rec, "The runs were stored without which test reviews each model got right, so "
                       "the paired test cannot be made: inconclusive.", primary=primary, scale=100, unit="pp")
    per_seed = {}
    for a, b in zip(runs[best], runs[base]):
        per_seed[f"seed {a['seed']}"] = rates_paired(correct(a), correct(b), alpha=alpha, what=what)
        per_seed[f"seed {a['seed']}"]["rule"] = per_seed[f"seed {a['seed']}"]["rule"].replace(
            "on the seeds where exactly one succeeds", "on the test reviews exactly one of the two gets right")
    many = len(per_seed) >= 2
    rec = difference([r["test_acc"] for r in runs[best]], [r["test_acc"] for r in runs[base]], expect="greater",
                     alpha=alpha, test="t", extra_var=paired_sampling_var(runs[best], runs[base]),
                     extra_df=n_test(runs[best][0]) - 1, what=f"{best} − {base} test accuracy"
                     ) if many else next(iter(per_seed.values()))
    seeds = "; ".join(f"{key}: {fmt(100 * p['effect'])} pp [{fmt(100 * p['ci_low'])}, {fmt(100 * p['ci_high'])}]; "
                      f"{best} alone right on {p['discordant'][0]:,} reviews, {base} alone on {p['discordant'][1]:,} "
                      f"({p_clause(p, ('p_expected', 'p_opposite'))})" for key, p in per_seed.items())
    text = (f"{best} (chosen on validation accuracy) minus TF-IDF on "
            f"{tokens if base == SAME_TEXT else 'whole reviews'} ({base}): test accuracy on the shared test reviews, "
            f"per seed by the exact McNemar test at α = {alpha}: {seeds}." + (
                f" The rule, over {rec['n']} training seeds: mean difference {estimate(rec, scale=100, unit=' pp')}, "
                f"df {fmt(rec.get('df'))} (Welch–Satterthwaite), its standard error adding the per-review sampling "
                "variance of the difference to the spread between seeds." if many else ""))
    after = ((f" Beside it, TF-IDF on whole reviews: {_pct(mean_of(runs[BASELINE], 'test_acc'))} test accuracy, {best} "
              f"minus it {fmt(minus_pp(runs, best, BASELINE))} pp (finding best_recurrent_vs_tfidf_whole)."
              if base == SAME_TEXT else "") + ("" if many else " " + ONE_SEED))
    return finding(fid, claim, rec, text, primary=primary, scale=100, unit="pp", compared={"best": best, "tfidf": base},
                   shown=f"{best} is significantly more accurate than {base}.{after}",
                   refuted=f"{base} is significantly more accurate than {best}: the claim is refuted.{after}",
                   inconclusive=f"Neither is shown to be more accurate at α = {alpha}.{after}")


def _check_finding(fid: str, claim: str, rows: list, key: str, failed, what: str, over: str, each, says) -> dict:
    """A deterministic check over runs (tolerance 0 on 0/1 flags, 1 = the run `failed`), or inconclusive when the
    runs lack `key`; `each` describes one run, `says` the verdict."""
    if any(key not in r for _, r in rows):
        return finding(fid, claim, not_run(f"deterministic check: not run, the runs lack {key}; {RERUN}", None),
                       f"The runs were stored without {key}, so the check cannot be made: inconclusive.", check=True)
    flags = [failed(r) for _, r in rows]
    rec = check([float(f) for f in flags], tol=0, what=what)
    rec["rule"] = rec["rule"].replace("in every seed", f"in every {over}")
    return finding(fid, claim, rec, "; ".join(each(v, r, f) for (v, r), f in zip(rows, flags)) + ". " + says(rec),
                   check=True)


def _c_interior_finding(runs: dict) -> dict:
    """Every TF-IDF run's validation-best C strictly inside its grid: at an end, the optimum may lie beyond it, and
    the baseline would be handicapped by the grid rather than by its model."""
    rows = [(v, r) for v in TFIDF for r in runs[v]]
    grid = lambda r: "{" + ", ".join(f"{c:g}" for c in sorted(r["tfidf_C_grid"])) + "}"  # noqa: E731
    return _check_finding(
        "tfidf_C_interior", "Every TF-IDF run's validation-best C lies inside the tfidf_C grid, not at either end",
        rows, "tfidf_C_grid", lambda r: r["tfidf_C"] in (min(r["tfidf_C_grid"]), max(r["tfidf_C_grid"])),
        "validation-best C at an end of its grid (1 = at an end)", "TF-IDF run",
        lambda v, r, e: f"{'Validation-best C: ' if (v, r) == rows[0] else ''}{v} seed {r['seed']}: C = "
                        f"{r['tfidf_C']:g} of {grid(r)}{' (at an end)' if e else ''}",
        lambda rec: "Every one is inside the grid: the grid brackets the validation optimum." if rec["verdict"] == SHOWN
        else "A grid of fewer than three values has no interior: give sentiment.tfidf_C at least three."
        if any(len(r["tfidf_C_grid"]) < 3 for _, r in rows) else "At an end of the grid the validation optimum may "
        "lie beyond it: widen sentiment.tfidf_C past that end (chosen on validation accuracy only).")


def _stopped_finding(cfg: dict, runs: dict) -> dict | None:
    """Every recurrent run stopped by patience: one stopped by max_epochs may still have been improving, so its
    accuracy would measure the budget rather than the model."""
    rows = [(v, r) for v in recurrent(runs) for r in runs[v]]
    return _check_finding(
        "stopped_by_patience", f"Every recurrent run stopped by patience ({cfg['patience']} epochs without a better "
                               f"validation accuracy), not at the max_epochs cap ({cfg['max_epochs']})",
        rows, "stopped_by", lambda r: r["stopped_by"] != "patience",
        "runs stopped by the max_epochs cap (1 = by the cap)", "recurrent run",
        lambda v, r, c: f"{v} seed {r['seed']}: best epoch {r['best_epoch']} of {r['epochs_run']}, stopped by "
                        f"{'the cap' if c else 'patience'}",
        lambda rec: "Every run stopped by patience: the cap did not cut training short." if rec["verdict"] == SHOWN
        else "A run reached the cap and may still have been improving: raise sentiment.max_epochs.") if rows else None


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The two accuracy bars (the BiLSTM one is the old claim) and whether the best recurrent model beats TF-IDF on
    the same tokens answer the question; beside them the whole-review comparison and the two selection checks."""
    out = [_bar_finding("old_claim", "bilstm", f"A BiLSTM reaches {_pct(cfg['bar_bilstm'], 3)} test accuracy on IMDB",
                        cfg, runs, cfg["bar_bilstm"]),
           _bar_finding("tfidf_bar", BASELINE, f"TF-IDF (uni+bigram, whole reviews) + logistic regression reaches "
                        f"{_pct(cfg['bar_tfidf'], 3)} test accuracy", cfg, runs, cfg["bar_tfidf"]),
           _versus_finding(cfg, runs, SAME_TEXT, "best_recurrent_vs_tfidf", primary=True),
           _versus_finding(cfg, runs, BASELINE, "best_recurrent_vs_tfidf_whole", primary=False),
           _c_interior_finding(runs), _stopped_finding(cfg, runs)]
    return [f for f in out if f is not None]
