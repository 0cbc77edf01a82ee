"""Experiment 2.1: a character-level vanilla RNN language model written in NumPy, on tiny-shakespeare.

The model (dlps.models.numpy_rnn) is tanh RNN + linear head + softmax cross-entropy, trained by full BPTT over
windows of seq_len chars drawn at random positions of the training split (each window starts from h = 0), with
global-norm gradient clipping and Adam, in float32. The split is by position: the first 1 - val_fraction of the
text trains, the rest validates. Unigram and bigram add-k models fitted on the same training split are the
baselines. Validation loss of the RNN is scored with the hidden state carried across windows
(`evaluate_loss(carry_state=True)`), so every char is predicted from all the text before it in its stream.

Besides the losses, each seed replays its first `torch_steps` batches through the PyTorch twin
(dlps.models.torch_char_rnn: same initial weights, torch.optim.Adam, clip_grad_norm_, on the CPU), in float32 to
time it against the NumPy steps, and with both implementations in float64 to check that they compute the same
training run. In float32 the two loss curves agree to ~1e-7 until a gradient spike in BPTT amplifies rounding
differences, after which they can drift 1e-3 to 4e-2 nats apart (measured on tiny-shakespeare; about as far as
either implementation's own float32 run drifts from its float64 run). In float64 they stayed within 1e-8, so
float64 is where agreement is judged, and the float32 gap is recorded next to the NumPy float32-vs-float64 gap.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from dlps import stats
from dlps.errors import UserError
from dlps.params import Float, Int, ListOf, ParamError, Section, Str
from dlps.report_text import fmt, fmt_p, summary_text

NAME = "numpy_rnn"
TITLE = "A character-level RNN in NumPy (BPTT) on tiny-shakespeare"
QUESTION = ("Does a vanilla RNN written from scratch in NumPy (full backpropagation through time over truncated "
            "sequences, gradient clipping, Adam) learn a character language model clearly better than unigram "
            "and bigram counts, and does it compute what PyTorch's nn.RNN computes?")
VARIANT = "rnn"
DATASET = "tinyshakespeare"
LN2 = math.log(2.0)
EVAL_WINDOW = 256  # chars per forward call when scoring; with the state carried the result does not depend on it

# Per-seed metrics. Every one is deterministic for given params except the TIMINGS, wall-clock throughputs that
# vary with machine load: the pipeline stores them apart (metrics/timing/runs/) so metrics/runs/ is bit-identical.
TIMINGS = ("numpy_chars_per_s", "torch_chars_per_s")
METRICS = ("rnn_val_nats", "rnn_val_bits", "rnn_train_nats", "bigram_val_nats", "bigram_val_bits",
           "unigram_val_nats", "unigram_val_bits", "rnn_over_bigram", "twin_max_abs_dloss_f64",
           "twin_max_abs_dloss_f32", "numpy_f32_vs_f64_max_abs_dloss", "numpy_chars_per_s", "torch_chars_per_s")

SCHEMA = Section({
    "val_fraction": Float(0, 0.5, lo_open=True),   # the last this fraction of the text validates
    "hidden": Int(1, 4096),
    "seq_len": Int(1, 100_000),                    # BPTT window (chars)
    "batch": Int(1, 4096),                         # windows per step
    "steps": Int(1, 10_000_000),
    "lr": Float(0, lo_open=True),                  # Adam
    "clip": Float(0, lo_open=True),                # max global gradient norm
    "eval_every": Int(1, 10_000_000),              # steps between history rows (full validation pass each)
    "eval_batch": Int(1, 4096),                    # parallel streams the validation text is cut into
    "ngram_k": Float(0, lo_open=True),             # add-k smoothing of the baselines
    "torch_steps": Int(2, 10_000_000),             # steps replayed by the PyTorch twin (agreement, throughput)
    "temperatures": ListOf(Float(0, lo_open=True), min_len=1, unique=True),
    "sample_chars": Int(1, 100_000),
    "prompt": Str(empty=False),                    # chars fed before sampling; each must be in the vocabulary
    "bar": Float(0, 1, lo_open=True),              # the RNN must reach val loss <= bar x bigram's
    "agree_tol": Float(0, lo_open=True),           # max float64 |loss_numpy - loss_torch| (nats), twin's steps
    "alpha": Float(0, 0.5, lo_open=True),
    # Threads for both NumPy's BLAS and torch here; 0 = the shared `threads` setting. 1 by default: with
    # 32x128 matrices more threads only add synchronisation, and on a 2-core machine 2 threads made the
    # PyTorch step ~10x slower (and NumPy's several times slower) whenever the other core was busy.
    "threads": Int(0, 1024),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for key in ("eval_every", "torch_steps"):
        if cfg[key] > cfg["steps"]:
            raise ParamError(f"{NAME}.{key}: got {cfg[key]}; allowed: at most {NAME}.steps ({cfg['steps']})")


def variants(cfg: dict) -> list[str]:
    return [VARIANT]


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


def split(cfg: dict, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First 1 - val_fraction of the text for training, the rest for validation (by position, no shuffling)."""
    cut = int(round(len(tokens) * (1.0 - cfg["val_fraction"])))
    train, val = tokens[:cut], tokens[cut:]
    if len(train) < cfg["seq_len"] + 2:
        raise UserError(f"{NAME}: the training split has {len(train)} chars, fewer than seq_len + 2 "
                        f"({cfg['seq_len'] + 2}); lower {NAME}.seq_len or {NAME}.val_fraction")
    if len(val) < 2 * cfg["eval_batch"] + 1:
        raise UserError(f"{NAME}: the validation split has {len(val)} chars, too few for eval_batch = "
                        f"{cfg['eval_batch']} streams of at least 2; lower {NAME}.eval_batch or raise "
                        f"{NAME}.val_fraction")
    return train, val


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


def baselines(cfg: dict, train: np.ndarray, val: np.ndarray, vocab_size: int) -> dict[str, float]:
    """Validation nats/char of add-k unigram and bigram models fitted on the training split."""
    from dlps.models import ngram

    out = {}
    for name, order in (("unigram", 1), ("bigram", 2)):
        out[name] = ngram.nll(ngram.fit(train, vocab_size, order=order, k=cfg["ngram_k"]), val)
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
                     dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """Replay the given batches through the PyTorch twin from the same initial weights, on the CPU (the same
    hardware as NumPy, so the throughput ratio compares implementations, not devices).
    Returns each step's loss and wall time (the step ends with .item(), so the time includes all the work)."""
    import torch
    import torch.nn.functional as F

    from dlps.models.torch_char_rnn import TorchCharRNN, load_numpy_params

    model = TorchCharRNN(vocab_size, cfg["hidden"]).to(getattr(torch, dtype))
    load_numpy_params(model, init)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg["lr"])
    losses, step_s = np.empty(len(starts)), np.empty(len(starts))
    for k, s in enumerate(starts):
        x, y = (torch.from_numpy(a.astype(np.int64)) for a in windows(train_ids, s, cfg["seq_len"]))
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
    from dlps.runtime import set_threads

    tokens, vocab = load_corpus(ctx.data)
    prompt_ids(cfg, vocab)  # fail on a bad prompt before any training
    train_ids, val_ids = split(cfg, tokens)
    base = baselines(cfg, train_ids, val_ids, len(vocab))
    # Both implementations get the same thread count (0 = one per core).
    threads = set_threads(cfg["threads"] or ctx.params["threads"])
    runs, history = [], []
    for seed in seeds:
        torch.manual_seed(seed)  # nothing in the twin draws from it (weights are copied), but keep it pinned
        with _blas_threads(threads):
            res = train_numpy(cfg, train_ids, val_ids, len(vocab), seed)
            train_nats = nr.evaluate_loss(res["params"], train_ids[:len(val_ids)], seq_len=EVAL_WINDOW,
                                          batch=cfg["eval_batch"])
            samples = generate(cfg, res["params"], vocab, seed)
        starts = res["starts"][:cfg["torch_steps"]]
        twin32, twin_s = train_torch_twin(cfg, res["init"], train_ids, starts, len(vocab), "float32")
        d32 = np.abs(res["losses"][:len(starts)] - twin32)
        with _blas_threads(threads):
            numpy64 = replay_numpy(cfg, res["init"], train_ids, starts, np.float64)
        d64 = np.abs(numpy64 - train_torch_twin(cfg, res["init"], train_ids, starts, len(vocab), "float64")[0])
        d_dtype = np.abs(res["losses"][:len(starts)] - numpy64)  # float32 rounding alone, same implementation
        val = res["history"][-1]["val_loss"]
        runs.append({
            "seed": seed,
            "rnn_val_nats": val, "rnn_val_bits": val / LN2,
            "rnn_train_nats": float(train_nats),
            "bigram_val_nats": base["bigram"], "bigram_val_bits": base["bigram"] / LN2,
            "unigram_val_nats": base["unigram"], "unigram_val_bits": base["unigram"] / LN2,
            "rnn_over_bigram": val / base["bigram"],
            # the same training steps in both implementations: float64 (the agreement check) and float32
            "twin_max_abs_dloss_f64": float(d64.max()),
            "twin_max_abs_dloss_f32": float(d32.max()),
            "numpy_f32_vs_f64_max_abs_dloss": float(d_dtype.max()),
            # wall-clock: not deterministic (see METRICS)
            "numpy_chars_per_s": chars_per_s(cfg, res["step_s"]),
            "torch_chars_per_s": chars_per_s(cfg, twin_s),
            "twin_abs_dloss_f64": [float(d) for d in d64],
            "twin_abs_dloss_f32": [float(d) for d in d32],
            "numpy_f32_vs_f64_abs_dloss": [float(d) for d in d_dtype],
            "samples": samples,
        })
        history += res["history"]
    return {"runs": runs, "history": history}


# ------------------------------------------------------------------------------------------- analysis

def _column(rows: list[dict], key: str) -> list[float]:
    return [r[key] for r in rows]


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """One variant, so the tests pair the RNN's per-seed column with the baselines' on the same seeds
    (the baselines are deterministic, so their column is constant); one-sided: is the RNN lower?"""
    rows = runs[VARIANT]
    rnn = _column(rows, "rnn_val_nats")
    comparisons = {}
    if len(rows) >= 2:
        for base in ("bigram", "unigram"):
            comparisons[f"rnn_vs_{base}_val_nats"] = {
                "a": VARIANT, "b": base, "metric": "val_nats",
                **stats.paired_test(rnn, _column(rows, f"{base}_val_nats"), alternative="less")}
    bigram = float(np.mean(_column(rows, "bigram_val_nats")))
    np_cps, t_cps = np.mean(_column(rows, "numpy_chars_per_s")), np.mean(_column(rows, "torch_chars_per_s"))
    derived = {
        "bar_val_nats": cfg["bar"] * bigram,
        "rnn_minus_bigram_val_bits": float(np.mean(rnn) - bigram) / LN2,
        "twin_max_abs_dloss_f64_worst_seed": float(max(_column(rows, "twin_max_abs_dloss_f64"))),
        "twin_max_abs_dloss_f32_worst_seed": float(max(_column(rows, "twin_max_abs_dloss_f32"))),
        "numpy_f32_vs_f64_max_abs_dloss_worst_seed": float(max(_column(rows, "numpy_f32_vs_f64_max_abs_dloss"))),
        # wall-clock ratio: varies from run to run
        "numpy_over_torch_throughput": float(np_cps / t_cps),
        "train_chars_per_seed": cfg["steps"] * cfg["batch"] * cfg["seq_len"],
    }
    return {"comparisons": comparisons, "derived": derived}


def findings(cfg: dict, m: dict) -> list[dict]:
    v, c, d = m["variants"][VARIANT], m["comparisons"], m["derived"]
    alpha, n = cfg["alpha"], len(m["seeds"])
    rnn, bi, uni = v["rnn_val_nats"], v["bigram_val_nats"]["mean"], v["unigram_val_nats"]["mean"]
    bar = d["bar_val_nats"]
    met = rnn["ci95_high"] <= bar
    out = [{"claim": f"The RNN's validation loss is at most {fmt(cfg['bar'])} × the bigram's", "shown": met,
            "text": (f"RNN validation loss {summary_text(rnn)} nats/char over {n} seed(s) against the bar "
                     f"{fmt(cfg['bar'])} × bigram = {fmt(bar)} (bigram {fmt(bi)}, unigram {fmt(uni)}); the RNN's "
                     f"loss is {fmt(v['rnn_over_bigram']['mean'])} × the bigram's. "
                     + ("The whole 95% interval is below the bar: met." if met else
                        "The 95% interval is not wholly below the bar: not met."))}]

    comp = c.get("rnn_vs_bigram_val_nats")
    better = comp is not None and comp["mean_diff"] < 0 and comp["p_value"] < alpha
    test_text = (f"one-sided paired t-test on nats/char over seeds, {fmt_p(comp['p_value'])}" if comp else
                 "no test: it needs at least 2 seeds")
    out.append({"claim": "The RNN predicts characters better than the bigram model", "shown": better, "text": (
        f"RNN {summary_text(v['rnn_val_bits'])} bits/char against bigram {fmt(v['bigram_val_bits']['mean'])} "
        f"and unigram {fmt(v['unigram_val_bits']['mean'])} bits/char on the same validation text: "
        f"{fmt(-d['rnn_minus_bigram_val_bits'])} bits/char fewer than the bigram ({test_text}). "
        + (f"Significantly lower at α = {alpha}." if better else f"Not shown to be lower at α = {alpha}."))})

    worst = d["twin_max_abs_dloss_f64_worst_seed"]
    agree = worst <= cfg["agree_tol"]
    ratio = d["numpy_over_torch_throughput"]
    out.append({"id": "matches_pytorch", "claim": "The NumPy RNN trains as PyTorch's nn.RNN does", "shown": agree, "text": (
        f"From the same initial weights on the same {cfg['torch_steps']} batches, the float64 training losses of "
        f"the NumPy model and the PyTorch twin (nn.RNN, torch.optim.Adam, clip_grad_norm_) differ by at most "
        f"{fmt(worst)} nats/char (worst seed; tolerance {fmt(cfg['agree_tol'])}): "
        + ("they agree. " if agree else "they do not agree within the tolerance. ")
        + f"In float32, the precision the RNN is trained in, the gap reaches "
          f"{fmt(d['twin_max_abs_dloss_f32_worst_seed'])} nats/char, against "
          f"{fmt(d['numpy_f32_vs_f64_max_abs_dloss_worst_seed'])} between the NumPy model's own float32 and float64 "
          "runs" + ("; with the float64 runs in agreement, that float32 gap is rounding error, which a gradient "
                    "spike in BPTT can amplify. " if agree else ". ")
        + "Float32 throughput on this machine (CPU, same model and batches): NumPy "
          f"{fmt(v['numpy_chars_per_s']['mean'])} chars/s, PyTorch {fmt(v['torch_chars_per_s']['mean'])} chars/s, "
          f"a NumPy/PyTorch ratio of {fmt(ratio)} (wall-clock timings, which vary from run to run).")})
    return out


# ---------------------------------------------------------------------------------------------- plots

def _by_step(rows: list[dict], key: str) -> tuple[list[int], list[dict]]:
    steps = sorted({r["step"] for r in rows})
    return steps, [stats.summarize([r[key] for r in rows if r["step"] == s]) for s in steps]


def _sample_text(cfg: dict, samples: list[dict], width: int = 96) -> str:
    """The prompt and each temperature's sample, wrapped to `width` columns, line breaks kept."""
    import textwrap

    blocks = []
    for s in samples:
        lines = []
        for line in (cfg["prompt"] + s["text"]).split("\n"):
            lines += textwrap.wrap(line, width) or [""]
        blocks.append(f"── temperature {s['temperature']:g} ──\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    import matplotlib.pyplot as plt

    from dlps.plotting import band, save

    v, d, rows = m["variants"][VARIANT], m["derived"], runs[VARIANT]
    n = len(m["seeds"])
    uni, bi = v["unigram_val_nats"]["mean"], v["bigram_val_nats"]["mean"]
    chars = cfg["batch"] * cfg["seq_len"]

    fig, ax = plt.subplots(figsize=(6.8, 4.3))
    hist = histories[VARIANT]
    for key, label in (("train_loss", "RNN training loss (mean over each interval)"),
                       ("val_loss", "RNN validation loss")):
        steps, summaries = _by_step(hist, key)
        band(ax, steps, summaries, label=label, marker="o" if len(steps) < 30 else None, ms=3)
    ax.axhline(uni, color="0.45", ls="--", lw=1.2, label=f"unigram (add-{fmt(cfg['ngram_k'])}) {fmt(uni)}")
    ax.axhline(bi, color="0.2", ls="-.", lw=1.2, label=f"bigram (add-{fmt(cfg['ngram_k'])}) {fmt(bi)}")
    ax.axhline(d["bar_val_nats"], color="tab:red", ls=":", lw=1.2,
               label=f"bar: {fmt(cfg['bar'])} × bigram = {fmt(d['bar_val_nats'])}")
    top = max(uni, max(r["train_loss"] for r in hist)) + 0.15
    ax.set(xlabel=f"training step ({chars} chars each)", ylabel="loss (nats/char)", ylim=(None, top),
           title=f"Char-RNN (hidden {cfg['hidden']}) on tiny-shakespeare, mean and 95% CI over {n} seed(s)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8, loc="center right")
    files = [save(fig, out_dir / "loss_curves.png",
                  f"Training loss (mean of the minibatch losses in each {cfg['eval_every']}-step interval) and "
                  "validation loss (whole validation split, hidden state carried) of the NumPy RNN against "
                  f"training steps, mean with 95% Student-t band over {n} seed(s); horizontal lines: the unigram "
                  f"and bigram baselines on the same split and the bar ({fmt(cfg['bar'])} × bigram).")]

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    names = ["unigram", "bigram", "RNN"]
    keys = ["unigram_val_bits", "bigram_val_bits", "rnn_val_bits"]
    means = [v[k]["mean"] for k in keys]
    err = [[v[k]["mean"] - v[k]["ci95_low"] for k in keys], [v[k]["ci95_high"] - v[k]["mean"] for k in keys]]
    ax.bar(names, means, yerr=err, capsize=4, color=["0.7", "0.45", "tab:blue"])
    for i, x in enumerate(means):
        ax.text(i, x, f"{x:.3f}", ha="center", va="bottom", fontsize=9)
    ax.axhline(d["bar_val_nats"] / LN2, color="tab:red", ls=":", label=f"bar ({fmt(cfg['bar'])} × bigram)")
    ax.set(ylabel="validation loss (bits/char)", title="Validation bits per character")
    ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "bits_per_char.png",
                      f"Validation loss in bits/char of the unigram, bigram and RNN models (RNN: mean and 95% CI "
                      f"over {n} seed(s); the baselines are deterministic), with the bar."))

    floor = 1e-12
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8), sharey=True)
    for i, r in enumerate(rows):
        color = f"C{i % 10}"
        steps = np.arange(1, len(r["twin_abs_dloss_f64"]) + 1)
        left.plot(steps, np.maximum(r["twin_abs_dloss_f64"], floor), color=color, lw=1, label=f"seed {r['seed']}")
        right.plot(steps, np.maximum(r["twin_abs_dloss_f32"], floor), color=color, lw=1,
                   label=f"NumPy vs PyTorch, seed {r['seed']}")
        right.plot(steps, np.maximum(r["numpy_f32_vs_f64_abs_dloss"], floor), color=color, lw=1, ls=":",
                   label=f"NumPy float32 vs float64, seed {r['seed']}")
    left.axhline(cfg["agree_tol"], color="tab:red", ls="--", lw=1, label=f"tolerance {fmt(cfg['agree_tol'])}")
    left.set_yscale("log")
    left.set(xlabel="training step", ylabel="|difference in training loss| (nats/char)",
             title="float64: NumPy vs PyTorch")
    right.set(xlabel="training step", title="float32 (the training precision)")
    for ax in (left, right):
        ax.title.set_fontsize(10)
        ax.legend(fontsize=7)
    files.append(save(fig, out_dir / "torch_agreement.png",
                      "Absolute difference in training loss at each of the first "
                      f"{cfg['torch_steps']} steps between the NumPy model and the PyTorch twin trained from the same "
                      "weights on the same batches: left in float64 (the agreement check, with its tolerance), "
                      "right in float32 (solid), next to the NumPy model's own float32 run against its float64 run "
                      f"(dotted). Values below {floor:g}, including exact zeros, are drawn at {floor:g}."))

    first = rows[0]
    text = _sample_text(cfg, first["samples"])
    n_lines = text.count("\n") + 1
    fig = plt.figure(figsize=(8.6, 0.6 + 0.165 * n_lines))
    fig.text(0.01, 0.99, text, va="top", ha="left", family="monospace", fontsize=8, parse_math=False)
    flat = " / ".join(s for s in first["samples"][min(1, len(first["samples"]) - 1)]["text"].split("\n") if s)
    files.append(save(fig, out_dir / "samples.png",
                      f"Text generated by the trained NumPy RNN (seed {first['seed']}) after the prompt "
                      f"{cfg['prompt']!r}: {cfg['sample_chars']} characters at each temperature "
                      f"{', '.join(f'{t:g}' for t in cfg['temperatures'])} (lower is more conservative).",
                      alt=f"Generated text samples; one of them reads: {flat[:400]}"))
    return files
