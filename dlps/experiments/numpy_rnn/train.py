"""Training for the numpy_rnn experiment: a character-level vanilla RNN language model in NumPy on
tiny-shakespeare, its count baselines, and its PyTorch twin.

The model (dlps.models.numpy_rnn) is tanh RNN + linear head + softmax cross-entropy, trained by full BPTT over
windows of seq_len chars drawn at random positions of the training part (each window starts from h = 0), with
global-norm gradient clipping and Adam, in float32. The text is split by position into train / validation / test
(the last test_fraction is the test part, the val_fraction before it validates). Unigram and bigram add-k models
fitted on the training part are the baselines. Held-out loss is scored with the hidden state carried across
windows (`evaluate_loss(carry_state=True)`), so every char is predicted from all the text before it in its stream.
Validation is scored every eval_every steps for the curves; the test part once, after the last step.

Besides the losses, each seed replays its first `torch_steps` batches through the PyTorch twin
(dlps.models.torch_char_rnn: same initial weights, torch.optim.Adam, clip_grad_norm_, on the runtime's device), in
float32 to time it against the NumPy steps, and with both implementations in float64 to check that they compute
the same training run. In float32 the two loss curves agree to ~1e-7 until a gradient spike in BPTT amplifies
rounding differences, after which they can drift 1e-3 to 4e-2 nats apart (measured on tiny-shakespeare; about as
far as either implementation's own float32 run drifts from its float64 run). In float64 they stayed within 1e-8,
so float64 is where agreement is judged, and the float32 gap is recorded next to the NumPy float32-vs-float64 gap.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from dlps import progress
from dlps.errors import UserError
from dlps.experiments.numpy_rnn.spec import DATASET, EVAL_WINDOW, LN2, NAME
from dlps.schema import ParamError


# ----------------------------------------------------------------------------------------------- data

def load_corpus(folder: Path) -> tuple[np.ndarray, list[str]]:
    """The prepared token ids (as intp, ready to index with) and the vocabulary (id -> char)."""
    folder = Path(folder) / DATASET
    tokens_path, vocab_path = folder / "tokens.npy", folder / "vocab.json"
    for path in (tokens_path, vocab_path):
        if not path.is_file():
            raise UserError(f"{path}: missing; run `dvc repro prepare@{DATASET}` (and keep {DATASET} in "
                            "data.datasets)")
    vocab = json.loads(vocab_path.read_text())
    tokens = np.load(tokens_path).astype(np.intp)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= len(vocab)):
        raise UserError(f"{tokens_path}: ids outside the {len(vocab)}-char vocabulary; re-run "
                        f"`dvc repro prepare@{DATASET}`")
    return tokens, vocab


def split(cfg: dict, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """By position, no shuffling: the first 1 - val_fraction - test_fraction of the text trains, the next
    val_fraction validates, the last test_fraction is the test part."""
    n = len(tokens)
    train_end = int(round(n * (1.0 - (cfg["val_fraction"] + cfg["test_fraction"]))))
    val_end = int(round(n * (1.0 - cfg["test_fraction"])))
    train, val, test = tokens[:train_end], tokens[train_end:val_end], tokens[val_end:]
    if len(train) < cfg["seq_len"] + 2:
        raise UserError(f"{NAME}: the training split has {len(train)} chars, fewer than seq_len + 2 "
                        f"({cfg['seq_len'] + 2}); lower {NAME}.seq_len, {NAME}.val_fraction or {NAME}.test_fraction")
    for part, ids, key in (("validation", val, "val_fraction"), ("test", test, "test_fraction")):
        if len(ids) < 2 * cfg["eval_batch"] + 1:
            raise UserError(f"{NAME}: the {part} split has {len(ids)} chars, too few for eval_batch = "
                            f"{cfg['eval_batch']} streams of at least 2; lower {NAME}.eval_batch or raise "
                            f"{NAME}.{key}")
    return train, val, test


def prompt_ids(cfg: dict, vocab: list[str]) -> list[int]:
    index = {c: i for i, c in enumerate(vocab)}
    missing = sorted({c for c in cfg["prompt"] if c not in index})
    if missing:
        raise ParamError(f"{NAME}.prompt: got {cfg['prompt']!r}; allowed: chars of the {DATASET} vocabulary "
                         f"(not {', '.join(map(repr, missing))})")
    return [index[c] for c in cfg["prompt"]]


def windows(tokens: np.ndarray, starts: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs tokens[s : s+T] and next-char targets tokens[s+1 : s+T+1] for each start s, both (B, T)."""
    idx = starts[:, None] + np.arange(seq_len)
    return tokens[idx], tokens[idx + 1]


def baselines(cfg: dict, train: np.ndarray, held_out: dict[str, np.ndarray], vocab_size: int) -> dict[str, float]:
    """Nats/char of add-k unigram and bigram models fitted on the training split, on each held-out part:
    keys like "bigram_test"."""
    from dlps.models import ngram

    out = {}
    for name, order in (("unigram", 1), ("bigram", 2)):
        model = ngram.fit(train, vocab_size, order=order, k=cfg["ngram_k"])
        out |= {f"{name}_{part}": ngram.nll(model, ids) for part, ids in held_out.items()}
    return out


# ------------------------------------------------------------------------------------------- training

def _blas_threads(n: int):
    """Limit NumPy's BLAS to n threads (threadpoolctl comes with scikit-learn); a no-op where it is absent."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def train_numpy(cfg: dict, train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int, seed: int) -> dict:
    """Train the NumPy RNN for one seed. Returns its final params, the initial params, the batch start positions,
    every step's training loss, the time of each of the first torch_steps steps, and history rows."""
    from dlps.models import numpy_rnn as nr

    init_rng, data_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    params = nr.init_params(vocab_size, cfg["hidden"], init_rng, dtype=np.float32)
    init = {k: v.copy() for k, v in params.items()}
    T, steps = cfg["seq_len"], cfg["steps"]
    # every start s leaves room for the T targets s+1 .. s+T
    starts = data_rng.integers(0, len(train_ids) - T, size=(steps, cfg["batch"]))
    opt = nr.Adam(params, lr=cfg["lr"])
    losses = np.empty(steps)
    step_s = np.empty(cfg["torch_steps"])
    history, last = [], 0
    with progress.task(f"{NAME} seed {seed}", total=steps, unit="step") as bar:
        for step in range(steps):
            x, y = windows(train_ids, starts[step], T)
            t0 = time.perf_counter()
            loss, grads, _ = nr.loss_and_grads(params, x, y)
            nr.clip_grad_norm(grads, cfg["clip"])
            opt.step(params, grads)
            if step < len(step_s):
                step_s[step] = time.perf_counter() - t0
            losses[step] = loss
            if (step + 1) % cfg["eval_every"] == 0 or step + 1 == steps:
                val = nr.evaluate_loss(params, val_ids, seq_len=EVAL_WINDOW, batch=cfg["eval_batch"])
                history.append({"seed": seed, "step": step + 1, "train_loss": float(losses[last:step + 1].mean()),
                                "val_loss": float(val)})
                bar.update(step + 1 - last, loss=history[-1]["train_loss"], val_loss=val)
                last = step + 1
    return {"params": params, "init": init, "starts": starts, "losses": losses, "step_s": step_s,
            "history": history}


def replay_numpy(cfg: dict, init: dict, train_ids: np.ndarray, starts: np.ndarray, dtype) -> np.ndarray:
    """The NumPy training steps on the given batches from the given weights (cast to dtype); each step's loss."""
    from dlps.models import numpy_rnn as nr

    params = {k: v.astype(dtype) for k, v in init.items()}
    opt = nr.Adam(params, lr=cfg["lr"])
    losses = np.empty(len(starts))
    for k, s in enumerate(starts):
        loss, grads, _ = nr.loss_and_grads(params, *windows(train_ids, s, cfg["seq_len"]))
        nr.clip_grad_norm(grads, cfg["clip"])
        opt.step(params, grads)
        losses[k] = loss
    return losses


def train_torch_twin(cfg: dict, init: dict, train_ids: np.ndarray, starts: np.ndarray, vocab_size: int,
                     dtype: str, device: str) -> tuple[np.ndarray, np.ndarray]:
    """Replay the given batches through the PyTorch twin from the same initial weights on `device` (the runtime's;
    on a CPU-only machine the same hardware as NumPy, so the throughput ratio compares implementations there).
    Returns each step's loss and wall time (the step ends with .item(), so the time includes all the work)."""
    import torch
    import torch.nn.functional as F

    from dlps.models.torch_char_rnn import TorchCharRNN, load_numpy_params

    model = TorchCharRNN(vocab_size, cfg["hidden"]).to(device=device, dtype=getattr(torch, dtype))
    load_numpy_params(model, init)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg["lr"])
    losses, step_s = np.empty(len(starts)), np.empty(len(starts))
    for k, s in enumerate(starts):
        x, y = (torch.from_numpy(a.astype(np.int64)).to(device) for a in windows(train_ids, s, cfg["seq_len"]))
        t0 = time.perf_counter()
        opt.zero_grad()
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        losses[k] = loss.item()
        step_s[k] = time.perf_counter() - t0
    return losses, step_s


def chars_per_s(cfg: dict, step_s: np.ndarray) -> float:
    """Training throughput over the timed steps, leaving out the first (allocation and warm-up)."""
    return float(cfg["batch"] * cfg["seq_len"] * (len(step_s) - 1) / step_s[1:].sum())


def generate(cfg: dict, params: dict, vocab: list[str], seed: int) -> list[dict]:
    """One sample of sample_chars new chars per temperature, after the prompt (its own seeded generator each)."""
    from dlps.models import numpy_rnn as nr

    ids = prompt_ids(cfg, vocab)
    out = []
    for i, temperature in enumerate(cfg["temperatures"]):
        rng = np.random.default_rng([seed, 1 + i])
        new = nr.sample(params, ids, cfg["sample_chars"], temperature=temperature, rng=rng)
        out.append({"temperature": temperature, "text": "".join(vocab[j] for j in new)})
    return out


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    import torch

    from dlps.models import numpy_rnn as nr

    tokens, vocab = load_corpus(ctx.data)
    prompt_ids(cfg, vocab)  # fail on a bad prompt before any training
    train_ids, val_ids, test_ids = split(cfg, tokens)
    base = baselines(cfg, train_ids, {"val": val_ids, "test": test_ids}, len(vocab))
    rt = ctx.runtime()  # threads, deterministic kernels, the device of the PyTorch twin (fp32: no autocast)
    # Both implementations get the same thread count (0 = one per core).
    threads = cfg["threads"] or ctx.params["threads"] or os.cpu_count() or 1
    score = {"seq_len": EVAL_WINDOW, "batch": cfg["eval_batch"]}
    runs, history = [], []
    for seed in seeds:
        torch.manual_seed(seed)  # nothing in the twin draws from it (weights are copied), but keep it pinned
        with _blas_threads(threads):
            res = train_numpy(cfg, train_ids, val_ids, len(vocab), seed)
            test = float(nr.evaluate_loss(res["params"], test_ids, **score))  # the one scoring of the test part
            train_nats = float(nr.evaluate_loss(res["params"], train_ids[:len(test_ids)], **score))
            samples = generate(cfg, res["params"], vocab, seed)
        starts = res["starts"][:cfg["torch_steps"]]
        twin32, twin_s = train_torch_twin(cfg, res["init"], train_ids, starts, len(vocab), "float32", rt.device)
        d32 = np.abs(res["losses"][:len(starts)] - twin32)
        with _blas_threads(threads):
            numpy64 = replay_numpy(cfg, res["init"], train_ids, starts, np.float64)
        twin64 = train_torch_twin(cfg, res["init"], train_ids, starts, len(vocab), "float64", rt.device)[0]
        d64 = np.abs(numpy64 - twin64)
        d_dtype = np.abs(res["losses"][:len(starts)] - numpy64)  # float32 rounding alone, same implementation
        runs.append({
            "seed": seed,
            "rnn_test_nats": test, "rnn_test_bits": test / LN2,
            "bigram_test_nats": base["bigram_test"], "bigram_test_bits": base["bigram_test"] / LN2,
            "unigram_test_nats": base["unigram_test"], "unigram_test_bits": base["unigram_test"] / LN2,
            "rnn_over_bigram": test / base["bigram_test"],
            "rnn_val_nats": res["history"][-1]["val_loss"],
            "bigram_val_nats": base["bigram_val"], "unigram_val_nats": base["unigram_val"],
            "rnn_train_nats": train_nats,
            # the same training steps in both implementations: float64 (the agreement check) and float32
            "twin_max_abs_dloss_f64": float(d64.max()),
            "twin_max_abs_dloss_f32": float(d32.max()),
            "numpy_f32_vs_f64_max_abs_dloss": float(d_dtype.max()),
            # wall-clock: not deterministic, stored apart (spec.TIMINGS)
            "numpy_chars_per_s": chars_per_s(cfg, res["step_s"]),
            "torch_chars_per_s": chars_per_s(cfg, twin_s),
            "twin_device": rt.device,
            "split_chars": {"train": len(train_ids), "val": len(val_ids), "test": len(test_ids)},
            "twin_abs_dloss_f64": [float(d) for d in d64],
            "twin_abs_dloss_f32": [float(d) for d in d32],
            "numpy_f32_vs_f64_abs_dloss": [float(d) for d in d_dtype],
            "samples": samples,
        })
        history += res["history"]
    return {"runs": runs, "history": history}
