"""Text classification helpers: the prepared IMDB files, a vocabulary, id encoding, length-bucketed batches
and a packed-sequence RNN classifier (torch is imported only inside the functions that need it)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from dlps.errors import UserError

PAD, UNK = 0, 1  # reserved ids: padding (never reaches an RNN state: sequences are packed) and out-of-vocabulary


def load_imdb(folder: Path) -> dict[str, dict]:
    """The prepared IMDB splits: {"train"|"test": {"y": int64 labels (1 = positive), "text": token strings}}."""
    out = {}
    for split in ("train", "test"):
        path = Path(folder) / "imdb" / f"{split}.tsv"
        if not path.is_file():
            raise UserError(f"{path}: missing; run `dvc repro prepare@imdb`")
        labels, texts = [], []
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3 or parts[0] not in ("0", "1"):
                    raise UserError(f"{path}:{n}: expected `label<TAB>rating<TAB>tokens`; "
                                    "run `dvc repro prepare@imdb` to rebuild it")
                labels.append(int(parts[0]))
                texts.append(parts[2])
        out[split] = {"y": np.asarray(labels, dtype=np.int64), "text": texts}
    return out


def build_vocab(texts, size: int, min_freq: int = 1) -> dict[str, int]:
    """token -> id for the `size` - 2 most frequent tokens (ties broken alphabetically, so the vocabulary is
    deterministic) seen at least min_freq times; ids 0 and 1 are PAD and UNK."""
    counts = Counter(tok for text in texts for tok in text.split())
    ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    return {tok: i + 2 for i, tok in enumerate(ranked[: max(size - 2, 0)])}


def encode(texts, vocab: dict[str, int], max_len: int, truncate: str = "head") -> list[np.ndarray]:
    """Each text as an int64 id array of at most max_len tokens (at least one: an empty text becomes [UNK]).
    truncate="head" keeps the first max_len tokens, "tail" the last (where reviews tend to give their verdict)."""
    out = []
    for text in texts:
        toks = text.split()
        toks = toks[:max_len] if truncate == "head" else toks[-max_len:]
        ids = np.fromiter((vocab.get(t, UNK) for t in toks), dtype=np.int64, count=len(toks))
        out.append(ids if len(ids) else np.array([UNK], dtype=np.int64))
    return out


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None, chunk: int = 50) -> list:
    """Index batches with little padding: shuffle (if rng), cut into chunks of chunk x batch_size, sort each
    chunk by length, cut it into batches and shuffle the batch order. Within a batch, indices are in
    descending length (as pack_padded_sequence's enforce_sorted wants). Without rng: sorted, in order."""
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


def pad_batch(seqs: list[np.ndarray], idx: np.ndarray):
    """A (B, T) int64 tensor padded with PAD and the (B,) lengths tensor for the sequences at idx."""
    import torch

    lengths = np.array([len(seqs[i]) for i in idx], dtype=np.int64)
    x = np.full((len(idx), int(lengths.max())), PAD, dtype=np.int64)
    for row, i in enumerate(idx):
        x[row, : lengths[row]] = seqs[i]
    return torch.from_numpy(x), torch.from_numpy(lengths)


def reverse_within_length(x, lengths):
    """Each sequence of a right-padded (B, T, ...) batch reversed over its own first lengths[b] steps; padding
    stays at the end. A forward RNN over the result is the backward direction of a BiRNN, padding last."""
    import torch

    t = torch.arange(x.shape[1]).unsqueeze(0)
    idx = torch.where(t < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - t, t)
    return x.gather(1, idx.reshape(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x))


def rnn_classifier(vocab_size: int, embed_dim: int, hidden: int, cell: str, bidirectional: bool, dropout: float):
    """An embedding, one LSTM/GRU layer (two, one per direction, if bidirectional) and a linear read-out of
    the hidden state(s) at each sequence's last real token, giving one logit for "positive".

    Batches are right-padded and run unpacked (packed sequences take a per-step path that was ~5x slower on
    CPU here, and bf16 autocast speeds up only the padded path); padding never reaches the state that is read:
    the forward state is gathered at step lengths-1, before any padding, and the backward direction runs
    forward over each sequence reversed within its length, so its padding also comes after step lengths-1.
    """
    import torch
    from torch import nn

    class RNNClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
            rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.fwd = rnn(embed_dim, hidden, batch_first=True)
            self.bwd = rnn(embed_dim, hidden, batch_first=True) if bidirectional else None
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(hidden * (2 if bidirectional else 1), 1)

        @staticmethod
        def _last(rnn, e, lengths):
            out, _ = rnn(e)  # (B, T, H): out[:, t] depends on steps <= t only
            return out[torch.arange(len(lengths)), lengths - 1]

        def forward(self, x, lengths):
            e = self.drop(self.embed(x))
            feat = self._last(self.fwd, e, lengths)
            if self.bwd is not None:
                feat = torch.cat([feat, self._last(self.bwd, reverse_within_length(e, lengths), lengths)], dim=1)
            return self.out(self.drop(feat.float())).squeeze(1)

    return RNNClassifier()


def predict(model, seqs: list[np.ndarray], batch_size: int = 512, bf16: bool = False) -> np.ndarray:
    """P(positive) for every sequence, in eval mode (length-sorted batches for speed; returned in input order)."""
    import torch

    was_training = model.training
    model.eval()
    lengths = np.array([len(s) for s in seqs])
    probs = np.empty(len(seqs))
    with torch.inference_mode():
        for idx in bucket_batches(lengths, batch_size, None):
            x, lens = pad_batch(seqs, idx)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                probs[idx] = torch.sigmoid(model(x, lens).float()).numpy()
    model.train(was_training)
    return probs


def log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(probs, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_rnn(model, train: tuple[list, np.ndarray], val: tuple[list, np.ndarray], *, epochs: int, batch_size: int,
            lr: float, clip: float, patience: int, seed: int, bf16: bool = False, chunk: int = 50,
            eval_batch: int = 512):
    """Adam on binary cross-entropy over length-bucketed minibatches (order from a generator seeded with
    `seed`; weights re-initialised under `seed`), gradient-norm clipping at `clip`. After each epoch the
    validation accuracy decides the best epoch (first maximum); training stops after `patience` epochs
    without improvement. Returns (history rows, state_dict of the best epoch)."""
    import time

    import torch
    import torch.nn.functional as F

    from dlps.training import clone_state, init_model

    init_model(model, seed)
    seqs, y = train
    lengths = np.array([len(s) for s in seqs])
    yt = torch.from_numpy(y).float()
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, best_state, best_acc, waited = [], None, -1.0, 0
    for epoch in range(1, epochs + 1):
        start, cpu = time.perf_counter(), time.process_time()
        model.train()
        running, n = 0.0, 0
        for idx in bucket_batches(lengths, batch_size, rng, chunk):
            x, lens = pad_batch(seqs, idx)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(x, lens)
            loss = F.binary_cross_entropy_with_logits(logits.float(), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            running += loss.item() * len(idx)
            n += len(idx)
        train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
        probs = predict(model, val[0], eval_batch, bf16)
        val_acc = float(np.mean((probs > 0.5) == val[1]))
        history.append({"epoch": epoch, "train_loss": running / n, "val_loss": log_loss(probs, val[1]),
                        "val_acc": val_acc, "train_time_s": train_s, "train_cpu_s": train_cpu,
                        "epoch_time_s": time.perf_counter() - start})
        if val_acc > best_acc:
            best_state, best_acc, waited = clone_state(model), val_acc, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return history, best_state
