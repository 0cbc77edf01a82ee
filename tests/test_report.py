"""Report building blocks: the claims judge, the HTML/Markdown document, the README results block."""

from __future__ import annotations

import yaml

from dlps.claims import CLAIMS_FILE, judge
from dlps.experiments import REGISTRY
from dlps.report import README_END, README_START, Doc, update_readme, verdict


def test_every_claim_names_a_registered_experiment_or_a_time_limit():
    claims = yaml.safe_load(CLAIMS_FILE.read_text())
    assert len(claims) == 9
    for c in claims:
        assert c["tested_by"] and ("finding" in c) != ("total_minutes_at_most" in c)
        if "finding" in c:
            assert c["finding"].split("/")[0] in {"dropout", "l2", "early_stopping", "bias_variance",
                                                   "vanishing_gradients", "architectures", "sentiment", "numpy_rnn"}


def test_judge_uses_the_finding_verdict_and_the_recorded_time(tmp_path):
    f = tmp_path / "claims.yaml"
    f.write_text(yaml.safe_dump([
        {"claim": "a", "tested_by": "x", "finding": "e/old_claim"},
        {"claim": "b", "tested_by": "x", "finding": "e/other"},
        {"claim": "c", "tested_by": "x", "finding": "missing/old_claim"},
        {"claim": "d", "tested_by": "x", "total_minutes_at_most": 45},
    ]))
    findings = {"e": [{"id": "old_claim", "shown": False, "text": "measured 3"},
                      {"id": "other", "shown": True, "verdict": "not testable as stated", "text": "t"}]}
    rows = judge(findings, total_wall_s=46 * 60, path=f)
    assert [r["verdict"] for r in rows] == ["does not hold", "not testable as stated", "not tested", "does not hold"]
    assert rows[0]["measured"] == "measured 3" and "46" in rows[3]["measured"]
    assert judge(findings, total_wall_s=60, path=f)[3]["verdict"] == "holds"


def test_every_registered_experiment_has_a_claim_or_is_new():
    ids = {c["finding"].split("/")[0] for c in yaml.safe_load(CLAIMS_FILE.read_text()) if "finding" in c}
    assert set(REGISTRY) - ids <= {"overfitting"}


def test_verdict_summary():
    assert verdict([{"shown": True}, {"shown": True}]) == "shown"
    assert verdict([{"shown": True}, {"shown": False}]) == "mixed"
    assert verdict([{"shown": False}]) == "notshown"


def test_doc_renders_the_same_content_to_html_and_markdown():
    doc = Doc()
    doc.heading(1, "T")
    doc.heading(2, "Sec <1>", "sec")
    doc.para("a & b")
    doc.table(["h|1", "h2"], [["x|y", 1.5]])
    html, md = doc.render_html("t"), doc.render_md()
    assert "Sec &lt;1&gt;" in html and 'href="#sec"' in html and "a &amp; b" in html
    assert "## Sec <1>" in md and "- [Sec <1>](#sec)" in md and "x\\|y" in md


def test_readme_block_is_rewritten_between_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold\n{README_END}\noutro\n")
    update_readme(readme, "| exp | shown | text |\n")
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "| exp | shown | text |" in text


def test_run_cost_gives_a_wall_time_only_for_one_contiguous_run():
    from dlps.report import run_cost

    one = [{"stage": s, "started": 1000.0 + 11 * i, "wall_s": 10.0, "peak_rss_mib": 100.0 * (i + 1)}
           for i, s in enumerate("abc")]
    cost = run_cost(one)
    assert cost["total_s"] == 30.0 and cost["median_s"] == 10.0 and cost["peak_mib"] == 300.0
    assert cost["span_s"] == 32.0  # 1000 -> 1032: stage times plus DVC's second between stages
    rerun = one[:2] + [one[2] | {"started": 1000.0 + 3600}]  # one stage re-run an hour later
    assert run_cost(rerun)["span_s"] is None
    assert run_cost([{k: v for k, v in t.items() if k != "started"} for t in one])["span_s"] is None
