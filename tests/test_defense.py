"""defense.md: per-rule answers to "what would change the verdict?" on records built by dlps.verdicts (TOST,
non-inferiority, a bar, an exact rate, McNemar, an intersection–union), what each n counts, and the examiner's
questions built from the run's weak points (multiplicity, power, pilot, attainable p, rate claims, dataset copy)."""

from __future__ import annotations

import json
import shutil

import numpy as np
from report_fixture import ROOT

from dlps import verdicts as v
from dlps.report.data import Data
from dlps.report.defense import render
from dlps.report.examiner import counts, study_holm
from dlps.report.verdict_change import flip

A = 0.025
RNG = np.random.default_rng(0)


def test_a_tost_is_judged_against_its_margin_not_zero():
    f = v.finding("identity", "gap within ±5%", v.equivalence(RNG.normal(0.001, 0.004, 30), margin=0.05, alpha=A),
                  "t", primary=True, scale=100, unit="%")
    text = flip(f)
    assert f["verdict"] == "shown" and "equivalence test (TOST)" in text and "±5%" in text and "not 0" in text
    assert "no effect" not in text


def test_non_inferiority_reads_the_margin_in_the_findings_unit_and_is_refuted_by_inferiority():
    full = RNG.normal(0.85, 0.01, 40)
    f = v.finding("performance_maintained", "not worse by 0.3 pp",
                  v.noninferiority(full + RNG.normal(-0.002, 0.006, 40), full, margin=0.003, alpha=A), "t",
                  primary=True, scale=100, unit="pp")
    text = flip(f)
    assert "−0.3 pp" in text and "inferiority test" in text and "no TOST" in text
    assert "0.003" not in text  # never the fraction beside the points
    if f["verdict"] == "inconclusive":
        assert "seeds would put the interval clear of -0.3 pp" in text


def test_a_test_against_a_bar_names_the_bar_in_either_reading():
    saved = RNG.normal(0.65, 0.05, 41)
    rec = v.difference(saved - 0.3, expect="greater", alpha=A, what="fraction of epochs saved − 0.3")
    rec |= {k: x for k, x in v.difference(saved, expect="greater", alpha=A).items()
            if k in ("effect", "ci_low", "ci_high")}  # as early stopping's judge reports it: the saving itself
    as_value = flip(v.finding("saves_epochs", "saves > 30%", rec, "t", primary=True, scale=100, unit="%"))
    assert "the bar 0.3" in as_value and "not 0" in as_value and "entirely above 30%" in as_value
    acc = RNG.normal(0.88, 0.003, 3)
    rec = v.difference(acc - 0.87, expect="greater", alpha=A, what="bilstm test accuracy − 0.87")
    as_distance = flip(v.finding("old_claim", "87%", rec, "t", primary=True, scale=100, unit="pp"))
    assert "the bar 0.87" in as_distance and "so 0 pp is the bar" in as_distance


def test_an_exact_rate_says_when_no_outcome_can_pass():
    rec = v.rate([True] * 4 + [False] * 2, threshold=0.95, alpha=A)
    text = flip(v.finding("success_rate_lstm", "95%+", rec, "t", scale=100, unit="%"))
    assert "threshold 95%" in text and "4/6 seeds" in text and "no outcome can show it" in text
    assert f"at least {v.seeds_needed(0.95, A)} seeds" in text
    ok = flip(v.finding("bar", "most", v.rate([True] * 30, threshold=0.5, alpha=A), "t", scale=100, unit="%"))
    assert "it is shown from" in ok


def test_mcnemar_gives_its_discordant_counts_and_the_smallest_attainable_p():
    rec = v.rates_paired([True] * 4 + [False] * 2, [False] * 6, alpha=A, what="LSTM vs RNN")
    text = flip(v.finding("gated", "gated beats RNN", rec, "t", primary=True, scale=100, unit="pp"), "seeds")
    assert "only the 4 seeds" in text and "0.5^4 = 0.0625" in text and "at least 6 discordant seeds" in text


def test_an_intersection_union_rule_is_answered_by_its_weakest_part_with_holm():
    a, b = RNG.normal(1, 0.3, 10), RNG.normal(0.2, 0.3, 10)
    parts = {"LSTM − RNN": v.difference(a, expect="greater", alpha=A, what="x"),
             "GRU − RNN": v.difference(b, expect="greater", alpha=A, what="y")}
    f = v.finding("gated_vs_rnn", "both", v.all_of(parts), "t", primary=True, unit="decades (log10 test MSE)")
    other = v.finding("other", "o", v.difference(a, expect="greater", alpha=A), "t", primary=True)
    v.holm([f, other], "architectures")
    text = flip(f)
    weakest = max(parts, key=lambda k: v.p_of(parts[k]))
    assert f"the weakest, *{weakest}*, decides" in text and "boundary is 0 (no difference)" in text
    assert "Holm-adjusted p" in text and "decades" in text and "log10 test MSE" not in text


def test_each_n_says_what_it_counts():
    seeds = 3
    rate = v.rate([True] * 20 + [False] * 5, threshold=0.5, alpha=A)
    rate["rule"] = rate["rule"].replace("the success rate", "the test accuracy over the 25 test reviews")
    check = v.check([0, 0], tol=0, what="flag")
    check["rule"] = check["rule"].replace("in every seed", "in every TF-IDF run")
    assert counts(rate, seeds) == "test reviews" and counts(check, seeds) == "TF-IDF runs"
    assert counts(v.difference(RNG.normal(size=3), expect="greater", alpha=A), seeds) == "seeds"


def _data(tmp_path, monkeypatch) -> Data:
    """Two experiments' records built by dlps.verdicts, a pilot, the real protocol and a non-canonical copy."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs/protocol.md", tmp_path / "docs/protocol.md")
    (tmp_path / "metrics/datasets").mkdir(parents=True)
    (tmp_path / "metrics/datasets/cifar10.json").write_text(json.dumps(
        {"canonical": False, "description": "JPEG re-encoded copy"}))
    ok = [True] * 4 + [False] * 2
    arch = [v.finding("gated_vs_rnn", "gated beats RNN", v.rates_paired(ok, [False] * 6, alpha=A), "t",
                      primary=True, scale=100, unit="pp"),
            v.finding("old_claim", "LSTM reaches 95%+", v.rate(ok, threshold=0.95, alpha=A), "t", scale=100, unit="%")]
    l2 = [v.finding("beats_baseline", "λ* beats 0", v.difference(RNG.normal(0.004, 0.01, 8), expect="greater",
                                                                alpha=A), "t", primary=True, scale=100, unit="pp"),
          v.finding("weight_norm_decreases", "norm falls", v.difference(RNG.normal(0.02, 0.012, 8), expect="greater",
                                                                      alpha=A), "t", primary=True)]
    v.holm(arch, "architectures")
    v.holm(l2, "l2")
    metrics = {"architectures": {"seeds": list(range(1000, 1006)), "findings": arch},
               "l2": {"seeds": list(range(1000, 1008)), "findings": l2}}
    pilot = {"commit": "4333c39", "experiments": {"l2": [{"id": "weight_norm_decreases", "verdict": "refuted"}]}}
    power = [{"experiment": "l2", "primary finding": "beats_baseline", "seeds for 80% power": "34", "seeds run": "8",
              "power with them": "17%", "power computed at": "true gain 1 pp"}]
    return Data({}, ["l2", "architectures"], metrics, {}, {"l2": [], "architectures": []},
                protocol={"power": power}, pilot=pilot)


def test_defense_md_asks_the_examiners_questions_from_the_runs_weak_points(tmp_path, monkeypatch):
    data = _data(tmp_path, monkeypatch)
    text = render(data)
    assert "## Examiner's questions on the whole study" in text and text.count("*How many seeds?*") == 2
    assert "*What about multiplicity?*" in text and f"all {len(study_holm(data))} primaries" in text
    assert "l2/beats_baseline: 17% with 8 seeds (34 for 80%)" in text  # planned power, from the protocol's table
    assert f"weight_norm_decreases: refuted → {data.findings('l2')[1]['verdict']}" in text  # the pilot's verdict
    assert "*Why can gated_vs_rnn not be significant?*" in text and "0.5^4 = 0.0625" in text
    assert "never pass with 6 seeds?* Even 6/6 successes" in text
    assert "*What does the copy of cifar10 change?*" in text and "Used by l2" in text
    assert "The primaries use: one-sided exact McNemar test." in text  # only the tests the primaries use
    assert "n = 6 counts seeds (gated_vs_rnn, old_claim)" in text
    design = text.split("**Design decisions**", 1)[1]
    for reason in ("Holm within each experiment", "sign test", "paired designs", "validation data only"):
        assert reason in design, reason


def test_a_difference_with_a_smallest_effect_of_interest_names_both_boundaries():
    base = RNG.normal(0.97, 0.003, 9)
    rec = v.difference(base + RNG.normal(0.015, 0.003, 9), base, expect="greater", alpha=A, margin=0.01, what="gain")
    text = flip(v.finding("beats_baseline", "gain", rec, "t", primary=True, scale=100, unit="pp"))
    assert "smallest effect of interest ±1 pp" in text and "significant but negligible is refuted" in text
    assert "equivalence p = " in text and "boundary is 0" not in text
