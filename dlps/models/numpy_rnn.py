"""A character-level vanilla RNN language model in NumPy: forward, BPTT, clipping, Adam, sampling."""

from __future__ import annotations

import numpy as np

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_params(vocab: int, hidden: int, rng: np.random.Generator, dtype=np.float32) -> dict[str, np.ndarray]:
    """Draw every parameter from U(-1/sqrt(hidden), 1/sqrt(hidden)), the torch.nn.RNN and
    nn.Linear(hidden, vocab) default, so the NumPy and torch models start from the same distribution.

    Shapes: W_xh (H, V), W_hh (H, H), b_h (H,), W_hy (V, H), b_y (V,).
    """
    bound = 1.0 / np.sqrt(hidden)
    shapes = {"W_xh": (hidden, vocab), "W_hh": (hidden, hidden), "b_h": (hidden,),
              "W_hy": (vocab, hidden), "b_y": (vocab,)}
    return {name: rng.uniform(-bound, bound, shapes[name]).astype(dtype) for name in PARAM_NAMES}


def forward(params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Run the RNN over int inputs x (B, T) from state h0 (B, H); return logits (B, T, V) and a cache for backward."""
    # W_xh @ onehot(x_t) is column x_t of W_xh, so the input term for all steps is one gather. It is stored
    # time-major (T, B, H) so each step's slice is contiguous, and each step overwrites its slice with h_t.
    x = np.asarray(x)
    hs = params["W_xh"].T[x.T] + params["b_h"]
    # a contiguous W_hh.T makes the per-step matmul ~30% faster than the transposed view (OpenBLAS, 1 thread)
    W_hh_T = np.ascontiguousarray(params["W_hh"].T)
    h = h0
    for t in range(hs.shape[0]):
        hs[t] += h @ W_hh_T
        h = np.tanh(hs[t], out=hs[t])
    logits = hs @ params["W_hy"].T + params["b_y"]
    return logits.transpose(1, 0, 2), (x, h0, hs)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy (nats) over all B*T positions, and its gradient w.r.t. the logits."""
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    b, t = np.indices(y.shape)
    loss = -logp[b, t, y].mean()
    dlogits = np.exp(logp)
    dlogits[b, t, y] -= 1.0
    dlogits /= y.size
    return float(loss), dlogits


def backward(params: dict[str, np.ndarray], cache: tuple,
             dlogits: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Backpropagate dlogits (B, T, V) through time; return gradients for every parameter and for h0."""
    x, h0, hs = cache
    T, B, H = hs.shape
    V = dlogits.shape[-1]
    dl = dlogits.transpose(1, 0, 2).reshape(T * B, V)
    hs_flat = hs.reshape(T * B, H)
    grads = {"W_hy": dl.T @ hs_flat, "b_y": dl.sum(axis=0)}
    # da starts as dL/dh_t from the head and becomes dL/d(pre-activation) step by step, in place.
    da = (dl @ params["W_hy"]).reshape(T, B, H)
    dtanh = 1.0 - hs * hs
    dh = np.zeros_like(h0)
    W_hh = params["W_hh"]
    for t in reversed(range(T)):
        da[t] += dh
        da[t] *= dtanh[t]
        dh = da[t] @ W_hh
    da_flat = da.reshape(T * B, H)
    h_prev = np.concatenate([h0[None], hs[:-1]]).reshape(T * B, H)
    grads["W_hh"] = da_flat.T @ h_prev
    grads["b_h"] = da_flat.sum(axis=0)
    # A one-hot matmul scatters the input gradient into columns of W_xh, far faster than np.add.at.
    onehot = np.zeros((T * B, V), dtype=hs.dtype)
    onehot[np.arange(T * B), x.T.ravel()] = 1.0
    grads["W_xh"] = da_flat.T @ onehot
    return grads, dh


def loss_and_grads(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                   h0: np.ndarray | None = None) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Mean next-char loss on (x, y), both (B, T) ints, its gradients, and the final hidden state (B, H)."""
    if h0 is None:
        h0 = np.zeros((x.shape[0], params["W_hh"].shape[0]), dtype=params["W_hh"].dtype)
    logits, cache = forward(params, x, h0)
    loss, dlogits = cross_entropy(logits, y)
    grads, _ = backward(params, cache, dlogits)
    return loss, grads, cache[2][-1].copy()


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale grads in place so their global L2 norm is at most max_norm (as torch.nn.utils.clip_grad_norm_);
    return the norm before clipping."""
    total = float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values())))
    scale = min(max_norm / (total + 1e-6), 1.0)
    for g in grads.values():
        g *= scale
    return total


class Adam:
    """Adam with the update rule of torch.optim.Adam (bias-corrected moments, eps added after the sqrt,
    no weight decay, no amsgrad), updating a dict of NumPy arrays in place."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.lr, self.eps = lr, eps
        self.beta1, self.beta2 = betas
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Apply one update to params given grads."""
        self.t += 1
        step_size = self.lr / (1.0 - self.beta1 ** self.t)
        bias_correction2_sqrt = np.sqrt(1.0 - self.beta2 ** self.t)
        for k, p in params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m += (1.0 - self.beta1) * (g - m)
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            p -= step_size * m / (np.sqrt(v) / bias_correction2_sqrt + self.eps)


def sample(params: dict[str, np.ndarray], start_ids, n: int, temperature: float = 1.0,
           rng: np.random.Generator | None = None) -> np.ndarray:
    """Feed the prompt start_ids (at least one id) through the RNN, then draw n new ids with
    softmax(logits / temperature); return only the n new ids."""
    rng = np.random.default_rng() if rng is None else rng
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in PARAM_NAMES)
    h = np.zeros(W_hh.shape[0], dtype=W_hh.dtype)
    for i in start_ids[:-1]:
        h = np.tanh(W_xh[:, i] + W_hh @ h + b_h)
    nxt = int(start_ids[-1])
    out = np.empty(n, dtype=np.int64)
    for j in range(n):
        h = np.tanh(W_xh[:, nxt] + W_hh @ h + b_h)
        z = (W_hy @ h + b_y).astype(np.float64) / temperature
        p = np.exp(z - z.max())
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        out[j] = nxt
    return out


def evaluate_loss(params: dict[str, np.ndarray], tokens: np.ndarray, seq_len: int, batch: int,
                  carry_state: bool = True) -> float:
    """Mean next-char loss (nats/char) over a held-out token array.

    The array is cut into `batch` contiguous streams of equal length (the remainder is dropped), walked in
    windows of seq_len. With carry_state the hidden state flows across windows, so the result does not depend
    on seq_len and every char after a stream's first is scored with its full left context; without it every
    window starts from h = 0, matching training on independent windows.
    """
    tokens = np.asarray(tokens)
    L = (len(tokens) - 1) // batch
    if L < 1:
        raise ValueError(f"need more than {batch} tokens to evaluate with batch={batch}, got {len(tokens)}")
    starts = np.arange(batch)[:, None] * L
    x_all = tokens[starts + np.arange(L)]
    y_all = tokens[starts + np.arange(L) + 1]
    h0 = np.zeros((batch, params["W_hh"].shape[0]), dtype=params["W_hh"].dtype)
    total = 0.0
    for s in range(0, L, seq_len):
        x, y = x_all[:, s:s + seq_len], y_all[:, s:s + seq_len]
        logits, cache = forward(params, x, h0)
        total += cross_entropy(logits, y)[0] * y.size
        if carry_state:
            h0 = cache[2][-1]
    return total / y_all.size
