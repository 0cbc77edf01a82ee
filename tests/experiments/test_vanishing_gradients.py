"""Vanishing gradients: the per-step gradient measurement, the spectral radius, the decay-rate theory, the findings."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlps.experiments.vanishing_gradients import figures, judge, spec
from dlps.experiments.vanishing_gradients import train as exp
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.models.cells import Recurrent, RNNCell, gate_rows
from dlps.runtime import Runtime
from dlps.schema import ParamError
from dlps.experiments import load

EXP = load("vanishing_gradients")

CPU = SimpleNamespace(runtime=lambda *a, **k: Runtime("cpu"))
TINY = {"seeds": [0, 1], "workers": 1, "lengths": [10, 30], "rhos": [0.5, 1.0, 1.5], "hidden": 8, "batch": 16,
        "early_steps": 2, "train_length": 30, "matched_length": 6, "train_rho": 1.0, "train_batch": 16, "lr": 0.01,
        "clip": 1.0, "max_steps": 0, "eval_every": 10, "target_mse": 0.01, "alpha": 0.05,
        "rate_rel_margin": 0.2, "constancy_rel_margin": 0.2}


class LinearRNNCell(RNNCell):
    """h' = W_ih x + b_ih + W_hh h + b_hh: without tanh, ∂h_t/∂h_(t-1) = W_hh exactly."""

    def step(self, xi, state):
        (h,) = state
        return (xi + F.linear(h, self.weight_hh, self.bias_hh),)


def test_gradient_norms_equal_a_manual_backward_pass():
    torch.manual_seed(0)
    cell, head = RNNCell(2, 3).double(), torch.nn.Linear(3, 1).double()
    x, y = torch.rand(4, 5, 2, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    curve, x_curve, _ = exp.grad_norms(cell, head, x, y)

    wih, whh = cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy()
    b, w, xs = (cell.bias_ih + cell.bias_hh).detach().numpy(), head.weight.detach().numpy()[0], x.numpy()
    hs = [np.zeros((4, 3))]
    for t in range(5):
        hs.append(np.tanh(xs[:, t] @ wih.T + hs[-1] @ whh.T + b))
    residual = hs[-1] @ w + head.bias.item() - y.numpy()
    g = 2 * residual[:, None] * w[None, :]  # ∂L_i/∂h_T for L_i = residual_i²
    expected, expected_x = [np.log10(np.linalg.norm(g, axis=1).mean())], []
    for t in range(5, 0, -1):  # one step back: through tanh′ at h_t, then W_hh (or W_ih, to the input x_t)
        pre = g * (1 - hs[t] ** 2)
        expected_x.append(np.log10(np.linalg.norm(pre @ wih, axis=1).mean()))
        g = pre @ whh
        expected.append(np.log10(np.linalg.norm(g, axis=1).mean()))
    np.testing.assert_allclose(curve, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x_curve, expected_x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_input_gradient_norms_equal_autograd_through_the_whole_sequence(kind):
    torch.manual_seed(0)
    model = exp.build(kind, None, 4, seed=0)
    cell, head = exp.scratch_copy(model)
    x, y = torch.rand(3, 7, 2, dtype=torch.float64, requires_grad=True), torch.rand(3, dtype=torch.float64)
    _, x_curve, _ = exp.grad_norms(cell, head, x.detach(), y)
    hs, _ = Recurrent(cell)(x)
    (g,) = torch.autograd.grad(((head(hs[:, -1]).squeeze(-1) - y) ** 2).sum(), x)
    expected = g.norm(dim=2).mean(dim=0).log10().flip(0).numpy()  # k = 0 is the last input
    np.testing.assert_allclose(x_curve, expected, rtol=0, atol=1e-10)


def test_forget_bias_arm_differs_from_the_default_lstm_only_in_its_forget_gate_bias():
    a, b = exp.build("lstm", None, 8, seed=4), exp.build("lstm_fb1", None, 8, seed=4)
    rows = gate_rows("lstm", "forget", 8)
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        if name == "rnn.bias_ih_l0":
            torch.testing.assert_close(pb[rows] - pa[rows], torch.ones(8), rtol=0, atol=1e-6)
            mask = torch.ones(len(pa), dtype=torch.bool)
            mask[rows] = False
            assert torch.equal(pa[mask], pb[mask])
        else:
            assert torch.equal(pa, pb), name


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_spectral_radius_is_set_exactly_and_only_its_scale_changes(rho):
    model, ref = exp.build("rnn", rho, 16, seed=3), exp.build("rnn", 1.0, 16, seed=3)
    w = model.rnn.weight_hh_l0.detach().double()
    assert torch.linalg.eigvals(w).abs().max().item() == pytest.approx(rho, abs=1e-6)
    torch.testing.assert_close(torch.linalg.svdvals(w), torch.full((16,), rho, dtype=torch.float64), rtol=0, atol=1e-6)
    torch.testing.assert_close(w / rho, ref.rnn.weight_hh_l0.detach().double(), rtol=0, atol=1e-6)
    for name in ("weight_ih_l0", "bias_ih_l0", "bias_hh_l0"):
        assert torch.equal(getattr(model.rnn, name), getattr(ref.rnn, name))


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.2])
def test_linear_rnn_decays_at_exactly_log_rho(rho):
    torch.manual_seed(1)
    cell, head = LinearRNNCell(2, 8).double(), torch.nn.Linear(8, 1).double()
    with torch.no_grad():
        cell.weight_hh.copy_(rho * exp.orthogonal(8, seed=1))
    x, y = torch.rand(6, 40, 2, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    curve, _, _ = exp.grad_norms(cell, head, x, y)
    d = np.arange(41)
    assert exp.rate(curve, d) == pytest.approx(math.log(rho), abs=1e-9)
    assert curve[40] - curve[0] == pytest.approx(40 * math.log10(rho), abs=1e-8)


@pytest.fixture
def flushing():
    """Sets whether this process flushes subnormals (flush_denormal), and restores it afterwards."""
    if not torch.set_flush_denormal(False) or not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    yield torch.set_flush_denormal
    torch.set_flush_denormal(False)


def _both(flushing, fn):
    """fn() with subnormals flushed to zero, and with them kept."""
    out = []
    for on in (True, False):
        flushing(on)
        out.append(fn())
    return out


def test_gradient_profiles_stay_exact_through_and_below_the_subnormal_range_flushed_or_not(flushing):
    # W_hh = 0.01·Q: each step back divides every example's gradient norm by exactly 100, so 200 steps reach 1e-400,
    # below the smallest subnormal double (5e-324); a plain backward pass would lose it there, flushed or not
    torch.manual_seed(1)
    cell, head = LinearRNNCell(2, 8).double(), torch.nn.Linear(8, 1).double()
    with torch.no_grad():
        cell.weight_hh.copy_(0.01 * exp.orthogonal(8, seed=1))
    x, y = torch.rand(6, 200, 2, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    on, off = _both(flushing, lambda: exp.grad_norms(cell, head, x, y)[0])
    np.testing.assert_array_equal(on, off)
    assert on[-1] < math.log10(5e-324) - 50
    np.testing.assert_allclose(np.diff(on), -2.0, atol=1e-9)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "lstm_fb1", "gru"])
def test_vanishing_gradient_measurements_do_not_depend_on_flushing_subnormals(flushing, cell):
    cfg = TINY | {"lengths": [200]}
    data = exp.probe(cfg, 0, 200)
    on, off = _both(flushing, lambda: exp.measure(exp.build(cell, 0.5, cfg["hidden"], 0), data, cfg["early_steps"]))
    assert on.keys() == off.keys()
    for k in on:
        np.testing.assert_array_equal(on[k], off[k])


def test_tanh_rnn_rate_is_below_log_rho_and_near_the_mean_field_prediction():
    model = exp.build("rnn", 0.9, 16, seed=0)
    m = exp.measure(model, exp.probe(TINY, 0, 40), early_steps=2)
    assert m["slope"] < math.log(0.9)
    assert m["predicted_rate"] == pytest.approx(math.log(0.9 * m["tanh_rms"]), abs=1e-6)
    gap = judge.relative_gap(np.array([m["slope"]]), np.array([m["predicted_rate"]]), 0.9)
    assert abs(float(gap[0])) < TINY["rate_rel_margin"]


def test_check_rejects_inconsistent_params():
    spec.SCHEMA.check("vanishing_gradients", TINY)
    for bad, word in [({"train_length": 20}, "train_length"), ({"train_rho": 1.1}, "train_rho"),
                      ({"early_steps": 10}, "early_steps"), ({"matched_length": 30}, "matched_length")]:
        with pytest.raises(ParamError, match=word):
            spec.check(TINY | bad)
    spec.check(TINY)


def metrics_for(cfg, seeds=(0, 1)):
    runs = {v: exp.train(cfg, v, list(seeds), CPU) for v in spec.variants(cfg)}
    rows = {v: r["runs"] for v, r in runs.items()}
    return aggregate(EXP, cfg, rows), rows, {v: r["history"] for v, r in runs.items()}


@pytest.fixture(scope="module")
def untrained():
    """Metrics with max_steps = 0: every 'trained' model is still its initialisation."""
    return metrics_for(TINY)


def test_runs_are_plain_deterministic_numbers(untrained):
    _, rows, history = untrained
    again = exp.train(TINY, "lstm", [0, 1], CPU)
    assert again["runs"] == rows["lstm"] and again["history"] == history["lstm"]
    for r in rows["rnn"]:
        assert all(type(v) in (int, float) and math.isfinite(v) for v in r.values())
        assert r["trained_log10_ratio"] == r["init_log10_ratio"] and r["steps"] == 0 and r["trained_solved"] == 0
        assert r["matched_log10_ratio"] == r["matched_init_log10_ratio"] and r["matched_solved"] == 0
        assert set(spec.METRICS) <= set(r)
    assert {h["phase"] for h in history["rnn"]} >= {"init", "trained", "matched_init", "matched"}
    assert len(history["rnn"]) == 2 * (len(TINY["rhos"]) * (11 + 31) + 31 + 2 * 7 + 2 * 30 + 2 * 6)
    assert {h["phase"] for h in history["lstm_fb1"]} == {"init", "trained", "matched_init", "matched", "init_x",
                                                          "trained_x", "matched_init_x", "matched_x"}


def test_matched_training_reaches_the_target_at_the_short_length():
    """A real (small) training run at the matched length: the solved flag follows the validation target."""
    cfg = TINY | {"max_steps": 400, "eval_every": 20, "target_mse": 0.05, "hidden": 16}
    _, row = exp.trained(cfg, "lstm", 0, Runtime("cpu"), 6)
    assert row["solved"] == 1.0 and row["steps"] < 400 and row["steps"] % 20 == 0
    _, row = exp.trained(cfg | {"target_mse": 1e-9, "max_steps": 40}, "lstm", 0, Runtime("cpu"), 6)
    assert row["solved"] == 0.0 and row["steps"] == 40


def test_findings_follow_the_metrics(untrained):
    m, rows, _ = untrained
    found = {f["id"]: f for f in findings_of(EXP, TINY, m, rows)}
    check_findings("vanishing_gradients", list(found.values()))
    assert [k for k, f in found.items() if f["primary"]] == ["old_claim", "matched_lstm_vs_rnn",
                                                             "matched_lstm_fb1_vs_rnn", "trained_lstm_vs_rnn",
                                                             "trained_lstm_fb1_vs_rnn"]
    assert found["old_claim"]["verdict"] == "inconclusive" and "length over 50" in found["old_claim"]["text"]
    assert found["vanishing"]["verdict"] == "shown"  # 0.5^30 < 1e-9, far below the 1e-4 bar in both seeds
    assert found["matched_lstm_vs_rnn"]["verdict"] == "inconclusive" and found["matched_lstm_vs_rnn"]["n"] == 0
    assert "Not matched" in found["trained_lstm_vs_rnn"]["text"]
    assert all(f["verdict"] in ("shown", "refuted", "inconclusive") for f in found.values())


def test_findings_say_not_measured_without_small_or_large_rho(untrained):
    m, rows, _ = untrained
    cfg = TINY | {"rhos": [1.0]}
    found = {f["id"]: f for f in findings_of(EXP, cfg, m, rows)}
    for fid in ("vanishing", "saturation"):
        assert found[fid]["verdict"] == "inconclusive" and "not measured" in found[fid]["text"]


# ---- the rules on hand-built runs ------------------------------------------------------------------------------

def fake_trained(gated: list[float], rnn: list[float], solved=None) -> tuple[dict, dict]:
    """Runs and metrics with just what the trained/matched findings read."""
    solved = [1.0] * len(gated) if solved is None else solved
    runs = {"lstm": [{"matched_x_log10_ratio": g, "trained_x_log10_ratio": g, "matched_solved": 1.0,
                      "trained_solved": 1.0} for g in gated],
            "rnn": [{"matched_x_log10_ratio": r, "trained_x_log10_ratio": r, "matched_solved": s,
                     "trained_solved": s} for r, s in zip(rnn, solved)]}
    med = {"median": 0.005}
    m = {"variants": {c: {"matched_mse": med, "trained_mse": med} for c in ("lstm", "rnn")},
         "derived": {f"lstm_{p}_gate_path": med for p in ("matched", "trained")}}
    return runs, m


@pytest.mark.parametrize("gated, rnn, solved, verdict", [
    ([-0.1, -0.2, -0.1, -0.3, -0.2, -0.1], [-1.0, -1.5, -0.9, -2.0, -1.1, -1.3], None, "shown"),
    ([-1.0, -1.5, -0.9, -2.0, -1.1, -1.3], [-0.1, -0.2, -0.1, -0.3, -0.2, -0.1], None, "refuted"),
    ([-0.5, -0.2, -0.9, -0.1, -0.6, -0.3], [-0.4, -0.6, -0.3, -0.5, -0.2, -0.7], None, "inconclusive"),
    ([-0.1, -0.2, -0.1], [-1.0, -1.5, -0.9], None, "inconclusive"),  # 3 seeds: p >= 1/8 whatever the data
])
def test_matched_comparison_by_sign_test_on_paired_log_ratios(gated, rnn, solved, verdict):
    runs, m = fake_trained(gated, rnn, solved)
    f = judge._trained(TINY, m, runs, "lstm", "matched")
    assert f["verdict"] == verdict and "exact sign test" in f["test"] and f["primary"]
    if len(gated) < judge.wilcoxon_seeds_needed(0.05):
        assert "needs at least 5 matched seeds" in f["text"]


def test_matched_comparison_leaves_out_unmatched_seeds_and_says_so():
    runs, m = fake_trained([-0.1] * 6, [-1.0, -1.1, -1.2, -1.3, -50.0, -60.0], [1, 1, 1, 1, 0, 0])
    f = judge._trained(TINY, m, runs, "lstm", "matched")
    assert f["n"] == 4 and f["matched_seeds"] == 4 and "Only 4 of 6 seeds are matched" in f["text"]
    unmatched = judge._trained(TINY, m, runs, "lstm", "trained")
    assert unmatched["n"] == 6 and unmatched["primary"] and "Not matched" in unmatched["text"]


def fake_sweep(gaps: np.ndarray, cfg=TINY) -> dict:
    """RNN rows whose fitted slope minus the mean-field rate is gaps[seed] at every (ρ, length)."""
    rows = []
    for g in gaps:
        row = {}
        for r in cfg["rhos"]:
            for n in cfg["lengths"]:
                k = spec.key("rnn", r, n)
                row |= {f"{k}_predicted_rate": math.log(r) - 0.05, f"{k}_slope": math.log(r) - 0.05 + g}
        rows.append(row)
    return {"rnn": rows}


@pytest.mark.parametrize("gaps, verdict", [
    ([0.001, -0.002, 0.0, 0.002, -0.001], "shown"),  # well within the relative margin
    ([0.2, 0.21, 0.19, 0.2, 0.22], "refuted"),  # consistently beyond it
    ([0.03, -0.06, 0.1, -0.02, 0.07], "inconclusive"),  # too noisy to tell
])
def test_rate_relation_by_tost_against_a_relative_margin(gaps, verdict):
    f = judge._rate(TINY, fake_sweep(np.array(gaps)))
    assert f["id"] == "mean_field_rate" and f["verdict"] == verdict and not f["primary"]
    assert "TOST" in f["rule"] and f"±{TINY['rate_rel_margin']:g}" in f["rule"] and "relative" in f["rule"]


LONG = TINY | {"rhos": [0.5, 0.9, 1.5], "lengths": [30, 100, 200]}


def fake_halves(first: list[float], second: list[float], cfg=LONG, mean_field_off: float = 0.0) -> dict:
    """RNN rows whose nearer/farther-half slopes are first[seed]·ln ρ / second[seed]·ln ρ at every (ρ, length), the
    whole-sequence slope their mean, and the mean-field rate off from it by mean_field_off (relative)."""
    rows = []
    for a, b in zip(first, second):
        row = {}
        for r in cfg["rhos"]:
            for n in cfg["lengths"]:
                k, lr = spec.key("rnn", r, n), math.log(r)
                row |= {f"{k}_first_slope": a * lr, f"{k}_second_slope": b * lr, f"{k}_slope": (a + b) / 2 * lr,
                        f"{k}_predicted_rate": (a + b) / 2 * lr * (1 + mean_field_off)}
        rows.append(row)
    return {"rnn": rows}


@pytest.mark.parametrize("first, second, verdict", [
    ([1.10, 1.12, 1.09, 1.11, 1.10], [1.11, 1.10, 1.12, 1.09, 1.10], "shown"),  # one rate along the sequence
    ([1.10, 1.12, 1.09, 1.11, 1.10], [0.40, 0.45, 0.38, 0.42, 0.41], "refuted"),  # slows down: not exponential
    ([1.10, 1.12, 1.09, 1.11, 1.10], [1.30, 0.85, 1.45, 0.95, 1.20], "inconclusive"),  # too noisy to tell
])
def test_old_claim_is_exponential_decay_a_constant_rate_along_the_sequence(first, second, verdict):
    f = judge._exponential(LONG, fake_halves(first, second))
    assert f["id"] == "old_claim" and f["primary"] and f["verdict"] == verdict
    assert "TOST" in f["rule"] and "±0.2" in f["rule"]
    # judged only at ρ < 1 and at lengths over 50 (the claim's own condition): 2 ρ × 2 lengths × 2 parts
    assert len(f["parts"]) == 8 and not any("T = 30" in k or "1.5" in k for k in f["parts"])


def test_old_claim_holds_for_exponential_decay_off_the_mean_field_rate():
    """The old rule judged the claim by the mean-field formula: an exactly exponential decay whose rate is 50% off
    the formula was refuted; the claim (exponential decay) is shown, and the formula's miss is secondary."""
    runs = fake_halves([1.10, 1.12, 1.09, 1.11, 1.10], [1.11, 1.10, 1.12, 1.09, 1.10], mean_field_off=0.5)
    found = {f["id"]: f for f in (judge._exponential(LONG, runs), judge._rate(LONG, runs))}
    assert found["old_claim"]["verdict"] == "shown" and found["old_claim"]["primary"]
    assert found["mean_field_rate"]["verdict"] == "refuted" and not found["mean_field_rate"]["primary"]


def test_old_claim_needs_the_gradient_to_decay():
    f = judge._exponential(LONG, fake_halves([-1.0, -1.02, -0.99, -1.01, -1.0], [-1.01, -1.0, -1.02, -0.99, -1.0]))
    assert f["verdict"] == "refuted" and f["parts"]["decay, ρ = 0.5, T = 100"]["verdict"] == "refuted"


def test_vanishing_is_a_one_sided_test_per_small_rho():
    cfg = TINY | {"rhos": [0.5, 0.9]}
    rows = [{f"{spec.key('rnn', r, 30)}_log10_ratio": v for r, v in ((0.5, -20 - s), (0.9, -3.0 - 0.1 * s))}
            for s in range(5)]
    f = judge._vanishing(cfg, {"rnn": rows})
    assert f["verdict"] == "refuted" and set(f["parts"]) == {"ρ = 0.5", "ρ = 0.9"}
    assert f["parts"]["ρ = 0.5"]["verdict"] == "shown" and f["parts"]["ρ = 0.9"]["verdict"] == "refuted"


def test_plots_render(untrained, tmp_path):
    m, rows, history = untrained
    files = figures.plot(TINY, m, rows, history, tmp_path)
    assert [f["file"] for f in files] == ["gradient_vs_distance.png", "rate_vs_log_rho.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 10_000 for f in files)
