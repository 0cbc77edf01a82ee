"""Report building blocks and the whole build on a fake project that follows the metrics contract."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from report_fixture import NAMES, ROOT, make_project

from dlps.report import README_END, README_START, Doc, update_readme
from dlps.report_data import experiment_verdict, headline


@pytest.fixture
def built(tmp_path, monkeypatch):
    from dlps.report import build

    params = make_project(tmp_path, monkeypatch)
    result = build(params)
    return tmp_path, result


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


def test_experiment_verdict_is_the_primary_findings_common_verdict_or_mixed():
    assert experiment_verdict([{"verdict": "shown"}, {"verdict": "shown"}]) == "shown"
    assert experiment_verdict([{"verdict": "shown"}, {"verdict": "refuted"}]) == "mixed"
    assert experiment_verdict([{"verdict": "inconclusive"}]) == "inconclusive"


def test_headline_reads_the_effect_in_its_scale_and_unit_with_interval_and_p():
    f = {"effect": 0.0135, "ci95_low": 0.004, "ci95_high": 0.023, "n": 3, "p_value": 0.012, "alpha": 0.05,
         "test": "paired t-test", "scale": 100, "unit": "pp"}
    assert headline(f) == "1.35 pp [95% CI 0.4, 2.3]; p = 0.012 (α = 0.05), paired t-test"
    assert "one seed, no CI" in headline(f | {"n": 1})
    assert "range over 3 seeds" in headline(f | {"test": "deterministic check", "p_value": None})


def test_build_writes_every_output_from_the_contract(built):
    root, result = built
    index, md = (root / "report/index.html").read_text(), (root / "report/report.md").read_text()
    summary = index.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert summary.count('class="card"') == len(NAMES) and summary.count("<img") == len(NAMES)
    assert "✘ refuted" in summary and "✔ shown" in summary and "? inconclusive" in summary
    assert "1.35 pp [95% CI 0.4, 2.3]; p = 0.012" in summary
    assert index.index('id="summary"') < index.index("<nav>")  # the summary is the first screen
    assert md.count("dvc exp run -S '") == len(NAMES) and md.count("### Try it") == len(NAMES)
    assert "exact binomial" in md and "deterministic check" in md  # methods list the rules applied
    claims = json.loads((root / "metrics/claims.json").read_text())["claims"]
    l2_claim = next(c for c in claims if c["finding"] == "l2/old_claim")
    assert l2_claim["verdict"] == "does not hold" and l2_claim["claim"] in md
    assert next(c for c in claims if c["finding"] == "dropout/old_claim")["verdict"] == "not testable as stated"
    slides = (root / "report/slides.html").read_text()
    assert slides.count("<section>") >= 11 and slides.count('<aside class="notes">') == slides.count("<section>")
    assert not re.search(r'(src|href)="(https?:)?//', slides) and "@media print" in slides
    defense = (root / "report/defense.md").read_text()
    assert defense.count("*How many seeds?*") == len(NAMES) and defense.count("*Which test?*") == len(NAMES)
    assert "dlps/experiments/sentiment/judge.py" in defense and "72 seeds" in defense
    lit = json.loads((root / "metrics/literature.json").read_text())
    assert lit == result and len(lit["rows"]) >= 9 and not (root / "report/literature.json").exists()
    readme = (root / "README.md").read_text()
    assert "main: refuted" in readme and f"| {l2_claim['claim']} | does not hold |" in readme
    assert readme.startswith("intro\n") and readme.endswith("outro\n")


def test_writeups_cover_every_experiment_with_one_sentence_questions_and_real_try_keys():
    writeups = yaml.safe_load((ROOT / "dlps/experiments/writeups.yaml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert list(writeups) == list(NAMES)
    for name, w in writeups.items():
        assert w["title"] and w["setup"] and w["question"].endswith("?") and ". " not in w["question"], name
        figures = ROOT / "plots" / name / "figures.json"
        if figures.is_file():
            assert w["key_figure"] in {f["file"] for f in json.loads(figures.read_text())}, name
        key = re.fullmatch(r"dvc exp run -S '([\w.]+)=[^']+'", w["try"]["command"]).group(1)
        section, leaf = key.split(".")
        assert section == name and leaf in params[name], key
        assert w["try"]["question"].endswith("?") and "compare.py" in w["try"]["compare"]


def test_defense_quotes_the_reason_for_a_size_from_the_params_comment(tmp_path):
    from dlps.defense import param_comments

    f = tmp_path / "params.yaml"
    f.write_text("seeds: [0]\ndropout:\n  n_train: 2000   # small enough to overfit\n  lr: 0.1\nl2:\n  n_train: 4  # budget\n")
    assert param_comments(f) == {"dropout.n_train": "small enough to overfit", "l2.n_train": "budget"}
