"""Vanishing gradients: the per-step gradient measurement, the spectral radius, the decay-rate theory, the findings."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlps.experiments import vanishing_gradients as exp
from dlps.models.cells import RNNCell
from dlps.params import ParamError
from dlps.pipeline import aggregate

CPU = SimpleNamespace(device="cpu")
TINY = {"workers": 1, "lengths": [10, 30], "rhos": [0.5, 1.0, 1.5], "hidden": 8, "batch": 16, "early_steps": 2,
        "train_length": 30, "train_rho": 1.0, "train_batch": 16, "lr": 0.01, "clip": 1.0, "max_steps": 0,
        "eval_every": 10, "target_mse": 0.01}


class LinearRNNCell(RNNCell):
    """h' = W_ih x + b_ih + W_hh h + b_hh: without tanh, ∂h_t/∂h_(t-1) = W_hh exactly."""

    def step(self, xi, state):
        (h,) = state
        return (xi + F.linear(h, self.weight_hh, self.bias_hh),)


def test_gradient_norms_equal_a_manual_backward_pass():
    torch.manual_seed(0)
    cell, head = RNNCell(2, 3).double(), torch.nn.Linear(3, 1).double()
    x, y = torch.rand(4, 5, 2, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    curve, _ = exp.grad_norms(cell, head, x, y)

    wih, whh = cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy()
    b, w, xs = (cell.bias_ih + cell.bias_hh).detach().numpy(), head.weight.detach().numpy()[0], x.numpy()
    hs = [np.zeros((4, 3))]
    for t in range(5):
        hs.append(np.tanh(xs[:, t] @ wih.T + hs[-1] @ whh.T + b))
    residual = hs[-1] @ w + head.bias.item() - y.numpy()
    g = 2 * residual[:, None] * w[None, :]  # ∂L_i/∂h_T for L_i = residual_i²
    expected = [np.log10(np.linalg.norm(g, axis=1).mean())]
    for t in range(5, 0, -1):  # one step back: through tanh′ at h_t, then W_hh
        g = (g * (1 - hs[t] ** 2)) @ whh
        expected.append(np.log10(np.linalg.norm(g, axis=1).mean()))
    np.testing.assert_allclose(curve, expected, rtol=0, atol=1e-12)


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
    curve, _ = exp.grad_norms(cell, head, x, y)
    d = np.arange(41)
    assert exp.rate(curve, d) == pytest.approx(math.log(rho), abs=1e-9)
    assert curve[40] - curve[0] == pytest.approx(40 * math.log10(rho), abs=1e-8)


def test_tanh_rnn_rate_is_below_log_rho_and_near_the_mean_field_prediction():
    model = exp.build("rnn", 0.9, 16, seed=0)
    m = exp.measure(model, exp.probe(TINY, 0, 40), early_steps=2)
    assert m["slope"] < math.log(0.9)
    assert m["predicted_rate"] == pytest.approx(math.log(0.9 * m["tanh_rms"]), abs=1e-6)
    assert m["slope"] == pytest.approx(m["predicted_rate"], abs=exp.SLOPE_TOL)


def test_check_rejects_inconsistent_params():
    for bad, word in [({"train_length": 20}, "train_length"), ({"train_rho": 1.1}, "train_rho"),
                      ({"early_steps": 10}, "early_steps")]:
        with pytest.raises(ParamError, match=word):
            exp.check(TINY | bad)
    exp.check(TINY)


def metrics_for(cfg, seeds=(0, 1)):
    runs = {v: exp.train(cfg, v, list(seeds), CPU) for v in exp.variants(cfg)}
    rows = {v: r["runs"] for v, r in runs.items()}
    return aggregate(exp, cfg, rows), rows, {v: r["history"] for v, r in runs.items()}


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
        assert r["trained_log10_ratio"] == r["init_log10_ratio"] and r["steps"] == 0
    assert {h["phase"] for h in history["rnn"]} == {"init", "trained"}
    assert len(history["rnn"]) == 2 * (len(TINY["rhos"]) * (11 + 31) + 31)


def test_findings_follow_the_metrics(untrained):
    m, _, _ = untrained
    found = {f["claim"]: f for f in exp.findings(TINY, m)}
    vanish, rate, saturation, gated, trained = found.values()
    assert vanish["shown"] and "every seed" in vanish["text"]  # 0.5^30 < 1e-9
    assert not trained["shown"] and "not shown" in trained["text"]  # nothing was trained: the LSTM is behind
    assert all(isinstance(f["shown"], bool) for f in found.values())


def test_findings_say_not_measured_without_small_or_large_rho(untrained):
    m, _, _ = untrained
    cfg = TINY | {"rhos": [1.0]}
    m = m | {"derived": {k: v for k, v in m["derived"].items() if "rho0" not in k and "rho1.5" not in k}}
    found = exp.findings(cfg, m)
    assert [f["shown"] for f in found][0] is False and "not measured" in found[0]["text"]
    assert found[2]["shown"] is False and "not measured" in found[2]["text"]


def test_plots_render(untrained, tmp_path):
    m, rows, history = untrained
    files = exp.plot(TINY, m, rows, history, tmp_path)
    assert [f["file"] for f in files] == ["gradient_vs_distance.png", "rate_vs_log_rho.png"]
    assert all((tmp_path / f["file"]).stat().st_size > 10_000 for f in files)
