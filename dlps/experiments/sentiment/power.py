"""Sentiment's power calculation. The one-seed pilot has no spread between training seeds: the sd is an assumption
(docs/protocol.md says which), the test reviews' binomial sampling a variance that more seeds do not shrink."""

SD_SEED = 0.0042  # the BiLSTM's move when the pilot's seed was re-run on another CPU kind: the only replicate
TEST_VAR = 0.88 * 0.12 / 25_000  # binomial variance of an accuracy near 88% on the 25,000 test reviews


def plans(pilot):
    bar = {"test": "t", "sds": [SD_SEED], "effect": 0.01, "extra_var": TEST_VAR, "at": "true 1 pp above the bar",
           "sd": f"{100 * SD_SEED:.2f} pp (assumed) + {100 * TEST_VAR ** 0.5:.2f} pp test sampling"}
    return [
        {"finding": "old_claim", "rule": "t over seeds + test-review variance, BiLSTM accuracy − 0.87", **bar},
        {"finding": "tfidf_bar", "rule": "t over seeds + test-review variance, TF-IDF accuracy − 0.88", **bar},
        {"finding": "best_recurrent_vs_tfidf", "rule": "paired t over seeds + per-review variance, best recurrent − "
         "TF-IDF", "test": "t", "sds": [SD_SEED], "effect": 0.01, "extra_var": 2 * TEST_VAR, "at": "true 1 pp",
         "sd": f"{100 * SD_SEED:.2f} pp (assumed)"},
    ]
