"""From-scratch recurrent cells: equality with torch's built-ins, distinct ablations, the sequence regressor."""

import itertools

import pytest
import torch

from dlps.models.cells import (
    CELLS,
    GATES,
    GRUCell,
    LSTMCell,
    Recurrent,
    RNNCell,
    SequenceRegressor,
    ablatable_gates,
    copy_from_builtin,
    gate,
    gate_names,
    gate_rows,
    live_gates,
)

D, H, B, T = 3, 5, 4, 7
PAIRS = [(RNNCell, torch.nn.RNN), (LSTMCell, torch.nn.LSTM), (GRUCell, torch.nn.GRU)]


def run(cell, x):
    """All hidden states of a cell over x."""
    with torch.no_grad():
        return Recurrent(cell)(x)[0]


@pytest.mark.parametrize("cell_cls, builtin_cls", PAIRS)
def test_cells_equal_builtins_with_copied_weights(cell_cls, builtin_cls):
    """float64 outputs and final states match torch.nn.RNN/LSTM/GRU to 1e-10 (well inside the 1e-6 asked for)."""
    torch.manual_seed(0)
    builtin = builtin_cls(D, H, batch_first=True).double()
    cell = cell_cls(D, H).double()
    copy_from_builtin(cell, builtin)
    x = torch.randn(B, T, D, dtype=torch.float64)
    with torch.no_grad():
        expected, expected_state = builtin(x)
        hs, state = Recurrent(cell)(x)
    torch.testing.assert_close(hs, expected, rtol=0, atol=1e-10)
    expected_state = expected_state if isinstance(expected_state, tuple) else (expected_state,)
    for ours, theirs in zip(state, expected_state, strict=True):
        torch.testing.assert_close(ours, theirs.squeeze(0), rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell_cls, builtin_cls", PAIRS)
def test_cells_match_builtin_cells_and_initialise_like_them(cell_cls, builtin_cls):
    """Copying from torch.nn.*Cell also works, and under one seed a fresh cell draws the built-in's exact weights."""
    torch.manual_seed(1)
    builtin = getattr(torch.nn, builtin_cls.__name__ + "Cell")(D, H)
    torch.manual_seed(1)
    cell = cell_cls(D, H)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert torch.equal(getattr(cell, name), getattr(builtin, name)), name
    x, h = torch.randn(B, D), torch.randn(B, H)
    with torch.no_grad():
        if cell_cls is LSTMCell:
            c = torch.randn(B, H)
            for ours, theirs in zip(cell(x, (h, c)), builtin(x, (h, c))):
                torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
        else:
            torch.testing.assert_close(cell(x, (h,))[0], builtin(x, h), rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell_cls, flags", [
    (LSTMCell, [{}, {"forget_gate": False}, {"input_gate": False}, {"output_gate": False}, {"forget_bias": 1.0}]),
    (GRUCell, [{}, {"reset_gate": False}, {"update_gate": False}]),
])
def test_each_ablation_is_a_distinct_model(cell_cls, flags):
    """With identical weights (same seed), every configuration, the full cell included, gives different outputs."""
    torch.manual_seed(5)
    x = torch.randn(B, T, D)
    outputs = []
    for kw in flags:
        torch.manual_seed(2)
        outputs.append(run(cell_cls(D, H, **kw), x))
    for (a, out_a), (b, out_b) in itertools.combinations(zip(map(str, flags), outputs), 2):
        assert (out_a - out_b).abs().max() > 1e-3, f"{a} and {b} give the same output"


@pytest.mark.parametrize("cell_cls, flag, gate_index, saturating_bias", [
    (LSTMCell, "input_gate", 0, 1e4), (LSTMCell, "forget_gate", 1, 1e4), (LSTMCell, "output_gate", 3, 1e4),
    (GRUCell, "reset_gate", 0, 1e4), (GRUCell, "update_gate", 1, -1e4),
])
def test_ablated_gate_is_the_documented_constant(cell_cls, flag, gate_index, saturating_bias):
    """Disabling a gate equals the full cell with that gate saturated: i, f, o, r fixed at 1 and z at 0."""
    torch.manual_seed(9)
    full = cell_cls(D, H).double()
    ablated = cell_cls(D, H, **{flag: False}).double()
    ablated.load_state_dict(full.state_dict())
    with torch.no_grad():
        full.bias_ih[gate_index * H:(gate_index + 1) * H] = saturating_bias
    x = torch.randn(B, T, D, dtype=torch.float64)
    torch.testing.assert_close(run(ablated, x), run(full, x), rtol=0, atol=1e-12)


def test_forget_bias_shifts_only_the_forget_slice_of_the_initial_bias():
    """forget_bias=1 adds exactly 1 to b_ih[H:2H] and leaves every other parameter as drawn."""
    torch.manual_seed(3)
    plain = LSTMCell(D, H)
    torch.manual_seed(3)
    biased = LSTMCell(D, H, forget_bias=1.0)
    delta = biased.bias_ih - plain.bias_ih
    torch.testing.assert_close(delta[H:2 * H], torch.ones(H))
    assert torch.count_nonzero(delta[:H]) == 0 and torch.count_nonzero(delta[2 * H:]) == 0
    for name in ("weight_ih", "weight_hh", "bias_hh"):
        assert torch.equal(getattr(plain, name), getattr(biased, name))


def test_disabled_gates_get_no_gradient():
    """A fixed gate's rows take no part in the computation."""
    torch.manual_seed(6)
    cell = LSTMCell(D, H, forget_gate=False)
    Recurrent(cell)(torch.randn(B, T, D))[0].sum().backward()
    assert torch.count_nonzero(cell.weight_hh.grad[H:2 * H]) == 0
    assert torch.count_nonzero(cell.weight_hh.grad[:H]) > 0


@pytest.mark.parametrize("kind, ablation", [
    ("rnn", {}), ("lstm", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {}),
])
def test_regressor_builtin_and_from_scratch_paths_agree(kind, ablation):
    """Unchanged cells use the fused built-in; under one seed it starts identical to the from-scratch path."""
    torch.manual_seed(7)
    x = torch.randn(B, T, 2)
    torch.manual_seed(4)
    fast = SequenceRegressor(kind, H, builtin=True, **ablation)
    torch.manual_seed(4)
    slow = SequenceRegressor(kind, H, builtin=False, **ablation)
    assert fast.uses_builtin and not slow.uses_builtin
    with torch.no_grad():
        y_fast, y_slow = fast(x), slow(x)
    assert y_fast.shape == (B,)
    torch.testing.assert_close(y_fast, y_slow, rtol=0, atol=1e-6)


def test_regressor_uses_scratch_cell_when_ablated_and_rejects_unknown_flags():
    """An ablated gate forces the from-scratch cell; a flag the cell lacks is an error, not silently ignored."""
    torch.manual_seed(8)
    model = SequenceRegressor("gru", H, update_gate=False)
    assert not model.uses_builtin and model(torch.randn(B, T, 2)).shape == (B,)
    with pytest.raises(TypeError):
        SequenceRegressor("rnn", H, forget_bias=1.0)
    with pytest.raises(ValueError):
        SequenceRegressor("transformer", H)


def test_gate_layout_is_one_api_in_torch_row_order():
    """GATES names the row blocks in torch's order; gate() slices them; the ablation flags are `<gate>_gate`."""
    assert gate_names("lstm") == ("input", "forget", "candidate", "output")
    assert gate_names("gru") == ("reset", "update", "candidate") and gate_names("rnn") == ("candidate",)
    for kind, cls in CELLS.items():
        cell = cls(D, H)
        assert cell.kind == kind and cell.gates == len(GATES[kind]) == cell.weight_ih.shape[0] // H
        assert gate_names(cell) == GATES[kind]
        pre = torch.randn(B, cell.gates * H)
        for i, name in enumerate(gate_names(kind)):
            assert gate_rows(kind, name, H) == slice(i * H, (i + 1) * H)
            assert torch.equal(gate(cell, pre, name), pre.chunk(cell.gates, dim=-1)[i])
        for g in ablatable_gates(kind):  # every ablatable gate is a real keyword of the cell
            cls(D, H, **{f"{g}_gate": False})
    with pytest.raises(ValueError, match="no gate"):
        gate_rows("gru", "forget", H)


def test_gate_helper_reproduces_the_cells_own_gates():
    """sigmoid(gate(cell, W_ih x + b_ih + W_hh h + b_hh, 'forget')) is the forget gate the LSTM step applies."""
    torch.manual_seed(2)
    cell = LSTMCell(D, H).double()
    x, h, c = (torch.randn(B, n, dtype=torch.float64) for n in (D, H, H))
    pre = cell.input_proj(x) + torch.nn.functional.linear(h, cell.weight_hh, cell.bias_hh)
    i, f, g, o = (torch.sigmoid(gate(cell, pre, "input")), torch.sigmoid(gate(cell, pre, "forget")),
                  torch.tanh(gate(cell, pre, "candidate")), torch.sigmoid(gate(cell, pre, "output")))
    h2, c2 = cell(x, (h, c))
    torch.testing.assert_close(c2, f * c + i * g, rtol=0, atol=1e-12)
    torch.testing.assert_close(h2, o * torch.tanh(c2), rtol=0, atol=1e-12)


def test_live_gates_follow_the_ablation_flags():
    assert live_gates("lstm", {}) == GATES["lstm"]
    assert live_gates("lstm", {"forget_gate": False, "forget_bias": 1.0}) == ("input", "candidate", "output")
    assert live_gates("gru", {"update_gate": False}) == ("reset", "candidate")
    with pytest.raises(ValueError, match="no ablatable gate"):
        live_gates("rnn", {"forget_gate": False})
