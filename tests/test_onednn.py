"""The oneDNN linear layers: nn.Linear's values and gradients up to the order of the sums, repeatable run to run."""

import pytest
import torch

from dlps.models.onednn import use_onednn_linears
from dlps.models.vision import MLP

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")


def _grads(onednn: bool, x, y):
    torch.manual_seed(0)
    model = MLP(12, [16, 8], 3)
    if onednn:
        use_onednn_linears(model)
    out = model(x)
    torch.nn.functional.cross_entropy(out, y).backward()
    return out, [p.grad for p in model.parameters()]


def test_values_and_gradients_match_nn_linear():
    x, y = torch.randn(5, 12), torch.randint(0, 3, (5,))
    out, grads = _grads(False, x, y)
    out1, grads1 = _grads(True, x, y)
    assert torch.allclose(out, out1, atol=1e-6)
    assert all(torch.allclose(g, g1, atol=1e-6) for g, g1 in zip(grads, grads1))
    out2, grads2 = _grads(True, x, y)
    assert torch.equal(out1, out2) and all(torch.equal(a, b) for a, b in zip(grads1, grads2))


def test_the_gradients_are_the_products_of_the_oneDNN_path(monkeypatch):
    calls = []
    real = torch.ops.mkldnn._linear_pointwise
    monkeypatch.setattr("dlps.models.onednn.onednn_gemm", lambda a, b, bias=None: calls.append(1) or real(a, b, bias, "none", [], ""))
    _grads(True, torch.randn(5, 12), torch.randint(0, 3, (5,)))
    assert len(calls) == 3 * 3  # three layers: the forward product and two backward ones each


def test_other_inputs_take_torchs_linear():
    layer = use_onednn_linears(torch.nn.Linear(4, 2))
    x = torch.randn(3, 5, 4)  # 3-D: torch's linear, not the 2-D oneDNN path
    assert torch.equal(layer(x), torch.nn.functional.linear(x, layer.weight, layer.bias))
