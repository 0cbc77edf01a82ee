"""The PyTorch twin of numpy_rnn: torch.nn.RNN over one-hot chars plus a linear head."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TorchCharRNN(nn.Module):
    """Char-level tanh RNN language model with exactly the parameters of numpy_rnn.

    torch.nn.RNN carries two biases, b_ih and b_hh, where the NumPy model has one (b_h). b_hh is pinned
    at zero and frozen (requires_grad=False) so b_ih plays b_h: with both trainable, each would receive
    the gradient of b_h and Adam would move their sum twice as far as the NumPy model moves b_h.
    """

    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.vocab = vocab
        self.rnn = nn.RNN(vocab, hidden, nonlinearity="tanh", batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        with torch.no_grad():
            self.rnn.bias_hh_l0.zero_()
        self.rnn.bias_hh_l0.requires_grad_(False)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Map int chars x (B, T) and optional state h0 (B, H) to logits (B, T, V) and the final state (B, H)."""
        onehot = F.one_hot(x, self.vocab).to(self.head.weight.dtype)
        out, h = self.rnn(onehot, None if h0 is None else h0.unsqueeze(0))
        return self.head(out), h.squeeze(0)


def load_numpy_params(model: TorchCharRNN, params: dict[str, np.ndarray]) -> None:
    """Copy a numpy_rnn parameter dict into the twin (b_h to b_ih; b_hh stays zero), keeping the model's dtype."""
    targets = {"W_xh": model.rnn.weight_ih_l0, "W_hh": model.rnn.weight_hh_l0, "b_h": model.rnn.bias_ih_l0,
               "W_hy": model.head.weight, "b_y": model.head.bias}
    with torch.no_grad():
        for name, p in targets.items():
            p.copy_(torch.from_numpy(np.asarray(params[name])))
        model.rnn.bias_hh_l0.zero_()
