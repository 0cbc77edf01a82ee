"""The verdict rules: each gives shown, refuted or inconclusive exactly as its rule says."""

import numpy as np
import pytest
from scipy import stats

from dlps import verdicts as v

RNG = np.random.default_rng(0)


def test_difference_shown_refuted_inconclusive():
    base = RNG.normal(0, 1, 10)
    assert v.difference(base + 3, base + RNG.normal(0, 0.1, 10), expect="greater", alpha=0.05)["verdict"] == v.SHOWN
    assert v.difference(base - 3, base, expect="greater", alpha=0.05)["verdict"] == v.REFUTED
    noisy = v.difference(RNG.normal(0, 1, 4), RNG.normal(0, 1, 4), expect="greater", alpha=0.05)
    assert noisy["verdict"] == v.INCONCLUSIVE and noisy["ci_low"] < noisy["effect"] < noisy["ci_high"]


def test_not_significant_is_never_equivalent_but_tost_can_refute():
    d = RNG.normal(0, 1, 5)
    assert v.difference(d, expect="greater", alpha=0.05, margin=0.01)["verdict"] == v.INCONCLUSIVE
    tight = np.tile([0.001, -0.001], 15)
    assert v.difference(tight, expect="greater", alpha=0.05, margin=0.1)["verdict"] == v.REFUTED


def test_equivalence_and_noninferiority():
    assert v.equivalence(RNG.normal(0, 0.01, 20), margin=0.1, alpha=0.05)["verdict"] == v.SHOWN
    assert v.equivalence(RNG.normal(1, 0.01, 20), margin=0.1, alpha=0.05)["verdict"] == v.REFUTED
    assert v.equivalence(RNG.normal(0, 1, 3), margin=0.1, alpha=0.05)["verdict"] == v.INCONCLUSIVE
    assert v.noninferiority(RNG.normal(0.5, 0.01, 10), margin=0.1, alpha=0.05)["verdict"] == v.SHOWN
    assert v.noninferiority(RNG.normal(-1, 0.01, 10), margin=0.1, alpha=0.05)["verdict"] == v.REFUTED


def test_rate_uses_the_exact_interval():
    three = v.rate([1, 1, 1], threshold=0.95, alpha=0.025)  # the 95% Clopper–Pearson interval: 0.025^(1/3)
    assert three["verdict"] == v.INCONCLUSIVE and three["ci_low"] == pytest.approx(0.025 ** (1 / 3), rel=1e-6)
    assert three["ci_level"] == pytest.approx(0.95)
    assert three["n_needed"] == 72 and v.rate([1] * 72, threshold=0.95, alpha=0.025)["verdict"] == v.SHOWN
    assert v.rate([1] * 71, threshold=0.95, alpha=0.025)["verdict"] == v.INCONCLUSIVE
    assert v.rate([0] * 10, threshold=0.5, alpha=0.025)["verdict"] == v.REFUTED


@pytest.mark.parametrize("alpha", [0.025, 0.05])
@pytest.mark.parametrize("test", ["t", "sign"])
def test_a_one_sided_test_and_its_interval_say_the_same_thing(test, alpha):
    """Shown on the expected side exactly when the 1 − 2α interval lies on that side (the double-descent case:
    a one-sided p below α beside a two-sided 95% interval containing 0 cannot happen)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        d = rng.normal(0.6, 1, 7)
        r = v.difference(d, expect="greater", alpha=alpha, test=test)
        assert (r["verdict"] == v.SHOWN) == (r["ci_low"] > 0), (d, r)
        if test == "t":
            assert r["ci_level"] == pytest.approx(1 - 2 * alpha)
        else:  # the order-statistic interval is discrete: its record says its exact coverage, at least 1 − 2α
            assert r["ci_level"] >= 1 - 2 * alpha and r["ci_level"] == pytest.approx(
                1 - 2 * stats.binom.cdf(int(np.sum(np.sort(d) < r["ci_low"])), d.size, 0.5))


def test_holm_adjusts_the_primaries_and_downgrades_what_does_not_survive():
    rec = lambda p, verdict="shown": {"primary": True, "p_expected": p, "decided_by": "p_expected",  # noqa
                                      "alpha": 0.025, "verdict": verdict, "text": "t."}
    fs = [rec(0.001), rec(0.02), rec(0.3, "inconclusive"), {**rec(None), "alpha": None},
          {**rec(0.0001), "primary": False}]
    v.holm(fs, "exp")
    assert [f.get("p_adjusted") for f in fs[:4]] == [pytest.approx(0.003), pytest.approx(0.04),
                                                     pytest.approx(0.3), None]
    assert fs[0]["verdict"] == v.SHOWN and fs[1]["verdict"] == v.INCONCLUSIVE and fs[1]["raw_verdict"] == v.SHOWN
    assert "Holm" in fs[1]["text"] and "p_adjusted" not in fs[4]


def test_a_shared_variance_widens_the_interval_and_weakens_the_test():
    d = np.array([0.010, 0.012, 0.011])
    plain = v.difference(d, expect="greater", alpha=0.025)
    shared = v.difference(d, expect="greater", alpha=0.025, extra_var=0.004 ** 2)
    assert shared["p_expected"] > plain["p_expected"]
    assert shared["ci_high"] - shared["ci_low"] > plain["ci_high"] - plain["ci_low"]


def test_paired_rates_mcnemar():
    r = v.rates_paired([1] * 10, [0] * 10, alpha=0.05)
    assert r["verdict"] == v.SHOWN and v.p_of(r) == r["p_expected"] == pytest.approx(0.5 ** 10)
    assert v.rates_paired([1, 1, 1], [0, 0, 0], alpha=0.05)["verdict"] == v.INCONCLUSIVE  # p = 1/8
    assert v.rates_paired([0] * 10, [1] * 10, alpha=0.05)["verdict"] == v.REFUTED


def test_rank_tests_report_medians_and_check_all_of():
    heavy = np.array([1.0, 2, 3, 4, 5, 6, 1e6])
    r = v.difference(heavy, expect="greater", alpha=0.05, test="wilcoxon")
    assert r["verdict"] == v.SHOWN and r["effect"] == 4.0 and r["ci_low"] <= 4 <= r["ci_high"]
    s = v.difference([-1.0] * 6, expect="greater", alpha=0.05, test="sign")
    assert s["verdict"] == v.REFUTED
    both = v.all_of({"a": v.check([0.1], tol=1), "b": v.check([2.0], tol=1)})
    assert both["verdict"] == v.REFUTED and both["parts"]["a"]["verdict"] == v.SHOWN


def test_finding_record_shape():
    f = v.finding("x", "claim", v.difference([1.0, 2, 3], expect="greater", alpha=0.05), "text", primary=True)
    assert {"id", "primary", "claim", "verdict", "rule", "alpha", "effect", "ci_low", "ci_high", "ci_level", "n",
            "decided_by", "test", "tests", "p_expected", "p_opposite", "text"} <= set(f)
    assert "p_value" not in f and not any("95" in k for k in f)
    assert f["test"] == f["tests"][f["decided_by"]]
    assert v.claim_verdict(f) in v.CLAIM_VERDICTS


def test_within_a_range_and_the_headline_part_of_an_intersection():
    assert v.within([0.34, 0.35, 0.36, 0.35], 0.3, 0.4, 0.05, "saved")["verdict"] == v.SHOWN
    assert v.within([0.61, 0.62, 0.63, 0.62], 0.3, 0.4, 0.05, "saved")["verdict"] == v.REFUTED
    assert v.within([0.2, 0.5, 0.35], 0.3, 0.4, 0.05, "saved")["verdict"] == v.INCONCLUSIVE
    parts = {"a": v.check([0.5], tol=1), "b": v.difference([3.0, 3.1, 2.9], expect="greater", alpha=0.05)}
    assert v.all_of(parts, effect_of="b")["effect"] == pytest.approx(3.0)


def test_a_refuted_difference_carries_the_refuting_p():
    from dlps import verdicts

    opposite = verdicts.difference([1.0, 1.1, 0.9, 1.2, 1.05], [2.0, 2.1, 1.9, 2.3, 2.0], expect="greater", alpha=0.05)
    assert opposite["verdict"] == "refuted" and opposite["decided_by"] == "p_opposite" and opposite["p_opposite"] < 0.05
    assert opposite["p_expected"] > 0.5
    same = [0.50, 0.51, 0.49, 0.50, 0.52, 0.48]
    tost = verdicts.difference(same, [0.50, 0.50, 0.50, 0.51, 0.51, 0.49], expect="greater", alpha=0.05, margin=0.05)
    assert tost["verdict"] == "refuted" and tost["decided_by"] == "p_tost" and tost["p_tost"] < 0.05
    assert "TOST" in tost["test"] and "p_tost" in tost["tests"]
    shown = verdicts.difference([2.0, 2.1, 1.9, 2.3], [1.0, 1.0, 1.0, 1.0], expect="greater", alpha=0.05)
    assert shown["verdict"] == "shown" and shown["decided_by"] == "p_expected"


def test_refuted_equivalence_and_noninferiority_carry_the_refuting_p():
    from dlps import verdicts

    far = [1.0, 1.1, 0.9, 1.05, 0.95]
    eq = verdicts.equivalence(far, margin=0.1, alpha=0.05)
    assert eq["verdict"] == "refuted" and eq["decided_by"] == "p_beyond" and eq["p_beyond"] < 0.05 < eq["p_tost"]
    worse = verdicts.noninferiority([-x for x in far], margin=0.1, alpha=0.05)
    assert worse["verdict"] == "refuted" and worse["decided_by"] == "p_opposite" and worse["p_opposite"] < 0.05


def test_a_refuted_mcnemar_carries_the_refuting_p():
    from dlps import verdicts

    worse = verdicts.rates_paired([0] * 8, [1] * 8, alpha=0.05)
    assert worse["verdict"] == "refuted" and worse["decided_by"] == "p_opposite" and worse["p_opposite"] < 0.05
    assert worse["p_expected"] == 1.0


def test_all_of_carries_the_deciding_p():
    from dlps import verdicts

    ok = {"verdict": "shown", "p_expected": 0.01, "decided_by": "p_expected", "effect": 1.0, "ci_low": 0.5,
          "ci_high": 1.5, "n": 5, "rule": "a", "tests": {"p_expected": "t"}}
    weak = ok | {"verdict": "inconclusive", "p_expected": 0.4, "rule": "b"}
    bad = ok | {"verdict": "refuted", "p_opposite": 0.003, "decided_by": "p_opposite", "rule": "c"}
    assert verdicts.p_of(verdicts.all_of({"a": ok, "b": weak})) == 0.4
    both = verdicts.all_of({"a": ok, "b": weak, "c": bad})
    assert both["decided_by"] == "p_refuting_part" and both["p_refuting_part"] == 0.003 and both["p_all_parts"] == 0.4
    assert verdicts.p_of(verdicts.all_of({"a": ok, "b": ok | {"p_expected": 0.02}})) == 0.02


def test_no_judge_hard_codes_an_interval_level():
    """Judges print an interval's level from its result (ci_label), so a changed α cannot leave a stale "95%"."""
    import re
    from pathlib import Path

    judges = Path(__file__).resolve().parents[1].glob("dlps/experiments/*/judge.py")
    stale = [(p.parent.name, m.group(0)) for p in judges for m in re.finditer(r"\d+% (?:CI|interval)\b", p.read_text())]
    assert not stale


def test_the_headline_keeps_tiny_p_values_readable_after_dvc_rounding():
    """`dvc metrics diff` rounds to 5 decimals: the headline stores −log10 p, so 4.2e-06 does not read 0.0."""
    from dlps.jobs.evaluate import headline

    rec = {"id": "x", "primary": True, "verdict": "shown", "decided_by": "p_expected", "effect": 1.0, "ci_low": 0.5,
           "ci_high": 1.5, "ci_level": 0.95, "tests": {"p_expected": "t", "p_opposite": "t"}, "p_expected": 4.2e-06,
           "p_opposite": 1.0, "p_adjusted": 0.0}
    both = headline([rec, rec | {"id": "y", "primary": False}])
    h = both["x"]
    assert set(h) >= {"verdict", "decided_by", "effect", "ci_low", "ci_high", "ci_level"} and "y" not in both
    assert round(h["neg_log10_p_expected"], 5) == pytest.approx(5.3768, abs=1e-4)
    assert h["neg_log10_p_opposite"] == 0 and h["neg_log10_p_adjusted"] == 300  # p = 0: capped, JSON has no inf
    assert not any(k.startswith("p_") for k in h)
