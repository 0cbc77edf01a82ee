"""Report building blocks and the whole build on a fake project that follows the metrics contract."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from report_fixture import NAMES, ROOT, make_project

from dlps.experiments import load
from dlps.report.build import README_END, README_START, update_readme
from dlps.report.doc import Doc, is_number
from dlps.report.data import (Data, bottom_line, deviations, experiment_verdict, headline, p_text, power_rows,
                              rule_meaning)


@pytest.fixture
def built(tmp_path, monkeypatch):
    from dlps.report.build import build

    params = make_project(tmp_path, monkeypatch, git=True)
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
    from dlps.report.repro import run_cost

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
    f = {"effect": 0.0135, "ci_low": 0.004, "ci_high": 0.023, "n": 3, "p_expected": 0.012, "alpha": 0.05,
         "decided_by": "p_expected", "test": "one-sided paired t-test (> 0)", "scale": 100, "unit": "pp"}
    assert headline(f) == "1.35 pp [95% CI 0.4, 2.3]; one-sided paired t-test (> 0) p = 0.012 (α = 0.05)"
    assert "one seed, no CI" in headline(f | {"n": 1})
    assert "range over 3 seeds" in headline(f | {"test": "deterministic check", "decided_by": None})


def test_build_writes_every_output_from_the_contract(built):
    root, result = built
    index, md = (root / "report/index.html").read_text(), (root / "report/report.md").read_text()
    summary = index.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert summary.count('class="card"') == len(NAMES) and summary.count("<img") == len(NAMES)
    assert "✘ refuted" in summary and "✔ shown" in summary and "? inconclusive" in summary
    assert "1.35 pp [95% CI 0.4, 2.3]" in summary
    assert "one-sided paired t-test (&gt; 0) p = 0.012 (α = 0.05); Holm-adjusted p = " in summary
    assert "…" not in summary and "line-clamp" not in index and "ellipsis" not in index
    assert index.index('id="bottom-line"') < index.index('id="summary"') < index.index("<nav>")
    assert md.count("dvc exp run -S '") == len(NAMES) and md.count("### Try it") == len(NAMES)
    assert "exact binomial" in md and "deterministic check" in md  # methods list the rules applied
    claims = json.loads((root / "metrics/claims.json").read_text())["claims"]
    l2_claim = next(c for c in claims if c["finding"] == "l2/old_claim")
    assert l2_claim["verdict"] == "does not hold" and l2_claim["claim"] in md
    assert next(c for c in claims if c["finding"] == "dropout/old_claim")["verdict"] == "not testable as stated"
    slides = (root / "report/slides.html").read_text()
    assert slides.count("<section>") >= 15 and slides.count('<aside class="notes">') == slides.count("<section>")
    assert not re.search(r'(src|href)="(https?:)?//', slides) and "@media print" in slides
    defense = (root / "report/defense.md").read_text()
    assert defense.count("*How many seeds?*") == len(NAMES) and defense.count("*Which test?*") == len(NAMES)
    assert "dlps/experiments/sentiment/judge.py" in defense and "72 seeds" in defense
    lit = json.loads((root / "metrics/literature.json").read_text())
    assert lit == result and len(lit["rows"]) >= 9 and not (root / "report/literature.json").exists()
    readme = (root / "README.md").read_text()
    assert f"| {l2_claim['claim']} | does not hold |" in readme
    assert re.search(r"\| L2 [^|]+ \| refuted \| 1 refuted \|", readme)  # primaries counted by verdict
    assert readme.startswith("intro\n") and readme.endswith("outro\n")


def test_writeups_cover_every_experiment_with_one_sentence_questions_and_real_try_keys():
    writeups = {name: load(name).data("writeup.yaml") for name in NAMES}
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert all(writeups.values()), "every experiment folder has its writeup.yaml"
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
    from dlps.report.defense import param_comments

    f = tmp_path / "params.yaml"
    f.write_text("seeds: [0]\ndropout:\n  n_train: 2000   # small enough to overfit\n  lr: 0.1\nl2:\n  n_train: 4  # budget\n")
    assert param_comments(f) == {"dropout.n_train": "small enough to overfit", "l2.n_train": "budget"}


def _data(claims: list[str], primaries: list[str], holm: bool = True) -> Data:
    found = [{"id": f"f{i}", "primary": True, "verdict": v, **({"p_adjusted": 0.1} if holm else {})}
             for i, v in enumerate(primaries)] + [{"id": "s", "primary": False, "verdict": "shown"}]
    return Data({}, ["a"], {"a": {"findings": found}}, {}, {"a": []}, claims=[{"verdict": v} for v in claims])


def test_bottom_line_counts_claims_and_primary_findings():
    line = bottom_line(_data(["holds", "holds", "does not hold", "inconclusive", "not testable as stated"],
                             ["shown", "refuted", "inconclusive", "inconclusive"]))
    assert line == ("Bottom line: of the old project's 5 claims, 2 hold, 1 does not hold and 2 stay open "
                    "(inconclusive); of the 4 primary findings, 1 is shown, 1 refuted and 2 inconclusive "
                    "(after Holm's adjustment within each experiment).")  # the secondary finding is not counted
    assert "no old claims" in bottom_line(_data([], ["shown"], holm=False)).lower()
    assert bottom_line(_data([], ["shown"], holm=False)).endswith("0 inconclusive.")


def test_headline_is_the_writeups_finding_with_its_unit_and_meaning():
    main = {"id": "main", "primary": True, "verdict": "shown", "effect": 0.199, "ci_low": 0.193, "ci_high": 0.207,
            "n": 30, "p_expected": 9.3e-10, "decided_by": "p_expected", "alpha": 0.025,
            "test": "one-sided exact sign test (> 0)", "unit": "", "claim": "c",
            "rule": "one-sided exact sign test of test MSE, degree 1 − degree 3 > 0 at α = 0.025",
            "p_adjusted": 1.9e-9, "family": "x: Holm over its 2 primary findings", "ci_level": 0.95}
    other = main | {"id": "other", "effect": -0.0223, "ci_low": -0.026, "ci_high": -0.0186, "unit": "pp",
                    "scale": 100, "verdict": "refuted", "p_opposite": 1.5e-31, "decided_by": "p_opposite",
                    "test": "one-sided exact sign test, opposite direction (< 0)", "p_adjusted": 3e-31}
    writeup = {"headline": "other", "headline_unit": "MSE", "headline_meaning": "a minus b:\n lower is better"}
    data = Data({}, ["x"], {"x": {"findings": [main, other]}}, {"x": writeup}, {"x": []})
    h = data.headline("x")
    assert h["finding"] is other and h["others"] == [main]
    assert h["number"] == "-2.23 pp [95% CI -2.6, -1.86]"  # the record's unit stands; headline_unit only fills a gap
    assert h["meaning"] == "a minus b: lower is better"
    assert h["p"] == ("one-sided exact sign test, opposite direction (< 0) p = 1.5e-31 (α = 0.025); Holm-adjusted "
                      "p = 3.0e-31 "
                      "(x: Holm over its 2 primary findings)")
    data.writeups["x"] = {"headline_unit": "MSE", "headline_meaning": "degree 1 minus degree 3"}  # first primary
    h = data.headline("x")
    assert h["finding"] is main and h["number"].startswith("0.199 MSE [95% CI")
    assert h["meaning"] == "degree 1 minus degree 3"
    data.writeups["x"] = {}
    assert data.headline("x")["meaning"] == "test MSE, degree 1 − degree 3; the claim expects it above 0"


def test_p_values_are_labelled_by_test_side_and_adjustment():
    f = {"p_expected": 0.01, "p_tost": 0.3, "decided_by": "p_expected", "alpha": 0.025, "verdict": "shown",
         "test": "one-sided paired t-test (> 0)"}
    assert p_text(f) == "one-sided paired t-test (> 0) p = 0.01 (α = 0.025)"
    tost = f | {"decided_by": "p_tost", "p_tost": 0.004, "test": "paired TOST within ±0.01", "verdict": "refuted"}
    assert p_text(tost).startswith("paired TOST within ±0.01 p = 0.004")  # the TOST's p, never called a t-test's
    assert p_text({"decided_by": None, "verdict": "shown"}) == ""
    check = {"test": "deterministic check", "rule": "deterministic check: loss gap <= 1e-06 in every seed"}
    assert rule_meaning(check) == "largest over seeds of: loss gap; it must be at most 1e-06"
    assert rule_meaning({"rule": "paired TOST: |gap| < 0.05 at α = 0.025 (two one-sided t-tests)"}) == \
        "gap; the claim needs it within ±0.05"


def test_only_bare_numbers_are_right_aligned_and_cells_carry_their_header_for_phones():
    assert is_number("90.8") and is_number(3) and is_number("-1.2e-05") and is_number("65.4%")
    assert not any(is_number(v) for v in ("0.9 [0.88, 0.92]", "3 of 5 seeds", "1.00e-04–1.00e-04", "9/0", True))
    doc = Doc()
    doc.table(["metric", "mean"], [["0.9 [0.88, 0.92] (median 0.9)", "0.9"]])
    html = doc.html[-1]
    assert '<td data-label="metric">0.9 [0.88' in html and '<td class="num" data-label="mean">0.9</td>' in html
    assert '<div class="scroll"><table>' in html


def test_deviations_and_the_power_table_are_read_from_the_protocol_files():
    assert deviations("# Deviations\n\nNone.\n") == [] and deviations("") == []
    assert deviations("# D\n\n- seeds 3, not 8,\n  for time\n- no GPU\n") == ["seeds 3, not 8, for time", "no GPU"]
    assert deviations("# D\n\nThe l2 run\nstopped early.\n\nAnother.\n") == ["The l2 run stopped early.", "Another."]
    rows = power_rows("x\n| experiment | a \\| b | power with them |\n|---|---|---|\n| l2 | q | 17% |\n\nafter\n")
    assert rows == [{"experiment": "l2", "a \\| b": "q", "power with them": "17%"}]


def test_report_names_the_protocol_commit_its_deviations_and_the_pilot(built):
    import subprocess

    root, _ = built
    index, md = (root / "report/index.html").read_text(), (root / "report/report.md").read_text()
    commit = subprocess.run(["git", "log", "-1", "--format=%H", "--", "docs/protocol.md"], cwd=root,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert len(commit) == 40 and f"committed in {commit}" in md and commit in index
    assert "1. **The l2 run used 3 seeds instead of 8,**\n   because the machine was shared" in md  # as written
    devs = index.split("Deviations from the protocol</h3>", 1)[1].split("<h2", 1)[0]
    assert "<ol>" in devs and "<strong>The l2 run used 3 seeds instead of 8,</strong>" in devs  # rendered
    assert "<code>params.yaml</code>" in devs and "**" not in devs and "`" not in devs
    pilot = md.split("## Pilot (exploratory)", 1)[1].split("\n## ", 1)[0]
    assert "Exploratory, not evidence" in pilot and pilot.count("shown (exploratory)") == len(NAMES)
    assert "below it: l2 main (17%)" in md  # the protocol's power table
    env = md.split("### Environment", 1)[1].split("###", 1)[0]
    assert "uncommitted" not in env  # the report itself and other untracked files are not code changes
    from dlps.tools.dag import report_stage

    assert {"docs/protocol.md", "docs/deviations.md", "metrics/pilot/findings.json"} <= set(report_stage({})["deps"])


def test_environment_reports_uncommitted_changes_to_tracked_code_only(built):
    from dlps.report.repro import reproducibility

    root, _ = built
    (root / "stages").mkdir()
    (root / "stages/scratch.py").write_text("untracked\n")

    def env() -> str:
        doc = Doc()
        reproducibility(doc, {"data": {"datasets": []}}, [])
        return "\n".join(doc.md)

    assert "uncommitted" not in env()
    (root / "params.yaml").write_text((root / "params.yaml").read_text() + "# edited\n")
    assert "with uncommitted changes to code or params" in env()


def test_the_experiments_come_first_and_their_set_up_is_filled_from_the_run(built):
    root, _ = built
    index, md = (root / "report/index.html").read_text(), (root / "report/report.md").read_text()
    first = index.index(f'<h2 id="{NAMES[0]}">')
    assert all(first < index.index(f'id="{s}"') for s in ("protocol", "claims", "literature", "methods", "pilot"))
    setup = md.split("## Sentiment analysis", 1)[1].split("### Set-up", 1)[1].split("*Parameters:*", 1)[0]
    assert "on 3 training seeds (0–2)" in setup and "one full-size run" not in setup and "{" not in setup
    assert index.count('<a class="thumb" href="#fig-') == len(NAMES) and 'id="fig-sentiment"' in index


def test_environment_rows_come_from_the_stage_records_or_say_they_do_not(built, tmp_path):
    from dlps.report.repro import environment_rows
    from dlps.timing import timed

    root, _ = built
    env = (root / "report/report.md").read_text().split("### Environment", 1)[1].split("###", 1)[0]
    assert "scikit-learn " in env and "the run's stage records predate this field" in env  # fixture records are old
    with timed(tmp_path / "t.json", "train_x"):
        pass
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["python"] and "scikit-learn" in record["packages"] and record["platform"]
    rows = dict(environment_rows([record, record | {"python": "3.0.1"}]))
    assert rows["python"].startswith(f"{record['python']} | 3.0.1 (from the run's 2 stage records)")
    assert "1 of 2 stage records predate" in dict(environment_rows([record, {"stage": "old"}]))["packages"]


def test_slides_are_a_seven_minute_talk(built):
    import html as html_lib

    root, _ = built
    slides = (root / "report/slides.html").read_text()
    notes = [html_lib.unescape(n) for n in re.findall(r'<aside class="notes">(.*?)</aside>', slides, re.S)]
    words = sum(len(n.split()) for n in notes)
    assert words <= 1100, words
    sentences = [len(re.findall(r"[.?!](?=\s|$)", n)) for n in notes]
    assert all(1 <= k <= 3 for k in sentences), sentences
    assert "<h2>Methods: the protocol" in slides and "<h2>Takeaways and limitations</h2>" in slides
    methods = slides.split("<h2>Methods", 1)[1].split("</section>", 1)[0]
    assert "α = 0.05" in methods and "Holm" in methods and "Seeds per experiment" in methods and "Power" in methods
    sources = slides.split("<h2>Sources", 1)[1].split("</section>", 1)[0]
    lit = json.loads((root / "metrics/literature.json").read_text())["rows"]
    assert all(html_lib.escape(r["source"]) in sources for r in lit if r.get("source"))
    claims = json.loads((root / "metrics/claims.json").read_text())["claims"]
    assert not any(c["measured"][:160] in slides for c in claims if len(c["measured"]) > 160)  # no cut sentences
    assert 'class="row wide"' in slides  # the fixture's three-panel figure gets the full width
    assert "location.hash" in slides and "touchstart" in slides and "click" in slides


def test_throughput_section_comes_from_the_committed_bench_and_roofline(tmp_path, monkeypatch):
    import json

    from dlps.report.doc import Doc
    from dlps.report.repro import throughput

    monkeypatch.chdir(tmp_path)
    assert not throughput(Doc())  # no bench yet: nothing to show
    (tmp_path / "metrics/bench").mkdir(parents=True)
    now = {"l2": {"seed_runs": 4, "train_s": 100.0, "seed_runs_per_min": 2.4, "train_flops": 5e12},
           "overfitting": {"seed_runs": 3, "train_s": 1.0, "seed_runs_per_min": 180.0, "train_flops": None}}
    (tmp_path / "metrics/bench/roofline.json").write_text(json.dumps({
        "before_rev": "abc1234", "before": {"l2": {"seed_runs_per_min": 1.2}}, "now": now, "ceiling_key": "fp32, 2 threads",
        "cpu": "Some CPU", "roofline": {"ceiling_flops_per_s": 1e11, "train_flops": 5e12, "seconds_at_ceiling": 50.0,
                                        "recorded_train_s": 100.0, "fraction_of_ceiling": 0.5}}))
    (tmp_path / "metrics/bench/bench.json").write_text(json.dumps({
        "cpu": "Other CPU", "flush_denormal": True,
        "workloads": [{"workload": "CNN (l2)", "threads": 1, "fraction_of_ceiling": 0.61,
                       "at_once": {"jobs": 2, "fraction_of_ceiling": 0.55}},
                      {"workload": "LSTM (sentiment)", "threads": 1, "fraction_of_ceiling": 0.4,
                       "flush_denormal": {"speedup_flushed": 7.04, "faster": "flushed"}}],
        "overhead": {"dvc_repro_noop_s": 1.93}}))
    doc = Doc()
    assert throughput(doc)
    md = "\n".join(doc.md)
    assert "| l2 | 1.2 → 2.4 | 100.0 s | 50% |" in md and "| overfitting | – → 180.0 | 1.0 s | not counted |" in md
    assert "its train stages took 100 s: 50% of the ceiling" in md and "Some CPU" in md
    assert "| CNN (l2) | 1 | 61% | 55% (2 jobs at once) | not measured |" in md and "nothing to do: 1.93 s" in md
    assert "| LSTM (sentiment) | 1 | 40% | the same (one job) | ×7.04 (flushed) |" in md
    assert "The bench ran on Other CPU, not the run's CPU (Some CPU)" in md


def test_a_log_axis_within_one_decade_gets_several_tick_labels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dlps.experiments.l2.figures import _log_ticks

    fig, ax = plt.subplots()
    ax.plot([1, 2], [2.5, 14])  # the weight norms' range: one default label (10) only
    ax.set_yscale("log")
    _log_ticks(ax.yaxis)
    fig.canvas.draw()
    low, high = ax.get_ylim()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text() and low <= t.get_position()[1] <= high]
    plt.close(fig)
    assert len(labels) >= 3, labels


def test_compare_lists_a_changed_verdict_with_its_deciding_test_on_both_sides():
    from dlps.report.compare import _change_row, verdict_changes

    side = lambda verdict, by, x: {"verdict": verdict, "decided_by": by, f"neg_log10_{by}": x}  # noqa: E731
    diff = {"metrics/headline/l2.json": {
        f"{fid}.{k}": {"old": old.get(k), "new": new.get(k)} for fid, old, new in (
            ("beats_baseline", side("inconclusive", "p_expected", 0.6), side("refuted", "p_tost", 2.0)
             | {"effect": 0.003, "ci_low": -0.001, "ci_high": 0.007}),
            ("largest_underfits", side("shown", "p_expected", 9.0), side("shown", "p_expected", 8.0)))
        for k in {*old, *new}}}
    changes = verdict_changes(diff)
    assert [c["finding"] for c in changes] == ["l2/beats_baseline"]
    row = _change_row(changes[0])
    assert row[1] == "inconclusive → refuted" and row[2] == "p_expected, p = 0.25" and row[3] == "p_tost, p = 0.01"
    assert row[5] == "[-0.001, 0.007]"
