"""The NumPy char-RNN: finite-difference gradients, agreement with torch, Adam training, sampling, evaluation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlps.models import numpy_rnn as nr
from dlps.models.torch_char_rnn import TorchCharRNN, load_numpy_params

V, H, B, T = 5, 4, 2, 6


def rel_err(a, b):
    """Largest entrywise error relative to the larger magnitude of the two arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-300))


@pytest.fixture
def tiny():
    """A float64 model, a batch that uses every char as input, and a non-zero initial state."""
    rng = np.random.default_rng(0)
    params = nr.init_params(V, H, rng, dtype=np.float64)
    # scale up so tanh is well inside its non-linear range and no gradient is near zero
    params = {k: 3 * v for k, v in params.items()}
    x = np.array([[0, 1, 2, 3, 4, 0], [4, 3, 2, 1, 0, 2]])
    y = rng.integers(0, V, size=(B, T))
    h0 = rng.uniform(-0.5, 0.5, size=(B, H))
    return params, x, y, h0


def test_gradients_match_central_differences(tiny):
    """Every entry of every parameter and of h0: |analytic - numeric| / (|a| + |n|) < 1e-6."""
    params, x, y, h0 = tiny

    def loss_at(p, h):
        logits, _ = nr.forward(p, x, h)
        return nr.cross_entropy(logits, y)[0]

    logits, cache = nr.forward(params, x, h0)
    grads, dh0 = nr.backward(params, cache, nr.cross_entropy(logits, y)[1])
    eps = 1e-5
    for name, arr in [*params.items(), ("h0", h0)]:
        analytic = dh0 if name == "h0" else grads[name]
        assert analytic.shape == arr.shape
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss_at(params, h0)
            arr[idx] = old - eps
            down = loss_at(params, h0)
            arr[idx] = old
            numeric = (up - down) / (2 * eps)
            err = abs(analytic[idx] - numeric) / max(abs(analytic[idx]) + abs(numeric), 1e-12)
            assert err < 1e-6, f"{name}{idx}: analytic {analytic[idx]} numeric {numeric}"


def test_matches_torch_rnn_exactly(tiny):
    """float64 logits, loss, final state and every gradient equal torch.nn.RNN + Linear to 1e-9 relative."""
    params, x, y, h0 = tiny
    model = TorchCharRNN(V, H).double()
    load_numpy_params(model, params)
    h0_t = torch.from_numpy(h0).requires_grad_(True)
    logits_t, h_last_t = model(torch.from_numpy(x), h0_t)
    loss_t = F.cross_entropy(logits_t.reshape(-1, V), torch.from_numpy(y).reshape(-1))
    loss_t.backward()

    logits, cache = nr.forward(params, x, h0)
    loss, dlogits = nr.cross_entropy(logits, y)
    grads, dh0 = nr.backward(params, cache, dlogits)
    assert rel_err(logits, logits_t.detach().numpy()) < 1e-9
    assert abs(loss - loss_t.item()) / loss < 1e-9
    assert rel_err(nr.loss_and_grads(params, x, y, h0)[2], h_last_t.detach().numpy()) < 1e-9
    torch_grads = {"W_xh": model.rnn.weight_ih_l0.grad, "W_hh": model.rnn.weight_hh_l0.grad,
                   "b_h": model.rnn.bias_ih_l0.grad, "W_hy": model.head.weight.grad, "b_y": model.head.bias.grad}
    for name, g in torch_grads.items():
        assert rel_err(grads[name], g.numpy()) < 1e-9, name
    assert rel_err(dh0, h0_t.grad.numpy()) < 1e-9
    assert model.rnn.bias_hh_l0.grad is None


def test_adam_training_matches_torch():
    """50 float64 steps of NumPy model + NumPy Adam + clipping vs the torch twin + torch.optim.Adam +
    clip_grad_norm_, from the same weights on the same batches: every step's loss agrees to
    |delta loss| < 1e-8 nats and the final weights to 1e-8 relative. lr and max_norm are chosen so the
    loss falls clearly and clipping is active on some steps but not all."""
    vocab, hidden, batch, seq, steps, lr, max_norm = 11, 16, 4, 12, 50, 3e-2, 1.0
    rng = np.random.default_rng(1)
    # a stream with structure (mostly "next char = previous + 1") so the loss has something to learn
    stream = np.cumsum(rng.choice([1, 1, 1, 2], size=4000)) % vocab
    params = nr.init_params(vocab, hidden, rng, dtype=np.float64)
    model = TorchCharRNN(vocab, hidden).double()
    load_numpy_params(model, params)
    opt_np = nr.Adam(params, lr=lr)
    opt_t = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)

    losses_np, losses_t, norms = [], [], []
    for _ in range(steps):
        starts = rng.integers(0, len(stream) - seq - 1, size=batch)
        x = stream[starts[:, None] + np.arange(seq)]
        y = stream[starts[:, None] + np.arange(seq) + 1]
        loss, grads, _ = nr.loss_and_grads(params, x, y)
        norms.append(nr.clip_grad_norm(grads, max_norm))
        opt_np.step(params, grads)
        losses_np.append(loss)

        opt_t.zero_grad()
        logits, _ = model(torch.from_numpy(x))
        loss_t = F.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(y).reshape(-1))
        loss_t.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        opt_t.step()
        losses_t.append(loss_t.item())

    assert max(abs(a - b) for a, b in zip(losses_np, losses_t)) < 1e-8
    assert losses_np[-1] < losses_np[0] - 0.5
    assert min(norms) < max_norm < max(norms)
    final_t = {"W_xh": model.rnn.weight_ih_l0, "W_hh": model.rnn.weight_hh_l0, "b_h": model.rnn.bias_ih_l0,
               "W_hy": model.head.weight, "b_y": model.head.bias}
    for name, p in final_t.items():
        assert rel_err(params[name], p.detach().numpy()) < 1e-8, name


def test_clip_grad_norm_scales_to_max_norm():
    """Clipping returns the pre-clip norm, leaves small gradients alone and scales large ones to max_norm."""
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert nr.clip_grad_norm(grads, 10.0) == pytest.approx(5.0)
    assert grads["a"][0] == pytest.approx(3.0, rel=1e-6)
    assert nr.clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    total = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    assert total == pytest.approx(1.0, rel=1e-6)


def test_evaluate_loss_is_mean_nll_and_independent_of_window_when_state_is_carried():
    """With one window per stream it equals loss_and_grads; carrying state makes the window length irrelevant,
    while resetting the state at every window changes the result; a zero model scores log(V)."""
    rng = np.random.default_rng(2)
    params = nr.init_params(V, 8, rng, dtype=np.float64)
    tokens = rng.integers(0, V, size=3 * 20 + 1)
    starts = np.arange(3)[:, None] * 20
    expected = nr.loss_and_grads(params, tokens[starts + np.arange(20)], tokens[starts + np.arange(20) + 1])[0]
    assert nr.evaluate_loss(params, tokens, seq_len=20, batch=3) == pytest.approx(expected, rel=1e-12)
    assert nr.evaluate_loss(params, tokens, seq_len=7, batch=3) == pytest.approx(expected, rel=1e-12)
    assert nr.evaluate_loss(params, tokens, seq_len=7, batch=3, carry_state=False) != pytest.approx(expected)
    zero = {k: np.zeros_like(v) for k, v in params.items()}
    assert nr.evaluate_loss(zero, tokens, seq_len=7, batch=3) == pytest.approx(np.log(V))


def test_sample_is_reproducible_and_greedy_at_low_temperature():
    """Same rng seed gives the same ids; near-zero temperature reproduces the argmax path."""
    params = nr.init_params(V, 8, np.random.default_rng(3), dtype=np.float64)
    params = {k: 3 * v for k, v in params.items()}
    a = nr.sample(params, [1, 2], 30, rng=np.random.default_rng(4))
    b = nr.sample(params, [1, 2], 30, rng=np.random.default_rng(4))
    assert a.shape == (30,) and np.array_equal(a, b) and a.min() >= 0 and a.max() < V

    greedy, ids = [], [1, 2]
    for _ in range(10):
        logits, _ = nr.forward(params, np.array([ids]), np.zeros((1, 8)))
        ids.append(int(logits[0, -1].argmax()))
        greedy.append(ids[-1])
    cold = nr.sample(params, [1, 2], 10, temperature=1e-4, rng=np.random.default_rng(5))
    assert cold.tolist() == greedy


def test_float32_params_stay_float32():
    """Training in float32 must not silently promote to float64 anywhere in the hot path."""
    params = nr.init_params(V, H, np.random.default_rng(6), dtype=np.float32)
    x = np.array([[0, 1, 2, 3, 4, 0]])
    loss, grads, h_last = nr.loss_and_grads(params, x, x)
    nr.clip_grad_norm(grads, 1.0)
    nr.Adam(params).step(params, grads)
    assert h_last.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in params.values())
