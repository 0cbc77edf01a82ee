"""The bias_variance experiment: rows, determinism, and the findings' rules on real and hand-built replicates."""

import json

import numpy as np
import pytest

from dlps.experiments.bias_variance import figures, spec, train
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.schema import ParamError
from dlps.experiments import load

EXP = load("bias_variance")

CFG = {"seeds": [0, 1, 2], "n_datasets": 200, "n_train": 30, "n_test": 100, "noise_std": 0.3,
       "cv_folds": 5, "dd_n_train": 20, "dd_n_test": 200, "dd_input_dim": 5, "dd_noise_std": 0.2, "dd_draws": 10,
       "identity_margin": 0.05, "alpha": 0.05}
V = spec.VARIANT


@pytest.fixture(scope="module")
def runs():
    return {v: train.train(CFG, v, CFG["seeds"], None)["runs"] for v in spec.variants(CFG)}


def judged(cfg, runs):
    m = aggregate(EXP, cfg, runs)
    found = findings_of(EXP, cfg, m, runs)
    check_findings(spec.NAME, found)
    return m, {f["id"]: f for f in found}


def test_schema_accepts_cfg_and_check_rejects_a_single_seed():
    spec.check(spec.SCHEMA.check("bias_variance", CFG))
    with pytest.raises(ParamError, match="bias_variance.seeds"):
        spec.check(CFG | {"seeds": [0]})
    with pytest.raises(ParamError, match="bias_variance.identity_margin"):
        spec.SCHEMA.check("bias_variance", CFG | {"identity_margin": 0})


def test_judge_keys_are_keys_of_the_section_and_never_read_by_train():
    assert set(spec.JUDGE_KEYS) <= set(spec.SCHEMA.fields)
    stripped = {k: v for k, v in CFG.items() if k not in spec.JUDGE_KEYS}
    row = train.train(stripped | {"seeds": [0], "n_datasets": 20, "dd_draws": 2}, V, [0], None)["runs"][0]
    assert set(row) == {"seed", *spec.METRICS}
    assert isinstance(spec.TEST_SCORED, str) and spec.TEST_SCORED


def test_p_grid_brackets_the_threshold():
    ps = spec.p_grid(40)
    assert ps[0] == 4 and 40 in ps and ps[-1] == 800 and ps == sorted(ps)
    assert ps[spec.DD_PERCENT.index(spec.THRESHOLD)] == 40


def test_rows_hold_exactly_the_metrics_as_plain_numbers(runs):
    for row in runs[V]:
        assert set(row) == {"seed", *spec.METRICS}
        assert all(type(row[k]) in (int, float) for k in spec.METRICS)
    json.dumps(runs, allow_nan=False)


def test_same_seed_same_row_new_seed_new_row(runs):
    again = train.train(CFG, V, [0], None)["runs"][0]
    rows = runs[V]
    assert again == rows[0] and rows[0]["total_d3"] != rows[1]["total_d3"]


def test_decomposition_adds_up_per_degree(runs):
    row = runs[V][0]
    for d in spec.DEGREES:
        parts = row[f"bias2_d{d}"] + row[f"variance_d{d}"] + row["noise"]
        assert parts == pytest.approx(row[f"decomposed_d{d}"])
    assert row["noise"] == pytest.approx(CFG["noise_std"] ** 2)


def test_real_replicates_show_the_identity_the_optimum_and_double_descent(runs):
    m, found = judged(CFG, runs)
    assert [f["id"] for f in found.values()] == ["identity", "old_claim", "single_best_degree", "double_descent",
                                                  "second_descent_below_first", "cv_picks_near_optimum"]
    assert found["cv_picks_near_optimum"]["verdict"] == "shown"  # CV on 30 points lands near degree 3
    assert [f["id"] for f in found.values() if f["primary"]] == ["old_claim", "double_descent"]
    assert found["identity"]["role"] == "check" and "p_adjusted" not in found["identity"]  # outside the Holm family
    assert found["identity"]["verdict"] == "shown" and "TOST" in found["identity"]["rule"]
    assert len(found["identity"]["parts"]) == len(spec.DEGREES)
    assert found["old_claim"]["verdict"] == "shown" and m["derived"]["optimum"]["argmin_degree"] == 3
    # 3 replicates of 10 draws: the peak's right neighbour is not always significant; never the opposite
    assert found["double_descent"]["verdict"] in ("shown", "inconclusive")
    assert found["second_descent_below_first"]["verdict"] == "shown"
    json.dumps(m, allow_nan=False)
    json.dumps(list(found.values()), allow_nan=False)


# ----------------------------------------------------------------------------- hand-built replicates

def fake_rows(n=5, gap=0.001, gap_sd=0.0005, totals=None, dd=None, noise=0.05, seed=0):
    """Rows with every metric: per-degree totals (a U by default) times log-normal noise, decomposed = total ×
    (1 + gap + N(0, gap_sd)), and a double-descent curve (a peak at the threshold by default)."""
    rng = np.random.default_rng(seed)
    totals = totals or {d: 0.1 * 10 ** (abs(d - 3) / 2) for d in spec.DEGREES}
    dd = dd or {q: 0.1 * (100 if q == spec.THRESHOLD else 10 if q in (90, 110) else 1 if q < 200 else 0.3)
                for q in spec.DD_PERCENT}
    rows = []
    for s in range(n):
        row = {"seed": s, **{k: 0.0 for k in spec.METRICS}, "noise": 0.09,
               "cv_hits": 0.6 * CFG["n_datasets"], "cv_within1": 0.8 * CFG["n_datasets"]}
        for d in spec.DEGREES:
            t = totals[d] * 10 ** rng.normal(0, noise)
            row |= {f"total_d{d}": t, f"decomposed_d{d}": t * (1 + gap + rng.normal(0, gap_sd))}
        for q in spec.DD_PERCENT:
            row[f"dd_mse_r{q}"] = dd[q] * 10 ** rng.normal(0, noise)
        under = [row[f"dd_mse_r{q}"] for q in spec.DD_PERCENT if q < spec.THRESHOLD]
        row |= {"dd_best_under_mse": min(under), "dd_peak_ratio": 1.0,
                "argmin_degree": min(spec.DEGREES, key=lambda d: row[f"total_d{d}"])}
        rows.append(row)
    return {V: rows}


def verdicts(runs, cfg=CFG):
    return {k: f["verdict"] for k, f in judged(cfg, runs)[1].items()}


def test_clear_effects_are_shown():
    assert set(verdicts(fake_rows()).values()) == {"shown"}


def test_identity_refuted_beyond_the_margin_inconclusive_when_noisy():
    assert verdicts(fake_rows(gap=0.2))["identity"] == "refuted"
    noisy = judged(CFG, fake_rows(n=3, gap=0.0, gap_sd=0.1))[1]["identity"]
    assert noisy["verdict"] == "inconclusive" and "not evidence of equality" in noisy["text"]


def test_an_optimum_at_an_end_is_not_shown_and_a_flat_bottom_is_no_single_best():
    falling = {d: 10.0 / (1 + d) for d in spec.DEGREES}  # monotone: the best degree is the last
    f = judged(CFG, fake_rows(totals=falling))[1]["old_claim"]
    assert f["verdict"] == "inconclusive" and "at an end" in f["text"]
    flat = {d: 0.1 * (1 if d in (3, 4) else 10) for d in spec.DEGREES}
    v = verdicts(fake_rows(n=3, totals=flat, noise=0.05))
    assert v["old_claim"] == "shown" and v["single_best_degree"] == "inconclusive"


def test_double_descent_refuted_without_a_peak_inconclusive_when_noisy():
    falling = {q: 10.0 / q for q in spec.DD_PERCENT}  # no peak: error falls with p throughout
    v = verdicts(fake_rows(dd=falling))
    assert v["double_descent"] == "refuted"
    noisy = judged(CFG, fake_rows(n=3, noise=1.5, seed=1))[1]
    assert noisy["double_descent"]["verdict"] == "inconclusive"
    assert "not shown" in noisy["double_descent"]["text"]


def test_plot_writes_both_figures(runs, tmp_path):
    m = aggregate(EXP, CFG, runs)
    files = figures.plot(CFG, m, runs, {}, tmp_path)
    assert [f["file"] for f in files] == ["decomposition.png", "double_descent.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 0 for f in files)


def test_train_evaluate_plot_jobs(tmp_path, monkeypatch):
    """The generic jobs on this experiment: one run file, metrics with findings and a headline, two figures."""
    from dlps.jobs.evaluate import evaluate
    from dlps.jobs.plot import plot
    from dlps.jobs.train import train as train_job
    from dlps.paths import figures_dir, headline_file, run_file

    monkeypatch.chdir(tmp_path)
    params = {"threads": 1, "device": "cpu",
              spec.NAME: CFG | {"seeds": [0, 1], "n_datasets": 20, "dd_draws": 3, "dd_n_test": 50}}
    train_job(params, spec.NAME)
    assert run_file(spec.NAME, V).is_file()
    m = evaluate(params, spec.NAME)
    assert [f["verdict"] in ("shown", "refuted", "inconclusive") for f in m["findings"]] == [True] * 6
    assert set(json.loads(headline_file(spec.NAME).read_text())) == {"old_claim", "double_descent"}
    primaries = [f for f in m["findings"] if f["primary"]]
    assert all("planned_power" in f and "power_at_effect_run_sd" in f for f in primaries)
    assert [f["file"] for f in plot(params, spec.NAME)] == ["decomposition.png", "double_descent.png"]
    assert (figures_dir(spec.NAME) / "figures.json").is_file()
