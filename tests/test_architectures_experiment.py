"""Architectures experiment logic: configurations, effective parameter counts, training rules, findings, figures."""

import math

import numpy as np
import pytest
import torch

from dlps.experiments import architectures as exp
from dlps.params import ParamError
from dlps.pipeline import aggregate
from dlps.tasks import adding_problem

CFG = {"seeds": [0, 1, 2], "threads": 1, "workers": 1, "variants": list(exp.CONFIGS), "lags": [5, 10], "hidden": 8, "batch": 16, "lr": 1e-2,
       "clip": 1.0, "max_steps": 20, "eval_every": 10, "stop_after": 1, "n_val": 50, "n_test": 60,
       "success_mse": 0.01, "alpha": 0.05}


def test_schema_accepts_the_test_config_and_check_rules():
    exp.SCHEMA.check("architectures", CFG)
    exp.check(CFG)
    with pytest.raises(ParamError, match="architectures.variants"):
        exp.check(CFG | {"variants": ["lstm", "gru", "gru_no_reset"]})
    with pytest.raises(ParamError, match="architectures.eval_every"):
        exp.check(CFG | {"eval_every": 50})
    with pytest.raises(ParamError, match="architectures.success_mse"):
        exp.check(CFG | {"success_mse": 0.2})


def test_no_two_configurations_are_the_same():
    configs = [exp.configuration(v) for v in exp.CONFIGS]
    assert len(set(configs)) == len(configs)
    assert exp.configuration("lstm") != exp.configuration("lstm_forget_bias1")  # bias 0 vs 1 differ
    assert all(exp.parent(v) in exp.MODELS for v in exp.CONFIGS)


@pytest.mark.parametrize("variant", list(exp.CONFIGS))
def test_effective_params_count_exactly_the_entries_that_get_gradient(variant):
    model = exp.build(variant, 6, seed=0)
    x, y = (torch.from_numpy(a) for a in adding_problem(32, 7, np.random.default_rng(0)))
    ((model(x) - y) ** 2).mean().backward()
    live = sum(int((p.grad != 0).sum()) for p in model.parameters())
    total = sum(p.numel() for p in model.parameters())
    assert live == exp.effective_params(variant, 6)
    ablated = any(v is False for v in exp.CONFIGS[variant][1].values())
    assert (live < total) == ablated


def test_variants_of_one_kind_start_from_the_same_weights():
    base = exp.build("lstm", 8, seed=3)
    for v in ("lstm_no_forget", "lstm_no_input", "lstm_no_output"):
        m = exp.build(v, 8, seed=3)
        assert not m.uses_builtin
        assert torch.equal(m.rnn.cell.weight_hh, base.rnn.weight_hh_l0)
        assert torch.equal(m.head.weight, base.head.weight)
    bias1 = exp.build("lstm_forget_bias1", 8, seed=3)
    diff = bias1.rnn.bias_ih_l0 - base.rnn.bias_ih_l0
    assert torch.allclose(diff[8:16], torch.ones(8)) and torch.equal(diff[:8], torch.zeros(8))
    assert torch.equal(exp.build("gru_no_update", 8, seed=3).rnn.cell.weight_ih, exp.build("gru", 8, 3).rnn.weight_ih_l0)


def test_data_streams_are_shared_by_variants_and_independent():
    a = [adding_problem(10, 8, r)[0] for r in exp.data_rngs(0, 8)]
    b = [adding_problem(10, 8, r)[0] for r in exp.data_rngs(0, 8)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], adding_problem(10, 8, exp.data_rngs(1, 8)[0])[0])


def test_early_stop_and_steps_to_success():
    easy = CFG | {"success_mse": 1.0, "max_steps": 50}  # every evaluation counts as success
    row, hist = exp.run_lag(easy, "lstm", 5, 0)
    assert row["steps_to_success"] == 10 and row["steps"] == 10 and row["success"] == 1.0
    assert [h["step"] for h in hist] == [10]
    row, hist = exp.run_lag(easy | {"stop_after": 3}, "lstm", 5, 0)
    assert row["steps"] == 30 and row["steps_to_success"] == 10
    never = CFG | {"success_mse": 1e-9, "max_steps": 25}
    row, hist = exp.run_lag(never, "gru_no_reset", 5, 0)
    assert row["steps_to_success"] == 25 and row["steps"] == 25 and row["success"] == 0.0
    assert [h["step"] for h in hist] == [10, 20, 25]  # the last step is always evaluated
    assert row["best_val_mse"] == min(h["val_mse"] for h in hist)


def test_train_is_deterministic_and_names_metrics_per_lag():
    cfg = CFG | {"max_steps": 10, "eval_every": 5}
    a = exp.train(cfg, "gru_no_update", [0, 1], None)
    b = exp.train(cfg, "gru_no_update", [0, 1], None)
    strip = lambda rows: [{k: v for k, v in r.items() if "ms_per_step" not in k} for r in rows]  # noqa: E731
    assert strip(a["runs"]) == strip(b["runs"]) and a["history"] == b["history"]
    r = a["runs"][0]
    for k in exp.LAG_METRICS:
        assert exp.lag_key(k, 5) in r and exp.lag_key(k, 10) in r
        assert r[k] == r[exp.lag_key(k, 10)] or "ms_per_step" in k
    assert r["params"] == exp.effective_params("gru_no_update", 8)
    assert a["runs"][0]["test_mse"] != a["runs"][1]["test_mse"]


def fake_runs(rates: dict, lags=(5, 10), n=4):
    """Per-seed rows where variant v succeeds in the first round(rate * n) seeds at every lag."""
    rng = np.random.default_rng(0)
    runs = {}
    for v, rate in rates.items():
        rows = []
        for s in range(n):
            ok = s < round(rate * n)
            row = {"seed": s}
            for lag in lags:
                mse = (0.002 if ok else 0.16) * math.exp(rng.normal(0, 0.1))
                vals = {"test_mse": mse, "log10_test_mse": math.log10(mse), "success": float(ok),
                        "steps_to_success": 100 if ok else 500, "params": exp.effective_params(v, 8),
                        "ms_per_step": 1.0, "cpu_ms_per_step": 1.0, "best_val_mse": mse, "steps": 500}
                row |= {exp.lag_key(k, lag): x for k, x in vals.items()}
            rows.append(row | {k: row[exp.lag_key(k, lags[-1])] for k in exp.LAG_METRICS})
        runs[v] = rows
    return runs


def metrics_for(cfg, runs):
    return aggregate(exp, cfg, runs)


def test_findings_when_gated_cells_solve_it_and_a_gate_matters():
    cfg = CFG | {"seeds": [0, 1, 2, 3]}
    rates = {v: 1.0 for v in exp.CONFIGS} | {"rnn": 0.0, "gru_no_update": 0.0}
    f = {x["id"]: x for x in exp.findings(cfg, metrics_for(cfg, fake_runs(rates)))}
    assert f["gated_vs_rnn"]["shown"] and f["ablations"]["shown"]
    assert "GRU without update gate" in f["ablations"]["text"].split("Changes that hurt here:")[1]
    assert f["old_claim"]["verdict"] == "holds" and f["old_claim"]["shown"]
    assert "not defined" in f["old_claim"]["text"]


def test_findings_say_not_shown_when_the_effect_is_absent():
    cfg = CFG | {"seeds": [0, 1, 2, 3]}
    rates = {v: 1.0 for v in exp.CONFIGS} | {"lstm": 0.75, "gru": 0.25}  # RNN "succeeds" too
    f = {x["id"]: x for x in exp.findings(cfg, metrics_for(cfg, fake_runs(rates)))}
    assert not f["gated_vs_rnn"]["shown"] and "not shown" in f["gated_vs_rnn"]["text"]
    assert f["old_claim"]["verdict"] == "does not hold" and not f["old_claim"]["shown"]


def test_plots_render(tmp_path):
    cfg = CFG | {"seeds": [0, 1, 2, 3], "variants": ["rnn", "lstm", "gru", "lstm_no_forget", "gru_no_update"]}
    runs = fake_runs({v: 0.5 for v in cfg["variants"]})
    m = metrics_for(cfg, runs)
    hist = {v: [{"seed": s, "lag": lag, "step": st, "train_mse": 0.1, "val_mse": 0.1 / st}
                for s in range(4) for lag in (5, 10) for st in (10, 20)] for v in cfg["variants"]}
    files = exp.plot(cfg, m, runs, hist, tmp_path)
    assert [f["file"] for f in files] == ["mse_vs_lag.png", "learning_curves.png", "ablations.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 1000 for f in files)
