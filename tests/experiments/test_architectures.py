"""Architectures experiment logic: configurations, effective parameter counts, per-cell learning rates, training
rules, the solved-sequence fraction, findings (with absent ablations), figures."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dlps.experiments.architectures import figures, spec
from dlps.experiments.architectures import train as exp
from dlps.experiments.architectures.spec import CONFIGS, LAG_METRICS, MODELS, lag_key
from dlps.experiments import load
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.runtime import Runtime
from dlps.schema import ParamError
from dlps.data.tasks import adding_problem

EXP = load("architectures")

CFG = {"seeds": [0, 1, 2], "threads": 1, "workers": 1, "variants": list(CONFIGS), "lags": [5, 10], "hidden": 8,
       "batch": 16, "lr": {"rnn": 1e-2, "lstm": 1e-2, "gru": 1e-2}, "clip": 1.0, "max_steps": 20, "eval_every": 10, "stop_after": 1, "n_val": 50,
       "stop_solved_frac": 0.0, "n_test": 60, "success_mse": 0.01, "alpha": 0.025, "margin_log10": 0.5}
CPU = Runtime("cpu")
CTX = SimpleNamespace(runtime=lambda *a, **k: CPU)


def test_schema_accepts_the_test_config_and_check_rules():
    spec.SCHEMA.check("architectures", CFG)
    spec.check(CFG)
    with pytest.raises(ParamError, match="architectures.variants"):
        spec.check(CFG | {"variants": ["lstm", "gru", "gru_no_reset"]})
    with pytest.raises(ParamError, match="architectures.eval_every"):
        spec.check(CFG | {"eval_every": 50})
    with pytest.raises(ParamError, match="architectures.success_mse"):
        spec.check(CFG | {"success_mse": 0.2})


def test_learning_rates_are_per_cell_and_ablations_train_at_their_parents():
    with pytest.raises(ParamError, match="architectures.lr"):  # one rate for every cell is no longer a setting
        spec.SCHEMA.check("architectures", CFG | {"lr": 0.01})
    with pytest.raises(ParamError, match="architectures.lr.gru: missing"):
        spec.SCHEMA.check("architectures", CFG | {"lr": {"rnn": 0.01, "lstm": 0.01}})
    cfg = CFG | {"lr": {"rnn": 0.03, "lstm": 0.003, "gru": 0.01}}
    assert [spec.lr_of(cfg, v) for v in ("rnn", "lstm", "lstm_no_forget", "gru_no_update")] == [0.03, 0.003, 0.003,
                                                                                               0.01]
    # the rate reaches training: another LSTM rate changes the LSTM's run, not the GRU's
    other = cfg | {"lr": cfg["lr"] | {"lstm": 0.03}}
    assert exp.run_lag(cfg, "lstm", 5, 0, CPU)[0]["test_mse"] != exp.run_lag(other, "lstm", 5, 0, CPU)[0]["test_mse"]
    assert exp.run_lag(cfg, "gru", 5, 0, CPU)[0] | {"ms_per_step": 0, "cpu_ms_per_step": 0} == \
        exp.run_lag(other, "gru", 5, 0, CPU)[0] | {"ms_per_step": 0, "cpu_ms_per_step": 0}


def test_solved_fraction_counts_sequences_within_the_sources_error_bound():
    model = exp.build("gru", 8, seed=0)
    from dlps.models.members import Members, mse

    members = Members.of([model])
    x, y = (torch.from_numpy(a)[None] for a in adding_problem(40, 6, np.random.default_rng(1)))
    tests, solved = exp.test_scores(members, x, y, spec.SOLVED_ABS_ERR, budget=50)  # chunked
    with torch.no_grad():
        err = (model(x[0]) - y[0]).abs()
    assert solved[0] == pytest.approx(float((err < 0.04).float().mean()))
    assert tests[0] == pytest.approx(float(mse(members, x, y)[0]))


def test_no_two_configurations_are_the_same():
    configs = [spec.configuration(v) for v in CONFIGS]
    assert len(set(configs)) == len(configs)
    assert spec.configuration("lstm") != spec.configuration("lstm_forget_bias1")  # bias 0 vs 1 differ
    assert all(spec.parent(v) in MODELS for v in CONFIGS)


@pytest.mark.parametrize("variant", list(CONFIGS))
def test_effective_params_count_exactly_the_entries_that_get_gradient(variant):
    model = exp.build(variant, 6, seed=0)
    x, y = (torch.from_numpy(a) for a in adding_problem(32, 7, np.random.default_rng(0)))
    ((model(x) - y) ** 2).mean().backward()
    live = sum(int((p.grad != 0).sum()) for p in model.parameters())
    total = sum(p.numel() for p in model.parameters())
    assert live == exp.effective_params(variant, 6)
    ablated = any(v is False for v in CONFIGS[variant][1].values())
    assert (live < total) == ablated


def test_every_variant_runs_the_from_scratch_cells_and_a_kind_starts_from_the_same_weights():
    """Parents and ablations run the same implementation, so an ablation's effect is not the implementation's."""
    assert not any(exp.build(v, 8, seed=3).uses_builtin for v in CONFIGS)
    base = exp.build("lstm", 8, seed=3)
    for v in ("lstm_no_forget", "lstm_no_input", "lstm_no_output"):
        m = exp.build(v, 8, seed=3)
        assert torch.equal(m.rnn.cell.weight_hh, base.rnn.cell.weight_hh)
        assert torch.equal(m.head.weight, base.head.weight)
    bias1 = exp.build("lstm_forget_bias1", 8, seed=3)
    diff = bias1.rnn.cell.bias_ih - base.rnn.cell.bias_ih
    assert torch.allclose(diff[8:16], torch.ones(8)) and torch.equal(diff[:8], torch.zeros(8))
    assert torch.equal(exp.build("gru_no_update", 8, seed=3).rnn.cell.weight_ih, exp.build("gru", 8, 3).rnn.cell.weight_ih)


def test_data_streams_are_shared_by_variants_and_independent():
    a = [adding_problem(10, 8, r)[0] for r in exp.data_rngs(0, 8)]
    b = [adding_problem(10, 8, r)[0] for r in exp.data_rngs(0, 8)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], adding_problem(10, 8, exp.data_rngs(1, 8)[0])[0])


def test_early_stop_and_steps_to_success():
    easy = CFG | {"success_mse": 1.0, "max_steps": 50}  # every evaluation counts as success
    row, hist = exp.run_lag(easy, "lstm", 5, 0, CPU)
    assert row["steps_to_success"] == 10 and row["steps"] == 10 and row["success"] == 1.0
    assert [h["step"] for h in hist] == [10]
    row, hist = exp.run_lag(easy | {"stop_after": 3}, "lstm", 5, 0, CPU)
    assert row["steps"] == 30 and row["steps_to_success"] == 10
    never = CFG | {"success_mse": 1e-9, "max_steps": 25}
    row, hist = exp.run_lag(never, "gru_no_reset", 5, 0, CPU)
    assert row["steps_to_success"] == 25 and row["steps"] == 25 and row["success"] == 0.0
    assert [h["step"] for h in hist] == [10, 20, 25]  # the last step is always evaluated
    assert row["best_val_mse"] == min(h["val_mse"] for h in hist)


def test_stopping_also_waits_for_the_sources_criterion():
    """MSE below the threshold is not enough to stop when too few validation sequences have |error| < 0.04."""
    easy = CFG | {"success_mse": 1.0, "max_steps": 30}
    row, _ = exp.run_lag(easy | {"stop_solved_frac": 1.0}, "lstm", 5, 0, CPU)  # an untrained net solves few
    assert row["steps"] == 30 and row["steps_to_success"] == 10
    book = exp.Member(easy | {"stop_solved_frac": 0.95, "stop_after": 2}, "lstm", 0, 5)
    stops = []
    for step, solved in ((10, 0.96), (20, 0.5), (30, 0.96), (40, 0.97)):
        book.losses = [0.5]
        stops.append(book.validated(step, 0.5, lambda: None, solved))
    assert stops == [False, False, False, True]


def test_train_is_deterministic_and_names_metrics_per_lag():
    cfg = CFG | {"max_steps": 10, "eval_every": 5}
    a = exp.train(cfg, "gru_no_update", [0, 1], CTX)
    b = exp.train(cfg, "gru_no_update", [0, 1], CTX)
    strip = lambda rows: [{k: v for k, v in r.items() if "ms_per_step" not in k} for r in rows]  # noqa: E731
    assert strip(a["runs"]) == strip(b["runs"]) and a["history"] == b["history"]
    r = a["runs"][0]
    for k in LAG_METRICS:
        assert lag_key(k, 5) in r and lag_key(k, 10) in r
        assert r[k] == r[lag_key(k, 10)] or "ms_per_step" in k
    assert r["params"] == exp.effective_params("gru_no_update", 8)
    assert a["runs"][0]["test_mse"] != a["runs"][1]["test_mse"]


def fake_runs(rates: dict, lags=(5, 10), n=6, noise=None, solved=None):
    """Per-seed rows where variant v succeeds in the first round(rate * n) seeds at every lag; noise[v] is the
    spread (natural log) of its MSE around its success/failure level (0.1 by default); solved[v] its per-seed
    solved fractions (default 0.99 where it succeeds, 0.1 where not)."""
    rng = np.random.default_rng(0)
    noise, solved = noise or {}, solved or {}
    runs = {}
    for v, rate in rates.items():
        rows = []
        for s in range(n):
            ok = s < round(rate * n)
            row = {"seed": s}
            for lag in lags:
                mse = (0.002 if ok else 0.16) * math.exp(rng.normal(0, noise.get(v, 0.1)))
                vals = {"test_mse": mse, "log10_test_mse": math.log10(mse), "success": float(ok),
                        "solved_frac": solved[v][s] if v in solved else 0.99 if ok else 0.1,
                        "steps_to_success": 100 if ok else 500, "params": exp.effective_params(v, 8),
                        "ms_per_step": 1.0, "cpu_ms_per_step": 1.0, "best_val_mse": mse, "steps": 500}
                row |= {lag_key(k, lag): x for k, x in vals.items()}
            rows.append(row | {k: row[lag_key(k, lags[-1])] for k in LAG_METRICS})
        runs[v] = rows
    return runs


def found(cfg, runs):
    fs = findings_of(EXP, cfg, aggregate(EXP, cfg, runs), runs)
    check_findings("architectures", fs)
    return {f["id"]: f for f in fs}


def test_findings_when_gated_cells_solve_it_and_a_gate_matters():
    cfg = CFG | {"seeds": list(range(6))}
    rates = {v: 1.0 for v in CONFIGS} | {"rnn": 0.0, "gru_no_update": 0.0}
    f = found(cfg, fake_runs(rates, noise={"lstm_no_output": 2.0}))
    assert f["gated_vs_rnn"]["verdict"] == "shown" and f["gated_vs_rnn"]["primary"]  # 6 discordant seeds: p = 1/64
    assert [k for k, x in f.items() if x["primary"]] == ["gated_vs_rnn"]
    assert f["ablation_gru_no_update"]["verdict"] == "shown" and "hurts" in f["ablation_gru_no_update"]["text"]
    nothing = f["ablation_gru_no_reset"]  # same MSE level, small noise: no effect shown by the TOST
    assert nothing["verdict"] == "refuted" and nothing["effect_label"] == "no effect" and "TOST" in nothing["rule"]
    noisy = f["ablation_lstm_no_output"]  # same level, but too noisy to show either
    assert noisy["verdict"] == "inconclusive" and "not significant is not 'no effect'" in noisy["text"]
    for v in ("lstm", "gru"):
        assert f[f"success_rate_{v}"]["verdict"] == "shown"  # 6/6: exact lower bound 54% > 50%
    assert f["success_rate_rnn"]["verdict"] == "shown"
    claim = f["old_claim_seed_success"]  # 6/6 seeds cannot clear 95%
    assert claim["verdict"] == "inconclusive" and "needs at least 72 seeds" in claim["text"]
    assert not claim["primary"]
    # the source's reading: 99% of each seed's 60 test sequences cannot clear 95% by the exact interval either
    assert f["old_claim"]["verdict"] == "inconclusive" and "Hochreiter" in f["old_claim"]["text"]


def test_findings_with_three_seeds_are_inconclusive_and_say_how_many_are_needed():
    cfg = CFG | {"seeds": [0, 1, 2]}
    f = found(cfg, fake_runs({v: 1.0 for v in CONFIGS} | {"rnn": 0.0}, n=3))
    # the exact McNemar test on 3 pass/fail seeds cannot reach α; the paired t on log10 MSE (the primary) can
    success = f["gated_vs_rnn_success"]
    assert success["verdict"] == "inconclusive" and "at least 6 seeds" in success["text"] and not success["primary"]
    assert f["gated_vs_rnn"]["primary"] and all(
        "paired t-test" in p["tests"]["p_expected"] for p in f["gated_vs_rnn"]["parts"].values())
    assert f["success_rate_lstm"]["verdict"] == "inconclusive" and "at least 6 seeds" in f["success_rate_lstm"]["text"]
    assert f["old_claim_seed_success"]["verdict"] == "inconclusive" and f["old_claim_seed_success"]["ci_low"] < 0.3


@pytest.mark.parametrize("lstm, verdict", [([0.995] * 4, "shown"), ([0.995, 0.995, 0.995, 0.5], "refuted"),
                                           ([0.995, 0.995, 0.995, 0.95], "inconclusive"),
                                           ([0.995, 0.995, 0.995, 0.94], "inconclusive")])
def test_old_claim_in_its_sources_terms_is_judged_per_seed_on_the_test_sequences(lstm, verdict):
    """Every seed's exact interval over its 2000 test sequences above 95%: holds; one seed far below: does not
    hold; a seed at 95% straddles it; a seed slightly below is not below at the Bonferroni-split α."""
    cfg = CFG | {"seeds": [0, 1, 2, 3], "n_test": 2000, "variants": ["rnn", "lstm", "gru"]}
    f = found(cfg, fake_runs({"rnn": 0.0, "lstm": 1.0, "gru": 1.0}, n=4, solved={"lstm": lstm}))
    assert f["old_claim"]["verdict"] == verdict and not f["old_claim"]["primary"]
    assert len(f["old_claim"]["parts"]) == 8


def test_findings_without_the_dropped_ablations():
    cfg = CFG | {"seeds": list(range(6)), "variants": ["rnn", "lstm", "gru", "lstm_no_forget", "lstm_forget_bias1",
                                                       "gru_no_update"]}
    f = found(cfg, fake_runs({v: 1.0 for v in cfg["variants"]} | {"rnn": 0.0, "gru_no_update": 0.0}))
    assert {k for k in f if k.startswith("ablation_")} == {"ablation_lstm_no_forget", "ablation_lstm_forget_bias1",
                                                           "ablation_gru_no_update"}


def test_findings_refute_when_the_rnn_wins():
    cfg = CFG | {"seeds": list(range(6))}
    f = found(cfg, fake_runs({v: 0.0 for v in CONFIGS} | {"rnn": 1.0}))
    assert f["gated_vs_rnn"]["verdict"] == "refuted"
    assert f["success_rate_lstm"]["verdict"] == "refuted" and f["success_rate_rnn"]["verdict"] == "refuted"
    assert f["old_claim_seed_success"]["verdict"] == "refuted" and f["old_claim"]["verdict"] == "refuted"


def test_plots_render(tmp_path):
    cfg = CFG | {"seeds": [0, 1, 2, 3], "variants": ["rnn", "lstm", "gru", "lstm_no_forget", "gru_no_update"]}
    runs = fake_runs({v: 0.5 for v in cfg["variants"]}, n=4)
    m = aggregate(EXP, cfg, runs)
    hist = {v: [{"seed": s, "lag": lag, "step": st, "train_mse": 0.1, "val_mse": 0.1 / st}
                for s in range(4) for lag in (5, 10) for st in (10, 20)] for v in cfg["variants"]}
    files = figures.plot(cfg, m, runs, hist, tmp_path)
    assert [f["file"] for f in files] == ["mse_vs_lag.png", "learning_curves.png", "ablations.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 1000 for f in files)
