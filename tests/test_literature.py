"""The literature check: its data file covers every experiment and reads paths that exist; the verdict logic."""

from __future__ import annotations

import json

import yaml
from report_fixture import NAMES, ROOT

from dlps.literature import LITERATURE_FILE, VERDICTS, check, lookup


def test_every_experiment_has_a_sourced_verified_row():
    refs = yaml.safe_load(LITERATURE_FILE.read_text())
    assert len(refs) >= 9 and {r["experiment"] for r in refs} == set(NAMES)
    for r in refs:
        assert r["source"] and r["verified"] and r["quantity"] and len(r["band"]) == 2, r
        assert r.get("comparable", True) or r.get("why"), r


def test_rows_on_the_committed_metrics_read_real_paths_and_comparable_is_the_majority():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    metrics = {n: json.loads((ROOT / "metrics" / f"{n}.json").read_text()) for n in NAMES
               if (ROOT / "metrics" / f"{n}.json").is_file()}
    if len(metrics) < len(NAMES):
        return  # a fresh clone without metrics: the fixture test below still runs
    rows = check(params, metrics)
    assert all(r["verdict"] in VERDICTS and r["source"] for r in rows)
    assert not [r for r in rows if "has no" in r["why"]], [r["why"] for r in rows if "has no" in r["why"]]
    assert sum(r["verdict"] == "not comparable" for r in rows) < len(rows) / 2


def test_verdicts_follow_band_requires_and_missing_paths(tmp_path):
    f = tmp_path / "lit.yaml"
    base = {"experiment": "e", "quantity": "q", "source": "s", "verified": "v", "note": "n", "why": "w"}
    f.write_text(yaml.safe_dump([
        base | {"path": "variants.0.001.acc.mean", "scale": 100, "band": [80, 90]},
        base | {"path": "derived.best", "band": [None, 0.5]},
        base | {"path": "derived.best", "band": [0, 1], "requires": {"e.n": [10, 20]}},
        base | {"path": "derived.best", "band": [0, 1], "comparable": False},
        base | {"path": "derived.missing", "band": [0, 1]},
    ]))
    metrics = {"e": {"variants": {"0.001": {"acc": {"mean": 0.85}}}, "derived": {"best": "0.7"}}}
    rows = check({"e": {"n": 5}}, metrics, path=f)
    assert [r["verdict"] for r in rows] == ["in band", "out of band", "not comparable", "not comparable",
                                            "not comparable"]
    assert rows[0]["ours"] == 85.0 and rows[1]["band"] == "≤ 0.5"
    assert "e.n" in rows[2]["why"] and rows[3]["why"] == "w" and "derived.missing" in rows[4]["why"]
    assert lookup({"a": {"b.c": {"d": 1}}}, "a.b.c.d") == 1
