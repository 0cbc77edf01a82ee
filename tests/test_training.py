"""Tests for the in-memory training loop, its seeding, early stopping and the L2 penalty."""

import math

import pytest
import torch

from dlps.models import training as tr
from dlps.models.vision import MLP, SmallCNN
from dlps.runtime import Runtime

TIME_KEYS = ("train_time_s", "epoch_time_s")


pytestmark = pytest.mark.usefixtures("one_thread")


def toy_data(n_train=256, n_val=128, dim=64, noisy_labels=False, seed=0):
    """uint8 vectors labelled by which half is brighter (linearly separable) or at random."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n_train + n_val, dim), dtype=torch.uint8, generator=g)
    if noisy_labels:
        y = torch.randint(0, 2, (n_train + n_val,), generator=g)
    else:
        y = (x[:, : dim // 2].float().mean(1) > x[:, dim // 2 :].float().mean(1)).long()
    return {"x_train": x[:n_train], "y_train": y[:n_train], "x_val": x[n_train:], "y_val": y[n_train:]}


def strip_times(history):
    return [{k: v for k, v in row.items() if k not in TIME_KEYS} for row in history]


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


CFG = {"epochs": 5, "batch_size": 32, "lr": 0.05}


def test_loss_decreases_on_separable_problem():
    data = toy_data()
    model = MLP(64, [32], 2)
    stats = tr.input_stats(data["x_train"])
    initial_loss, _ = tr.evaluate(tr.init_model(model, 0), data["x_train"], data["y_train"], stats)
    history, _, _ = tr.fit(model, data, CFG, seed=0)
    assert history[-1]["train_loss"] < initial_loss / 2
    assert history[-1]["val_acc"] > 0.85
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]


def test_same_seed_reproduces_and_different_seed_differs():
    data = toy_data()
    h1, best1, final1 = tr.fit(MLP(64, [32], 2, dropout_p=0.2), data, CFG, seed=7)
    h2, best2, final2 = tr.fit(MLP(64, [32], 2, dropout_p=0.2), data, CFG, seed=7)
    h3, _, final3 = tr.fit(MLP(64, [32], 2, dropout_p=0.2), data, CFG, seed=8)
    assert strip_times(h1) == strip_times(h2)
    assert states_equal(final1, final2) and states_equal(best1, best2)
    assert strip_times(h1) != strip_times(h3)
    assert not states_equal(final1, final3)


def test_dropout_variants_share_initial_weights():
    plain = tr.clone_state(tr.init_model(MLP(64, [32, 16], 2), 3))
    dropped = tr.clone_state(tr.init_model(MLP(64, [32, 16], 2, dropout_p=0.5), 3))
    other_seed = tr.clone_state(tr.init_model(MLP(64, [32, 16], 2), 4))
    assert states_equal(plain, dropped)
    assert not states_equal(plain, other_seed)
    # fit initialises under its seed: with lr = 0 the final weights are the initial ones.
    _, _, final = tr.fit(MLP(64, [32, 16], 2, dropout_p=0.5), toy_data(), {**CFG, "epochs": 1, "lr": 0.0}, seed=3)
    assert states_equal(final, plain)


class BatchRecorder(torch.nn.Module):
    """Passes input through, remembering every training batch it sees."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x.clone())
        return x


def test_data_order_depends_only_on_seed():
    # Dropout consumes the global RNG; the minibatch order must not depend on it.
    with_dropout = torch.nn.Sequential(BatchRecorder(), torch.nn.Dropout(0.5), torch.nn.Linear(64, 2))
    without = torch.nn.Sequential(BatchRecorder(), torch.nn.Linear(64, 2))
    cfg = {**CFG, "epochs": 3}
    tr.fit(with_dropout, toy_data(), cfg, seed=5)
    tr.fit(without, toy_data(), cfg, seed=5)
    a, b = with_dropout[0].seen, without[0].seen
    assert len(a) == len(b) == 3 * 8 and all(torch.equal(u, v) for u, v in zip(a, b))


def test_train_metrics_are_measured_in_eval_mode():
    data = toy_data()
    model = MLP(64, [64], 2, dropout_p=0.5)
    history, _, _ = tr.fit(model, data, CFG, seed=0)
    stats = tr.input_stats(data["x_train"])
    eval_loss, eval_acc = tr.evaluate(model, data["x_train"], data["y_train"], stats)
    assert history[-1]["train_loss"] == pytest.approx(eval_loss, rel=1e-6)
    assert history[-1]["train_acc"] == eval_acc
    model.train()
    with torch.no_grad():
        train_mode_loss = torch.nn.functional.cross_entropy(
            model(tr.prepare(data["x_train"], stats)), data["y_train"]
        ).item()
    assert abs(train_mode_loss - eval_loss) > 1e-3
    assert abs(history[-1]["train_loss_running"] - history[-1]["train_loss"]) > 1e-3


def test_early_stop_epoch_rule():
    assert tr.early_stop_epoch([1.0, 0.8, 0.85, 0.9, 0.7], patience=2) == (4, 2)
    assert tr.early_stop_epoch([1.0, 0.8, 0.85, 0.7], patience=2) == (4, 4)
    # Improvements smaller than min_delta do not reset patience, but still count as the best.
    assert tr.early_stop_epoch([1.0, 0.99, 0.98, 0.97], patience=2, min_delta=0.05) == (3, 3)
    assert tr.early_stop_epoch([1.0, math.nan, 0.9], patience=5) == (3, 3)


def test_early_stopped_run_is_prefix_of_full_run():
    data = toy_data(n_train=64, n_val=64, noisy_labels=True)
    cfg = {**CFG, "epochs": 12, "lr": 0.1}
    full, _, _ = tr.fit(MLP(64, [64], 2), data, cfg, seed=1)
    stop, best = tr.early_stop_epoch([row["val_loss"] for row in full], patience=2)
    assert stop < len(full)
    model = MLP(64, [64], 2)
    live, best_state, _ = tr.fit(model, data, {**cfg, "patience": 2}, seed=1)
    assert strip_times(live) == strip_times(full[:stop])
    model.load_state_dict(best_state)
    val_loss, _ = tr.evaluate(model, data["x_val"], data["y_val"], tr.input_stats(data["x_train"]))
    assert val_loss == pytest.approx(full[best - 1]["val_loss"], rel=1e-6)


def test_l2_penalty_matches_hand_computation_and_excludes_biases():
    model = MLP(3, [2], 2)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    # Weights: 3×2 + 2×2 = 10 entries of 1, so λ/2·Σ‖W‖² = 0.1 / 2 · 10; four biases excluded.
    assert tr.l2_penalty(model, 0.1).item() == pytest.approx(0.5)
    assert tr.weight_norm(model) == pytest.approx(math.sqrt(10))
    with torch.no_grad():
        model.net[0].bias.fill_(100.0)
    assert tr.l2_penalty(model, 0.1).item() == pytest.approx(0.5)
    tr.l2_penalty(model, 0.1).backward()
    assert model.net[0].bias.grad is None and torch.allclose(model.net[0].weight.grad, torch.full((2, 3), 0.1))


def test_weight_norm_shrinks_as_l2_grows():
    data = toy_data()
    norms = []
    for lam in (0.0, 0.01, 0.1):
        model = MLP(64, [32], 2)
        tr.fit(model, data, {**CFG, "l2": lam}, seed=0)
        norms.append(tr.weight_norm(model))
    assert norms[0] > norms[1] > norms[2]


def test_input_stats_are_per_channel():
    x = torch.zeros(10, 3, 4, 4, dtype=torch.uint8)
    x[:, 1] = 255
    x[:5, 2] = 255
    mean, std = tr.input_stats(x, chunk=3)
    assert mean.shape == (1, 3, 1, 1)
    assert torch.allclose(mean.flatten(), torch.tensor([0.0, 1.0, 0.5]))
    assert torch.allclose(std.flatten()[2], torch.tensor(0.5))


def test_cnn_trains_with_bf16_and_channels_last():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (48, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (48,), generator=g)
    data = {"x_train": x[:32], "y_train": y[:32], "x_val": x[32:], "y_val": y[32:]}
    model = SmallCNN(channels=(4, 8), hidden=16)
    cfg = tr.TrainConfig(epochs=2, batch_size=16, optimizer="adam", lr=1e-3, channels_last=True)
    history, _, final = tr.fit(model, data, cfg, seed=0, rt=Runtime("cpu", "bf16"))
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert all(math.isfinite(row["val_loss"]) for row in history)
    assert final["features.0.weight"].is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "strided"])
def test_cnn_pooling_is_torchs_max_pool_bit_for_bit(layout):
    """Values and gradients equal nn.MaxPool2d(2)'s exactly, ties included (which input of a window gets the
    gradient), on ReLU outputs and on values with many equal maxima; output and gradient have its strides too,
    for NCHW, channels-last and other strided (here: transposed) input."""
    from dlps.models.vision import MaxPool2x2

    g = torch.Generator().manual_seed(0)
    for x in (torch.relu(torch.randn(4, 6, 8, 10, generator=g)), torch.randint(0, 3, (4, 6, 8, 10), generator=g).float()):
        if layout == "channels_last":
            x = x.contiguous(memory_format=torch.channels_last)
        elif layout == "strided":
            x = x.transpose(2, 3).contiguous().transpose(2, 3)
        grad = torch.randn(4, 6, 4, 5, generator=g)
        outs = []
        for pool in (torch.nn.MaxPool2d(2), MaxPool2x2()):
            leaf = x.clone().requires_grad_()
            y = pool(leaf)
            y.backward(grad)
            outs.append((y, leaf.grad))
        (y0, g0), (y1, g1) = outs
        assert torch.equal(y0, y1) and torch.equal(g0, g1)
        assert y1.stride() == y0.stride() and g1.stride() == g0.stride()
