"""The literature check: one data file per experiment folder, every row a published result or a theory check with
the place in its source; bands judged by intervals (in, out, overlaps); theory checks never counted as agreement."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from report_fixture import NAMES, ROOT

from dlps.experiments import load
from dlps.report.literature import KINDS, VERDICTS, check, fill, judge, summary


def _refs() -> list[dict]:
    return [{"experiment": n, **r} for n in NAMES for r in load(n).data("literature.yaml", [])]


def _committed() -> tuple[dict, dict] | None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    metrics = {n: json.loads((ROOT / "metrics" / f"{n}.json").read_text()) for n in NAMES
               if (ROOT / "metrics" / f"{n}.json").is_file()}
    return (params, metrics) if len(metrics) == len(NAMES) else None


def test_every_row_has_a_kind_its_source_and_the_place_in_it():
    assert not (ROOT / "dlps/report/literature.yaml").exists(), "the rows live in the experiment folders"
    refs = _refs()
    assert len(refs) >= 9 and {r["kind"] for r in refs} == set(KINDS)
    for r in refs:
        raw = yaml.safe_load((load(r["experiment"]).folder / "literature.yaml").read_text())
        assert all("experiment" not in row for row in raw), "the folder names the experiment"
        assert r["kind"] in KINDS and r["quantity"] and r["source"] and r["where"] and r["figure"], r
        assert r.get("path") or r.get("finding"), r
        assert r.get("comparable", True) or r.get("why"), r
        assert r.get("band") is None or len(r["band"]) == 2, r
        text = " ".join(str(r.get(k, "")) for k in ("source", "where", "figure", "note"))
        # the place in the source, not how it was looked up
        assert not re.search(r"re-read|re-checked|search corpus|was not opened|verified in", text), r


def test_the_l2_row_is_not_comparable_and_the_bilstm_has_no_row_of_its_own():
    l2 = [r for r in _refs() if r["experiment"] == "l2"]
    assert l2 and all(r["comparable"] is False and "SGD steps" in r["why"] for r in l2)
    assert not [r for r in _refs() if "bilstm" in str(r.get("path", "")) + str(r.get("finding", ""))]
    run = _committed()
    if run:
        rows = check(*run)
        assert {r["verdict"] for r in rows if r["experiment"] == "l2"} == {"not comparable"}
        why = next(r["why"] for r in rows if r["experiment"] == "l2")
        assert "{" not in why and "SGD steps" in why  # the run's own numbers filled in


def test_no_in_band_row_without_its_own_source_and_theory_rows_apart():
    run = _committed()
    if not run:
        return  # a fresh clone without metrics: the synthetic tests below still run
    rows = check(*run)
    assert all(r["kind"] in KINDS and r["verdict"] in VERDICTS[r["kind"]] for r in rows)
    assert not [r["why"] for r in rows if "has no" in r["why"]]
    for r in rows:
        if r["verdict"] == "in band":
            assert r["kind"] == "published" and r["figure"] and r["where"], r
            assert r["interval"] and not r["source"].lower().startswith("same"), r
    assert "in band" not in {r["verdict"] for r in rows if r["kind"] == "theory"}
    assert all("kind" in r for r in json.loads(json.dumps({"rows": rows}))["rows"])  # metrics/literature.json
    assert summary(rows).index("Published") < summary(rows).index("Theory")


def _ref(**kw) -> dict:
    return {"experiment": "e", "kind": "published", "quantity": "q", "source": "s", "where": "w", "figure": "f",
            "note": "", "why": "w", **kw}


def test_the_band_rule_reads_the_interval_not_the_point():
    assert judge(0.91, 0.95, [0.9, 1.0], "published") == "in band"
    assert judge(0.80, 0.85, [0.9, 1.0], "published") == "out of band"
    assert judge(0.85, 0.95, [0.9, 1.0], "published") == "overlaps"  # the point 0.9 is inside, the interval is not
    assert judge(None, None, [0.9, 1.0], "published") == "inconclusive"
    assert judge(-32.0, -31.0, [None, -30.1], "theory") == "consistent"
    assert judge(-30.5, -29.0, [None, -30.1], "theory") == "overlaps"
    stat = lambda mean, lo, hi, n=5: {"mean": mean, "std": 0.01, "ci_low": lo, "ci_high": hi, "n": n}
    metrics = {"e": {"variants": {"0.001": {"acc": stat(0.85, 0.84, 0.86), "wide": stat(0.85, 0.75, 0.95),
                                            "one": stat(0.85, 0.85, 0.85, n=1)}},
                     "derived": {"per_seed": [0.9, 1.0, 1.1], "best": 3},
                     "findings": [{"id": "rate", "effect": 4 / 6, "ci_low": 0.22, "ci_high": 0.96,
                                   "ci_level": 0.95, "test": "exact binomial"}]}}
    refs = [_ref(path="variants.0.001.acc", scale=100, band=[80, 90]),
            _ref(path="variants.0.001.acc", scale=100, band=[87, 90]),
            _ref(path="variants.0.001.wide", scale=100, band=[80, 90]),
            _ref(path="variants.0.001.one", band=[0.8, 0.9]),
            _ref(path="derived.per_seed", band=[0.9, 1.1], kind="theory"),
            _ref(finding="rate", scale=100, band=[90, 100]),
            _ref(path="variants.0.001.acc", band=[0, 1], requires={"e.n": [10, 20]}),
            _ref(path="derived.missing", band=[0, 1]),
            _ref(path="derived.best", band=[0, 1], comparable=False, why="only {p:e.n} seeds")]
    rows = check({"e": {"n": 5}}, metrics, refs)
    assert [r["verdict"] for r in rows] == ["in band", "out of band", "overlaps", "inconclusive", "consistent",
                                            "overlaps", "not comparable", "not comparable", "not comparable"]
    assert rows[0]["ours"] == 85.0 and rows[0]["interval"] == pytest.approx([84.0, 86.0])
    assert rows[3]["interval"] is None
    assert rows[4]["interval"] == [0.9, 1.1] and "range over 3 seeds" in rows[4]["why"]
    # a 4/6 rate: its exact 22–96% interval overlaps a 90–100% band, whatever its point says
    assert rows[5]["interval"] == pytest.approx([22.0, 96.0]) and "finding rate" in rows[5]["why"]
    assert "e.n" in rows[6]["why"] and "derived.missing" in rows[7]["why"] and rows[8]["why"] == "only 5 seeds"
    assert summary(rows).startswith("Published results: 1 in band, 1 out of band, 2 overlaps, 1 inconclusive")


def test_a_test_set_sampling_term_widens_the_interval_over_seeds():
    s = {"mean": 0.9, "std": 0.001, "ci_low": 0.898, "ci_high": 0.902, "n": 3}
    metrics = {"e": {"variants": {"m": {"acc": s, "n_a": {"mean": 24000.0}, "n_b": {"mean": 1000.0}}}}}
    ref = _ref(path="variants.m.acc", band=[0.8, 1.0], sampling_n=["variants.m.n_a.mean", "variants.m.n_b.mean"])
    (row,) = check({}, metrics, [ref])
    low, high = row["interval"]
    assert low < 0.898 and high > 0.902 and "25,000 test items" in row["why"]
    assert fill("{p:a.b} of {pct:a.f} in {sgd_steps:a} steps, {m:x}", {"a": {"b": 2, "f": 0.05, "n_train": 100,
                                                                     "batch_size": 64, "epochs": 3}}, {}) \
        == "2 of 5% in 6 steps, n/a"


def test_the_section_shows_published_results_and_theory_checks_apart():
    from dlps.report.doc import Doc
    from dlps.report.literature import section

    row = {"experiment": "x", "quantity": "q", "ours": 0.5, "interval": [0.4, 0.6], "band": "0.3–0.7", "why": "",
           "source": "S", "where": "Table 1", "figure": "0.5"}
    doc = Doc()
    section(doc, [{**row, "kind": "published", "verdict": "in band"},
                  {**row, "kind": "theory", "verdict": "consistent", "quantity": "a bound"}])
    md = "\n".join(doc.md)
    published, theory = md.split("### Theory checks")
    assert "in band" in published and "a bound" not in published and "0.5 [0.4, 0.6]" in published
    assert "consistent" in theory and "Published results: 1 in band" in md
