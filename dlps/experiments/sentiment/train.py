"""Training for the sentiment experiment: TF-IDF + logistic regression baselines (on whole reviews, and on the
recurrent models' tokens) and recurrent classifiers on IMDB, each selected on a validation split of the training
reviews and then scored once on the test reviews."""

from __future__ import annotations

import time

import numpy as np

from dlps.experiments.sentiment.spec import (BASELINE, BOOT_SEED, CORRECT_KEY, EXAMPLE_CHARS, N_BOOT, N_EXAMPLES,
                                             SAME_TEXT, TFIDF, pack_correct)
from dlps.schema import ParamError


# ------------------------------------------------------------------------------------------- data and scores

def split(cfg: dict, data: dict, seed: int) -> dict:
    """The seed's training and validation parts of the training split (the same for every model under one
    seed, so comparisons are paired), and the test split. Values: (texts, labels)."""
    n = len(data["train"]["y"])
    if cfg["n_val"] >= n:
        raise ParamError(f"sentiment.n_val: got {cfg['n_val']}; allowed: below the {n} prepared training reviews")
    order = np.random.default_rng(seed).permutation(n)
    val, tr = order[: cfg["n_val"]], order[cfg["n_val"]:]
    texts, y = data["train"]["text"], data["train"]["y"]
    return {"train": ([texts[i] for i in tr], y[tr]), "val": ([texts[i] for i in val], y[val]),
            "test": (data["test"]["text"], data["test"]["y"])}


def classification_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy, precision, recall and F1 of the positive class, and the confusion matrix as four counts."""
    y, pred = np.asarray(y).astype(bool), np.asarray(pred).astype(bool)
    tp, fp = int(np.sum(pred & y)), int(np.sum(pred & ~y))
    fn, tn = int(np.sum(~pred & y)), int(np.sum(~pred & ~y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"test_acc": (tp + tn) / len(y), "test_precision": precision, "test_recall": recall, "test_f1": f1,
            "test_tn": tn, "test_fp": fp, "test_fn": fn, "test_tp": tp}


def bootstrap_ci(correct: np.ndarray, seed: int, n_boot: int = N_BOOT, chunk: int = 100) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the accuracy: the 0/1 correctness vector resampled with replacement
    n_boot times by a numpy generator seeded with (BOOT_SEED, seed); resamples drawn `chunk` at a time."""
    x = np.asarray(correct, dtype=np.float64)
    rng = np.random.default_rng([BOOT_SEED, seed])
    means = np.concatenate([x[rng.integers(0, x.size, (min(chunk, n_boot - i), x.size))].mean(axis=1)
                            for i in range(0, n_boot, chunk)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def examples(texts: list[str], y: np.ndarray, probs: np.ndarray, k: int = N_EXAMPLES) -> list[dict]:
    """The k most confidently right and the k most confidently wrong test reviews (text truncated)."""
    y = np.asarray(y)
    conf = np.abs(probs - 0.5)
    right = (probs > 0.5) == (y == 1)
    out = []
    for kind, mask in (("right", right), ("wrong", ~right)):
        idx = np.flatnonzero(mask)
        for i in idx[np.argsort(-conf[idx], kind="stable")][:k]:
            text = texts[i] if len(texts[i]) <= EXAMPLE_CHARS else texts[i][:EXAMPLE_CHARS].rsplit(" ", 1)[0] + " …"
            out.append({"kind": kind, "label": int(y[i]), "p_positive": float(probs[i]), "text": text})
    return out


def log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(probs, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


# ------------------------------------------------------------------------------------------- TF-IDF baseline

def tfidf_texts(cfg: dict, variant: str, texts: list[str]) -> list[str]:
    """What a TF-IDF variant reads: whole reviews (a bag of words has no length limit), or for SAME_TEXT exactly
    the tokens the recurrent models read (the same max_len and truncate side, by the same function)."""
    from dlps.data import text

    if variant != SAME_TEXT:
        return list(texts)
    return [" ".join(text.clip_tokens(t, cfg["max_len"], cfg["truncate"])) for t in texts]


def tfidf_vectorizer(cfg: dict):
    """Word uni- and bigrams over whitespace tokens (the prepared text is already tokenised), sublinear tf."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=cfg["tfidf_min_df"], sublinear_tf=True, lowercase=False,
                           token_pattern=r"\S+", dtype=np.float32)


def run_tfidf(cfg: dict, parts: dict, seed: int, variant: str = BASELINE) -> tuple[dict, np.ndarray, list[dict]]:
    """TF-IDF (fitted on the training part) and an L2 logistic regression per C in tfidf_C, on the text
    tfidf_texts gives the variant; the C with the best validation accuracy (first on ties) is tested.
    Returns (fit info, test P(positive), history rows, one per C)."""
    from sklearn.linear_model import LogisticRegression

    parts = {k: (tfidf_texts(cfg, variant, v[0]), v[1]) for k, v in parts.items()}
    start, cpu = time.perf_counter(), time.process_time()
    vec = tfidf_vectorizer(cfg)
    (xtr, ytr), (xva, yva) = parts["train"], parts["val"]
    xtr, xva = vec.fit_transform(xtr), vec.transform(xva)
    best, rows = None, []
    for c in cfg["tfidf_C"]:
        model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed).fit(xtr, ytr)
        p = model.predict_proba(xva)[:, 1]
        acc = float(np.mean((p > 0.5) == yva))
        rows.append({"seed": seed, "C": c, "val_acc": acc, "val_loss": log_loss(p, yva)})
        if best is None or acc > best[0]:
            best = (acc, c, model)
    info = {"val_acc": best[0], "tfidf_C": best[1], "tfidf_C_grid": list(cfg["tfidf_C"]), "best_epoch": 0,
            "epochs_run": 0, "train_time_s": time.perf_counter() - start, "train_cpu_s": time.process_time() - cpu,
            "n_features": int(xtr.shape[1])}
    probs = best[2].predict_proba(vec.transform(parts["test"][0]))[:, 1]
    return info, probs, rows


# ------------------------------------------------------------------------------------------- recurrent models

EVAL_BATCH = 512  # reviews per batch of a validation or test pass (no gradients: larger batches are cheaper)


def predict(model, seqs: list[np.ndarray], rt, batch_size: int = EVAL_BATCH):
    """P(positive) for every sequence as a tensor on rt.device, in eval mode (length-sorted batches for speed;
    in input order)."""
    import torch

    from dlps.data import text

    was_training = model.training
    model.eval()
    lengths = np.array([len(s) for s in seqs])
    with torch.inference_mode():
        probs = torch.empty(len(seqs), device=rt.device)
        for idx in text.bucket_batches(lengths, batch_size, None):
            x, lens = text.pad_batch(seqs, idx, rt.device)
            with rt.autocast():
                logits = model(x, lens)
            probs[torch.from_numpy(idx).to(rt.device)] = torch.sigmoid(logits.float())
    model.train(was_training)
    return probs


def eval_tokens(seqs: list[np.ndarray], batch_size: int = EVAL_BATCH) -> int:
    """Token positions predict() runs the recurrent layer over: its length-sorted batches, each padded to its
    longest sequence (the roofline's count of the work)."""
    from dlps.data import text

    lengths = np.array([len(s) for s in seqs])
    return int(sum(len(idx) * lengths[idx].max() for idx in text.bucket_batches(lengths, batch_size, None)))


def _val_scores(probs, y) -> tuple[float, float]:
    """Validation accuracy and log-loss, computed on the probabilities' device."""
    import torch

    p = probs.clamp(1e-7, 1 - 1e-7)
    y = torch.as_tensor(y, dtype=torch.float32, device=probs.device)
    right = int(((p > 0.5).float() == y).sum())
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    return right / len(y), float(loss)


def fit_rnn(model, train: tuple[list, np.ndarray], val: tuple[list, np.ndarray], rt, *, max_epochs: int,
            batch_size: int, lr: float, clip: float, patience: int, seed: int, chunk: int = 50,
            eval_batch: int = EVAL_BATCH, on_epoch=None):
    """Adam on binary cross-entropy over length-bucketed minibatches (order from a generator seeded with `seed`),
    gradient-norm clipping at `clip`, model, batches and loss on rt.device, forward passes under rt.autocast()
    (with loss scaling in fp16).
    After each epoch the validation accuracy decides the best epoch (first maximum); training stops after
    `patience` epochs without improvement, or at max_epochs (a safety net). Returns (history rows, state_dict of
    the best epoch, what stopped it: "patience" or "max_epochs"). Each row counts the padded token positions of the
    epoch's training batches (train_tokens) and validation pass (val_tokens). `on_epoch(row)` sees each history row
    (progress)."""
    import torch
    import torch.nn.functional as F

    from dlps.data import text
    from dlps.models.training import clone_state

    seqs, y = train
    lengths = np.array([len(s) for s in seqs])
    yt = torch.from_numpy(y).float().to(rt.device)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # fp16 gradients underflow without loss scaling; a disabled scaler is a pass-through (fp32, bf16)
    scaler = torch.amp.GradScaler(rt.device_type, enabled=rt.precision == "fp16")
    history, best_state, best_acc, waited, stopped_by = [], None, -1.0, 0, "max_epochs"
    val_tokens = eval_tokens(val[0], eval_batch)  # the same validation batches every epoch
    for epoch in range(1, max_epochs + 1):
        start, cpu = time.perf_counter(), time.process_time()
        model.train()
        running, tokens = torch.zeros((), device=rt.device), 0
        for idx in text.bucket_batches(lengths, batch_size, rng, chunk):
            x, lens = text.pad_batch(seqs, idx, rt.device)
            tokens += x.numel()
            with rt.autocast():
                logits = model(x, lens)
            loss = F.binary_cross_entropy_with_logits(logits.float(), yt[torch.from_numpy(idx).to(rt.device)])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            scaler.step(opt)
            scaler.update()
            running += loss.detach() * len(idx)
        train_loss = float(running) / len(seqs)
        train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
        val_acc, val_loss = _val_scores(predict(model, val[0], rt, eval_batch), val[1])
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc,
                        "train_time_s": train_s, "train_cpu_s": train_cpu, "epoch_time_s": time.perf_counter() - start,
                        "train_tokens": tokens, "val_tokens": val_tokens})
        if on_epoch is not None:
            on_epoch(history[-1])
        if val_acc > best_acc:
            best_state, best_acc, waited = clone_state(model), val_acc, 0
        else:
            waited += 1
            if waited >= patience:
                stopped_by = "patience"
                break
    return history, best_state, stopped_by


def run_rnn(cfg: dict, variant: str, parts: dict, seed: int, rt) -> tuple[dict, np.ndarray, list[dict]]:
    """One recurrent classifier: vocabulary from the training part only, truncated sequences, length-bucketed
    batches, weights initialised under `seed` (on the CPU, then moved, so every device starts alike); the
    best-validation-accuracy epoch's weights are tested once."""
    from dlps import progress
    from dlps.data import text
    from dlps.models.text_rnn import RNNClassifier
    from dlps.models.training import init_model

    vocab = text.build_vocab(parts["train"][0], cfg["vocab_size"])
    enc = {k: (text.encode(v[0], vocab, cfg["max_len"], cfg["truncate"]), v[1]) for k, v in parts.items()}
    model = RNNClassifier(len(vocab) + 2, cfg["embed_dim"], cfg["hidden"], "gru" if variant == "gru" else "lstm",
                          variant == "bilstm", cfg["dropout"])
    model = init_model(model, seed).to(rt.device)
    start, cpu = time.perf_counter(), time.process_time()
    with progress.task(f"sentiment {variant} seed {seed}", total=cfg["max_epochs"], unit="epoch") as bar:
        history, best_state, stopped_by = fit_rnn(
            model, enc["train"], enc["val"], rt, max_epochs=cfg["max_epochs"], batch_size=cfg["batch_size"],
            lr=cfg["lr"], clip=cfg["clip"], patience=cfg["patience"], seed=seed, chunk=cfg["bucket_chunk"],
            on_epoch=lambda row: bar.update(1, loss=row["train_loss"], val_loss=row["val_loss"]))
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    model.load_state_dict(best_state)
    best = max(history, key=lambda r: r["val_acc"])  # first maximum, as fit_rnn kept it
    info = {"val_acc": best["val_acc"], "best_epoch": best["epoch"], "epochs_run": len(history),
            "stopped_by": stopped_by, "train_time_s": train_s, "train_cpu_s": train_cpu,
            "train_tokens": sum(r["train_tokens"] for r in history),
            "eval_tokens": sum(r["val_tokens"] for r in history) + eval_tokens(enc["test"][0])}
    probs = predict(model, enc["test"][0], rt).cpu().numpy().astype(np.float64)  # the one test pass
    rows = [{"seed": seed, **{k: r[k] for k in ("epoch", "train_loss", "val_loss", "val_acc")}} for r in history]
    return info, probs, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one model; all models share each seed's validation split, and (recurrent ones) its
    vocabulary, initialisation seed and batch order generator. Each run row keeps which test reviews it got
    right (packed) for the paired tests, and a bootstrap interval of its test accuracy."""
    from dlps.data.imdb import load_imdb

    data = load_imdb(ctx.data)
    rt = None if variant in TFIDF else ctx.runtime(cfg["precision"], key="sentiment.precision")
    runs, history = [], []
    for seed in seeds:
        parts = split(cfg, data, seed)
        info, probs, rows = (run_tfidf(cfg, parts, seed, variant) if variant in TFIDF else
                             run_rnn(cfg, variant, parts, seed, rt))
        y_test = parts["test"][1]
        correct = (probs > 0.5) == (y_test == 1)
        low, high = bootstrap_ci(correct, seed)
        run = {"seed": seed, **classification_metrics(y_test, probs > 0.5), **info,
               "n_test": int(correct.size), "test_acc_boot_low": low, "test_acc_boot_high": high}
        run[CORRECT_KEY] = pack_correct(correct)  # strings: kept out of METRICS
        run["examples"] = examples(parts["test"][0], y_test, probs)
        runs.append(run)
        history += rows
    return {"runs": runs, "history": history}
