"""From-scratch RNN, LSTM and GRU cells laid out like torch's built-ins, with gate ablations, and a regressor.

The gate layout lives here and only here: GATES[kind] names each cell's row blocks of W_ih, W_hh, b_ih and b_hh in
torch's order; gate(cell, pre, name) picks one gate's slice of a pre-activation, gate_rows() its row range, and
ablatable_gates()/live_gates() say which gates an ablation flag (`<gate>_gate=False`) fixes to a constant,
and DISABLED which constant."""

from __future__ import annotations

import inspect
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# Row blocks of every weight and bias, in torch.nn.RNN/LSTM/GRU order. "candidate" is the tanh input of the new
# content (LSTM g, GRU n, the vanilla RNN's whole pre-activation); every other name is a sigmoid gate that an
# ablation flag `<name>_gate=False` can fix to a constant.
GATES = {"rnn": ("candidate",), "lstm": ("input", "forget", "candidate", "output"),
         "gru": ("reset", "update", "candidate")}

# The constant an ablated gate is fixed to: 1 lets everything through (input, forget, output, reset); an update
# gate of 0 always takes the new candidate.
DISABLED = {"input": 1.0, "forget": 1.0, "output": 1.0, "reset": 1.0, "update": 0.0}


def gate_names(kind_or_cell) -> tuple[str, ...]:
    """The gate names of a cell kind ('rnn', 'lstm', 'gru') or cell instance, in row order."""
    kind = kind_or_cell if isinstance(kind_or_cell, str) else kind_or_cell.kind
    if kind not in GATES:
        raise ValueError(f"kind must be one of {sorted(GATES)}, got {kind!r}")
    return GATES[kind]


def gate_rows(kind_or_cell, name: str, hidden: int) -> slice:
    """The rows of W_ih / W_hh / b_ih / b_hh (or of a pre-activation's last axis) that belong to gate `name`."""
    names = gate_names(kind_or_cell)
    if name not in names:
        raise ValueError(f"{kind_or_cell!r} has no gate {name!r}; its gates: {', '.join(names)}")
    i = names.index(name)
    return slice(i * hidden, (i + 1) * hidden)


def gate(cell, pre: torch.Tensor, name: str) -> torch.Tensor:
    """Gate `name`'s slice of a pre-activation `pre` (..., G*H) of `cell` (W_ih x + b_ih, W_hh h + b_hh or their
    sum): e.g. torch.sigmoid(gate(cell, xi + recur, "forget")) is an LSTM's forget gate."""
    return pre[..., gate_rows(cell, name, cell.hidden_size)]


def ablatable_gates(kind_or_cell) -> tuple[str, ...]:
    """The gates an ablation flag can fix: every gate but the candidate."""
    return tuple(g for g in gate_names(kind_or_cell) if g != "candidate")


def live_gates(kind: str, ablation: dict) -> tuple[str, ...]:
    """The row blocks that take part in the computation under `ablation` (a disabled gate's rows get no
    gradient); an unknown `<name>_gate` flag is an error."""
    flags = {k[:-len("_gate")]: v for k, v in ablation.items() if k.endswith("_gate")}
    unknown = set(flags) - set(ablatable_gates(kind))
    if unknown:
        raise ValueError(f"{kind} has no ablatable gate {sorted(unknown)}; allowed: {', '.join(ablatable_gates(kind))}")
    return tuple(g for g in gate_names(kind) if flags.get(g, True))


class _Cell(nn.Module):
    """Parameters shared by all cells, named, shaped and initialised exactly as torch.nn.RNNCell/LSTMCell/GRUCell:
    weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,), each U(-1/sqrt(H), 1/sqrt(H)) drawn
    in that order, so under the same torch seed a cell starts from the same weights as the built-in.

    A disabled gate keeps its rows (so weights copy to and from the built-ins); they get zero gradient.
    """

    kind = "rnn"
    gates = len(GATES["rnn"])

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        rows = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def input_proj(self, x: torch.Tensor) -> torch.Tensor:
        """W_ih x + b_ih for any leading shape; the part of a step that does not depend on the state."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def init_state(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The all-zero state for a batch, on like's device and dtype."""
        return (like.new_zeros(batch, self.hidden_size),)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """One step from input x (B, D); returns the new state tuple, whose first entry is h."""
        return self.step(self.input_proj(x), state)


class RNNCell(_Cell):
    """Elman cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), as torch.nn.RNNCell(nonlinearity='tanh')."""

    def step(self, xi: torch.Tensor, state: tuple[torch.Tensor]) -> tuple[torch.Tensor]:
        """Advance the state (h,) given the input projection xi."""
        (h,) = state
        return (torch.tanh(xi + F.linear(h, self.weight_hh, self.bias_hh)),)


class LSTMCell(_Cell):
    """LSTM cell with torch.nn.LSTM's gate order (i, f, g, o) and equations:
    c' = f * c + i * g,  h' = o * tanh(c').

    Ablations: forget_gate=False fixes f = 1 (the cell state only accumulates), input_gate=False fixes i = 1,
    output_gate=False fixes o = 1; forget_bias is added to the forget slice of b_ih at init (0 is torch's
    default, 1 is the Gers et al. 2000 / Jozefowicz et al. 2015 recommendation).
    """

    kind = "lstm"
    gates = len(GATES["lstm"])

    def __init__(self, input_size: int, hidden_size: int, forget_gate: bool = True, input_gate: bool = True,
                 output_gate: bool = True, forget_bias: float = 0.0):
        super().__init__(input_size, hidden_size)
        self.forget_gate, self.input_gate, self.output_gate = forget_gate, input_gate, output_gate
        with torch.no_grad():
            self.bias_ih[gate_rows("lstm", "forget", hidden_size)] += forget_bias

    def init_state(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero (h, c)."""
        return (like.new_zeros(batch, self.hidden_size), like.new_zeros(batch, self.hidden_size))

    def step(self, xi: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance (h, c) given the input projection xi."""
        h, c = state
        i, f, g, o = (xi + F.linear(h, self.weight_hh, self.bias_hh)).chunk(self.gates, dim=-1)  # GATES order
        i = torch.sigmoid(i) if self.input_gate else DISABLED["input"]
        f = torch.sigmoid(f) if self.forget_gate else DISABLED["forget"]
        o = torch.sigmoid(o) if self.output_gate else DISABLED["output"]
        c = f * c + i * torch.tanh(g)
        return (o * torch.tanh(c), c)


class GRUCell(_Cell):
    """GRU cell with torch.nn.GRU's gate order (r, z, n) and equations:
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.

    Ablations: reset_gate=False fixes r = 1 (the candidate always sees the whole state); update_gate=False
    fixes z = 0, so the cell always takes the new candidate, h' = n (no gated skip path through time).
    """

    kind = "gru"
    gates = len(GATES["gru"])

    def __init__(self, input_size: int, hidden_size: int, reset_gate: bool = True, update_gate: bool = True):
        super().__init__(input_size, hidden_size)
        self.reset_gate, self.update_gate = reset_gate, update_gate

    def step(self, xi: torch.Tensor, state: tuple[torch.Tensor]) -> tuple[torch.Tensor]:
        """Advance the state (h,) given the input projection xi."""
        (h,) = state
        x_r, x_z, x_n = xi.chunk(self.gates, dim=-1)  # GATES order: reset, update, candidate
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(self.gates, dim=-1)
        r = torch.sigmoid(x_r + h_r) if self.reset_gate else DISABLED["reset"]
        z = torch.sigmoid(x_z + h_z) if self.update_gate else DISABLED["update"]
        n = torch.tanh(x_n + r * h_n)
        return ((1.0 - z) * n + z * h,)


class Recurrent(nn.Module):
    """Run a cell over a (B, T, D) sequence; return all hidden states (B, T, H) and the final state tuple."""

    def __init__(self, cell: _Cell):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None):
        state = self.cell.init_state(x.shape[0], x) if state is None else state
        # the input projections do not depend on the recurrence, so one matmul covers every step; unbind rather
        # than index xi[:, t], whose backward would materialise a full-size zero gradient at every step (O(T^2))
        hs = []
        for xi in self.cell.input_proj(x).unbind(1):
            state = self.cell.step(xi, state)
            hs.append(state[0])
        return torch.stack(hs, dim=1), state


def copy_from_builtin(cell: _Cell, builtin: nn.Module) -> None:
    """Copy the weights of a one-layer torch.nn.RNN/LSTM/GRU (layer 0) or of torch.nn.RNNCell/LSTMCell/GRUCell
    into the matching from-scratch cell."""
    if getattr(builtin, "nonlinearity", "tanh") != "tanh":
        raise ValueError("only tanh RNNs match RNNCell")
    suffix = "_l0" if hasattr(builtin, "weight_ih_l0") else ""
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(builtin, name + suffix))


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
BUILTINS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceRegressor(nn.Module):
    """A recurrent layer plus a linear head on the last hidden state, mapping (B, T, D) inputs to (B,) predictions.

    kind is 'rnn', 'lstm' or 'gru'; ablation holds the cell's keyword flags (e.g. forget_gate=False, forget_bias=1).
    With builtin=True and no gate disabled it uses the fused torch.nn.RNN/LSTM/GRU (forget_bias is added to its
    b_ih), otherwise the from-scratch cell. Both draw their initial weights in the same order, so under the same
    torch seed the built-in and from-scratch versions of a configuration start identical.
    """

    def __init__(self, kind: str, hidden: int, input_size: int = 2, builtin: bool = True, **ablation):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {sorted(CELLS)}, got {kind!r}")
        inspect.signature(CELLS[kind]).bind(input_size, hidden, **ablation)
        standard = all(v for k, v in ablation.items() if k.endswith("_gate"))
        self.uses_builtin = builtin and standard
        if self.uses_builtin:
            self.rnn = BUILTINS[kind](input_size, hidden, batch_first=True)
            with torch.no_grad():
                if kind == "lstm":
                    self.rnn.bias_ih_l0[gate_rows("lstm", "forget", hidden)] += ablation.get("forget_bias", 0.0)
        else:
            self.rnn = Recurrent(CELLS[kind](input_size, hidden, **ablation))
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predict one scalar per sequence from the final hidden state."""
        hs, _ = self.rnn(x)
        return self.head(hs[:, -1]).squeeze(-1)
