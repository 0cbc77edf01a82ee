"""A recurrent text classifier: an embedding, one LSTM/GRU layer (two, one per direction, if bidirectional) and a
linear read-out of the hidden state(s) at each sequence's last real token, giving one logit for "positive"."""

from __future__ import annotations

import torch
from torch import nn

from dlps.data.text import PAD

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence of a right-padded (B, T, ...) batch reversed over its own first lengths[b] steps; padding
    stays at the end. A forward RNN over the result is the backward direction of a BiRNN, padding last."""
    t = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    lengths = lengths.to(x.device).unsqueeze(1)
    idx = torch.where(t < lengths, lengths - 1 - t, t)
    return x.gather(1, idx.reshape(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x))


class RNNClassifier(nn.Module):
    """Batches are right-padded and run unpacked (packed sequences took a per-step path that was ~5x slower on
    CPU here); padding never reaches the state that is read: the forward state is gathered at step lengths-1,
    before any padding, and the backward direction runs forward over each sequence reversed within its length,
    so its padding also comes after step lengths-1. forward(x, lengths) -> (B,) logits in fp32."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden: int, cell: str = "lstm", bidirectional: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.fwd = CELLS[cell](embed_dim, hidden, batch_first=True)
        self.bwd = CELLS[cell](embed_dim, hidden, batch_first=True) if bidirectional else None
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    @staticmethod
    def _last(rnn: nn.Module, e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = rnn(e)  # (B, T, H): out[:, t] depends on steps <= t only
        return out[torch.arange(len(lengths), device=out.device), lengths.to(out.device) - 1]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e = self.drop(self.embed(x))
        feat = self._last(self.fwd, e, lengths)
        if self.bwd is not None:
            feat = torch.cat([feat, self._last(self.bwd, reverse_within_length(e, lengths), lengths)], dim=1)
        return self.out(self.drop(feat.float())).squeeze(1).float()
