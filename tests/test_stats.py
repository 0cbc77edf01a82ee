"""Confidence intervals and paired tests against hand-computed cases."""

import math

import pytest

from dlps import stats


def test_summary_known_case():
    s = stats.summarize([1, 2, 3, 4, 5])
    # mean 3, sample std sqrt(2.5), t(0.975, df=4) = 2.7764451, half width = t * std / sqrt(5)
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert s["mean"] == 3 and s["n"] == 5 and s["median"] == 3
    assert s["std"] == pytest.approx(math.sqrt(2.5))
    assert s["ci_low"] == pytest.approx(3 - half, rel=1e-6) and s["ci_high"] == pytest.approx(3 + half, rel=1e-6)


def test_single_value_has_degenerate_interval():
    assert stats.summarize([2.0]) | {} == {"mean": 2.0, "std": 0.0, "ci_low": 2.0, "ci_high": 2.0,
                                           "ci_level": 0.95, "median": 2.0, "n": 1}


def test_paired_t_matches_one_sample_t_on_differences():
    a, b = [1.0, 2.0, 3.5, 4.0], [0.5, 1.0, 3.0, 3.0]
    r = stats.paired_test(a, b)
    d = [x - y for x, y in zip(a, b)]  # mean 0.75, sd 0.288675, t = 0.75 / (0.288675 / 2) = 5.196
    assert r["statistic"] == pytest.approx(5.196152, rel=1e-5)
    assert r["p_value"] == pytest.approx(0.013846, rel=1e-3)
    assert r["mean_diff"] == pytest.approx(sum(d) / 4)


def test_wilcoxon_all_positive_differences():
    r = stats.paired_test([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1], test="wilcoxon")
    assert r["p_value"] == pytest.approx(2 / 2 ** 6)  # exact two-sided: only the all-positive sign pattern


def test_constant_difference_is_reported_not_nan():
    r = stats.paired_test([2, 3, 4], [1, 2, 3], alternative="greater")
    assert r["p_value"] == 0.0 and r["mean_diff"] == 1.0
