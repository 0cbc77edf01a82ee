"""Sentiment's power calculation: the per-seed spread of test accuracy (the confirmatory run's files; the design of
the models judged did not change), the shared test reviews' sampling variance (binomial, or per-review paired for
the comparison) that more seeds do not shrink, and the judge's Welch–Satterthwaite degrees of freedom."""

from dlps.experiments.sentiment.reviews import n_test, paired_sampling_var, test_sampling_var
from dlps.experiments.sentiment.spec import BASELINE, SAME_TEXT

RECURRENT = ("bilstm", "gru")  # the candidates for the validation-chosen best recurrent model (lstm answers none)


def plans(pilot):
    def bar(fid, model, bar_value):
        runs, sd = pilot.runs(model), pilot.sd(pilot.col(model, "test_acc"))
        var = test_sampling_var(runs)
        return {"finding": fid, "rule": f"one-sided t over seeds + test-review variance (Welch–Satterthwaite df), "
                f"{model} accuracy − {bar_value:g}", "test": "t", "sds": [sd], "effect": 0.01, "extra_var": var,
                "extra_df": n_test(runs[0]) - 1, "at": "true 1 pp above the bar",
                "sd": f"{100 * sd:.3f} pp + {100 * var ** 0.5:.3f} pp test sampling"}

    # the worse of the two candidates' spread and sampling variance: either may be chosen on validation
    cands = [v for v in RECURRENT if pilot.has(v)]
    sd = max(pilot.sd(pilot.col(v, "test_acc") - pilot.col(SAME_TEXT, "test_acc")) for v in cands)
    var = max(paired_sampling_var(pilot.runs(v), pilot.runs(SAME_TEXT)) for v in cands)
    return [
        bar("old_claim", "bilstm", 0.87),
        bar("tfidf_bar", BASELINE, 0.88),
        {"finding": "best_recurrent_vs_tfidf", "rule": "paired t over seeds + per-review paired variance "
         "(Welch–Satterthwaite df), best recurrent − TF-IDF on the same tokens", "test": "t", "sds": [sd],
         "effect": 0.01, "extra_var": var, "extra_df": n_test(pilot.runs(SAME_TEXT)[0]) - 1, "at": "true 1 pp",
         "sd": f"{100 * sd:.3f} pp + {100 * var ** 0.5:.3f} pp paired test sampling"},
    ]
