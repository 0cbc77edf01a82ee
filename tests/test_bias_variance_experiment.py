"""The bias_variance experiment module: rows, determinism and the findings' verdicts."""

import copy
import json

import pytest

from dlps.experiments import bias_variance as exp
from dlps.params import ParamError
from dlps.pipeline import aggregate

CFG = {"seeds": [0, 1, 2], "n_datasets": 200, "n_train": 30, "n_test": 100, "noise_std": 0.3,
       "dd_n_train": 20, "dd_n_test": 200, "dd_input_dim": 5, "dd_noise_std": 0.2, "dd_draws": 10,
       "z_max": 3.0, "peak_tolerance": 0.25}


@pytest.fixture(scope="module")
def runs():
    return {v: exp.train(CFG, v, CFG["seeds"], None)["runs"] for v in exp.variants(CFG)}


def metrics_for(cfg, runs):
    return aggregate(exp, cfg, runs)


def test_schema_accepts_cfg_and_check_rejects_a_single_seed():
    exp.check(exp.SCHEMA.check("bias_variance", CFG))
    with pytest.raises(ParamError, match="bias_variance.seeds"):
        exp.check(CFG | {"seeds": [0]})


def test_p_grid_brackets_the_threshold():
    ps = exp.p_grid(40)
    assert ps[0] == 4 and 40 in ps and ps[-1] == 800 and ps == sorted(ps)


def test_rows_hold_exactly_the_metrics_as_plain_numbers(runs):
    for row in runs[exp.VARIANT]:
        assert set(row) == {"seed", *exp.METRICS}
        assert all(type(row[k]) in (int, float) for k in exp.METRICS)
    json.dumps(runs, allow_nan=False)


def test_same_seed_same_row_new_seed_new_row(runs):
    again = exp.train(CFG, exp.VARIANT, [0], None)["runs"][0]
    rows = runs[exp.VARIANT]
    assert again == rows[0] and rows[0]["total_d3"] != rows[1]["total_d3"]


def test_decomposition_adds_up_per_degree(runs):
    row = runs[exp.VARIANT][0]
    for d in exp.DEGREES:
        parts = row[f"bias2_d{d}"] + row[f"variance_d{d}"] + row["noise"]
        assert parts == pytest.approx(row[f"decomposed_d{d}"])
    assert row["noise"] == pytest.approx(CFG["noise_std"] ** 2)


def test_findings_show_every_expected_effect(runs):
    findings = exp.findings(CFG, metrics_for(CFG, runs))
    assert len(findings) == 4
    assert [f["shown"] for f in findings] == [True, True, True, True]
    json.dumps(findings, allow_nan=False)


def test_findings_say_not_shown_when_the_effects_are_absent(runs):
    m = metrics_for(CFG, runs)
    strict = CFG | {"z_max": 1e-9}  # no Monte Carlo estimate agrees to 1e-9 SE
    assert not exp.findings(strict, m)[0]["shown"] and "not shown" in exp.findings(strict, m)[0]["text"]
    flat = copy.deepcopy(m)
    flat["derived"]["optimum"] |= {"argmin_degree": 0, "argmin_per_seed": [0, 3, 5]}
    interior, old = exp.findings(CFG, flat)[1:3]
    assert not interior["shown"] and not old["shown"] and "not clearly shown" in old["text"]
    shifted = copy.deepcopy(m)
    shifted["derived"]["double_descent"]["peak_ratio"] = 2.0
    dd = exp.findings(CFG, shifted)[3]
    assert not dd["shown"] and "not shown" in dd["text"]


def test_plot_writes_both_figures(runs, tmp_path):
    files = exp.plot(CFG, metrics_for(CFG, runs), runs, {}, tmp_path)
    assert [f["file"] for f in files] == ["decomposition.png", "double_descent.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 0 for f in files)
