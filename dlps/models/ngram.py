"""Add-k smoothed character n-gram models (unigram, bigram, ...) as count-based baselines in nats/char."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_TABLE = 50_000_000


@dataclass(frozen=True)
class NGram:
    """An order-n model: logp[ctx, c] = log P(c | previous n-1 chars), ctx = those chars read in base V."""

    order: int
    vocab: int
    k: float
    logp: np.ndarray


def _contexts(tokens: np.ndarray, order: int, vocab: int) -> np.ndarray:
    """Context index of every position that has order-1 predecessors, i.e. of tokens[order-1:]."""
    n = len(tokens) - order + 1
    ctx = np.zeros(n, dtype=np.int64)
    for j in range(order - 1):
        ctx = ctx * vocab + tokens[j:j + n]
    return ctx


def fit(tokens: np.ndarray, vocab: int, order: int = 2, k: float = 1.0) -> NGram:
    """Count (context, next char) pairs in training ids and smooth: P(c | ctx) = (count + k) / (count(ctx) + k V).

    The table is dense, V**order entries (a trigram at V = 65 is 275k), so high orders are refused.
    """
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    if k <= 0:
        raise ValueError(f"k must be positive so unseen pairs get probability, got {k}")
    if vocab ** order > MAX_TABLE:
        raise ValueError(f"a dense order-{order} table over {vocab} chars has {vocab ** order} entries")
    tokens = np.asarray(tokens, dtype=np.int64)
    n_ctx = vocab ** (order - 1)
    pairs = _contexts(tokens, order, vocab) * vocab + tokens[order - 1:]
    counts = np.bincount(pairs, minlength=n_ctx * vocab).reshape(n_ctx, vocab)
    probs = (counts + k) / (counts.sum(axis=1, keepdims=True) + k * vocab)
    return NGram(order=order, vocab=vocab, k=k, logp=np.log(probs))


def nll(model: NGram, tokens: np.ndarray) -> float:
    """Mean negative log-likelihood in nats/char of tokens[order-1:], each given its order-1 predecessors."""
    tokens = np.asarray(tokens, dtype=np.int64)
    ctx = _contexts(tokens, model.order, model.vocab)
    return float(-model.logp[ctx, tokens[model.order - 1:]].mean())
