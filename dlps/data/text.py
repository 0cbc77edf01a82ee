"""Text as model input: a vocabulary, id encoding, length-bucketed batch indices and padded batches.

Loading the IMDB files is dlps.data.imdb; the classifier is dlps.models.text_rnn (torch is imported only by
pad_batch)."""

from __future__ import annotations

from collections import Counter

import numpy as np

PAD, UNK = 0, 1  # reserved ids: padding (never reaches the state a classifier reads) and out-of-vocabulary


def build_vocab(texts, size: int, min_freq: int = 1) -> dict[str, int]:
    """token -> id for the `size` - 2 most frequent tokens (ties broken alphabetically, so the vocabulary is
    deterministic) seen at least min_freq times; ids 0 and 1 are PAD and UNK."""
    counts = Counter(tok for text in texts for tok in text.split())
    ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    return {tok: i + 2 for i, tok in enumerate(ranked[: max(size - 2, 0)])}


def clip_tokens(text: str, max_len: int, truncate: str = "head") -> list[str]:
    """The whitespace tokens of text that a model limited to max_len tokens reads: truncate="head" keeps the
    first max_len, "tail" the last (where reviews tend to give their verdict)."""
    toks = text.split()
    return toks[:max_len] if truncate == "head" else toks[-max_len:]


def encode(texts, vocab: dict[str, int], max_len: int, truncate: str = "head") -> list[np.ndarray]:
    """Each text as an int64 id array of its clip_tokens (at least one: an empty text becomes [UNK])."""
    out = []
    for text in texts:
        toks = clip_tokens(text, max_len, truncate)
        ids = np.fromiter((vocab.get(t, UNK) for t in toks), dtype=np.int64, count=len(toks))
        out.append(ids if len(ids) else np.array([UNK], dtype=np.int64))
    return out


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None, chunk: int = 50) -> list:
    """Index batches with little padding: shuffle (if rng), cut into chunks of chunk x batch_size, sort each
    chunk by length, cut it into batches and shuffle the batch order. Within a batch, indices are in
    descending length. Without rng: sorted, in order."""
    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    size = chunk * batch_size if rng is not None else n
    batches = []
    for start in range(0, n, size):
        part = order[start:start + size]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def pad_batch(seqs: list[np.ndarray], idx: np.ndarray, device=None):
    """A (B, T) int64 tensor right-padded with PAD and the (B,) lengths tensor for the sequences at idx, on
    `device` (the CPU when None)."""
    import torch

    lengths = np.array([len(seqs[i]) for i in idx], dtype=np.int64)
    x = np.full((len(idx), int(lengths.max())), PAD, dtype=np.int64)
    for row, i in enumerate(idx):
        x[row, : lengths[row]] = seqs[i]
    return torch.from_numpy(x).to(device), torch.from_numpy(lengths).to(device)
