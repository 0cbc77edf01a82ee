"""Experiment: sentiment classification on IMDB: TF-IDF + logistic regression against LSTM, BiLSTM and GRU."""

from __future__ import annotations

import time

import numpy as np

from dlps.params import Bool, Choice, Float, Int, ListOf, ParamError, Section, SEEDS
from dlps.report_text import fmt, fmt_p, summary_text

NAME = "sentiment"
TITLE = "Sentiment analysis (IMDB: TF-IDF baseline vs LSTM, BiLSTM, GRU)"
QUESTION = ("On the 25k/25k IMDB reviews, does a BiLSTM reach the claimed 87% test accuracy, does a TF-IDF "
            "(uni+bigram) logistic regression reach 88%, and which wins, by how much? Models are selected on a "
            "validation split of the training set and tested once.")
MODELS = ("tfidf", "lstm", "bilstm", "gru")
BASELINE = "tfidf"
N_TRAIN = 25_000
# Per-seed metrics, the same keys for every variant. The TIMINGS are wall-clock and CPU-time measurements (all
# of the variant's fitting, without data loading and the test pass): unlike every other metric they vary between
# runs and with machine load, so the pipeline stores them apart. best_epoch and epochs_run are 0 for the TF-IDF
# baseline, which has no epochs.
TIMINGS = ("train_time_s", "train_cpu_s")
METRICS = ("test_acc", "test_precision", "test_recall", "test_f1", "test_tn", "test_fp", "test_fn", "test_tp",
           "val_acc", "best_epoch", "epochs_run", "train_time_s", "train_cpu_s")
TABLE_METRICS = ("test_acc", "test_f1", "val_acc", "best_epoch", "train_time_s")
N_EXAMPLES = 3      # confidently right and confidently wrong test reviews kept per seed (for the report figure)
EXAMPLE_CHARS = 260  # each kept review truncated to this many characters

SCHEMA = Section({
    "workers": Int(0, 1024),
    "seeds": SEEDS,
    "models": ListOf(Choice(MODELS), min_len=1, unique=True),
    "n_val": Int(10, N_TRAIN - 10),
    "vocab_size": Int(3, 10_000_000),
    "max_len": Int(1, 100_000),
    "truncate": Choice(("head", "tail")),
    "embed_dim": Int(1, 4096),
    "hidden": Int(1, 4096),
    "dropout": Float(0, 1, hi_open=True),
    "epochs": Int(1, 1000),
    "patience": Int(1, 1000),
    "batch_size": Int(1, 65_536),
    "bucket_chunk": Int(1, 100_000),
    "lr": Float(0, lo_open=True),
    "clip": Float(0, lo_open=True),
    "bf16": Bool(),
    "threads": Int(0, 1024),
    "tfidf_C": ListOf(Float(0, lo_open=True), min_len=1, unique=True),
    "tfidf_min_df": Int(1, 1_000_000),
    "bar_bilstm": Float(0, 1),
    "bar_tfidf": Float(0, 1),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if BASELINE not in cfg["models"]:
        raise ParamError(f"sentiment.models: got {cfg['models']!r}; allowed: a list that includes {BASELINE} "
                         "(the baseline every recurrent model is compared with)")


def variants(cfg: dict) -> list[str]:
    return [str(m) for m in cfg["models"]]


# ------------------------------------------------------------------------------------------- data

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


# ------------------------------------------------------------------------------------------- models

def run_tfidf(cfg: dict, parts: dict, seed: int) -> tuple[dict, np.ndarray, list[dict]]:
    """TF-IDF over word uni- and bigrams (sublinear tf, fitted on the training part) and an L2 logistic
    regression per C in tfidf_C; the C with the best validation accuracy (first on ties) is tested.
    The reviews are used whole: a bag of words has no length limit. Returns (fit info, test P(positive),
    history rows, one per C)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start, cpu = time.perf_counter(), time.process_time()
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=cfg["tfidf_min_df"], sublinear_tf=True, lowercase=False,
                          token_pattern=r"\S+", dtype=np.float32)
    (xtr, ytr), (xva, yva) = parts["train"], parts["val"]
    xtr, xva = vec.fit_transform(xtr), vec.transform(xva)
    best, rows = None, []
    for c in cfg["tfidf_C"]:
        model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed).fit(xtr, ytr)
        p = model.predict_proba(xva)[:, 1]
        acc = float(np.mean((p > 0.5) == yva))
        rows.append({"seed": seed, "C": c, "val_acc": acc, "val_loss": _log_loss(p, yva)})
        if best is None or acc > best[0]:
            best = (acc, c, model)
    info = {"val_acc": best[0], "tfidf_C": best[1], "best_epoch": 0, "epochs_run": 0,
            "train_time_s": time.perf_counter() - start, "train_cpu_s": time.process_time() - cpu,
            "n_features": int(xtr.shape[1])}
    probs = best[2].predict_proba(vec.transform(parts["test"][0]))[:, 1]
    return info, probs, rows


def run_rnn(cfg: dict, variant: str, parts: dict, seed: int) -> tuple[dict, np.ndarray, list[dict]]:
    """One recurrent classifier: vocabulary from the training part only, truncated sequences, length-bucketed
    batches; the best-validation-accuracy epoch's weights are tested once."""
    from dlps import text

    vocab = text.build_vocab(parts["train"][0], cfg["vocab_size"])
    enc = {k: (text.encode(v[0], vocab, cfg["max_len"], cfg["truncate"]), v[1]) for k, v in parts.items()}
    model = text.rnn_classifier(len(vocab) + 2, cfg["embed_dim"], cfg["hidden"], "gru" if variant == "gru" else "lstm",
                                variant == "bilstm", cfg["dropout"])
    start, cpu = time.perf_counter(), time.process_time()
    history, best_state = text.fit_rnn(model, enc["train"], enc["val"], epochs=cfg["epochs"],
                                       batch_size=cfg["batch_size"], lr=cfg["lr"], clip=cfg["clip"],
                                       patience=cfg["patience"], seed=seed, bf16=cfg["bf16"],
                                       chunk=cfg["bucket_chunk"])
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    model.load_state_dict(best_state)
    best = max(history, key=lambda r: r["val_acc"])  # first maximum, as fit_rnn kept it
    info = {"val_acc": best["val_acc"], "best_epoch": best["epoch"], "epochs_run": len(history),
            "train_time_s": train_s, "train_cpu_s": train_cpu}
    probs = text.predict(model, enc["test"][0], bf16=cfg["bf16"])
    rows = [{"seed": seed, **{k: r[k] for k in ("epoch", "train_loss", "val_loss", "val_acc")}} for r in history]
    return info, probs, rows


def _log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    from dlps.text import log_loss

    return log_loss(probs, y)


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one model; all models share each seed's validation split, and (recurrent ones) its
    vocabulary, initialisation seed and batch order generator."""
    from dlps import text

    data = text.load_imdb(ctx.data)
    if variant != BASELINE:
        ctx.device  # noqa: B018 (threads and deterministic kernels; the loop runs on the CPU, where bf16 autocast is)
    runs, history = [], []
    for seed in seeds:
        parts = split(cfg, data, seed)
        info, probs, rows = run_tfidf(cfg, parts, seed) if variant == BASELINE else run_rnn(cfg, variant, parts, seed)
        y_test = parts["test"][1]
        run = {"seed": seed, **classification_metrics(y_test, probs > 0.5), **info}
        run["examples"] = examples(parts["test"][0], y_test, probs)  # strings: kept out of METRICS
        runs.append(run)
        history += rows
    return {"runs": runs, "history": history}


# ------------------------------------------------------------------------------------------- analysis

def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def _neural(runs: dict) -> list[str]:
    return [v for v in runs if v != BASELINE]


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """The model chosen on mean validation accuracy; with >= 2 seeds, paired t-tests of test accuracy of every
    recurrent model against the baseline (same validation split per seed)."""
    chosen = max(runs, key=lambda v: _mean(runs[v], "val_acc"))
    neural = _neural(runs)
    comparisons = {}
    if len(cfg["seeds"]) >= 2:
        for v in neural:
            comparisons[f"test_acc_{v}_vs_{BASELINE}"] = paired(v, BASELINE, "test_acc", "t")
    best_neural = max(neural, key=lambda v: _mean(runs[v], "val_acc")) if neural else None
    derived = {"chosen_model": chosen, "chosen_test_acc": _mean(runs[chosen], "test_acc"),
               "best_neural": best_neural,
               "best_neural_minus_tfidf_pp": (100 * (_mean(runs[best_neural], "test_acc")
                                                     - _mean(runs[BASELINE], "test_acc")) if neural else None)}
    return {"comparisons": comparisons, "derived": derived}


def _pct(s: dict) -> str:
    return summary_text(s, 4, scale=100, unit="%") if s["n"] > 1 else f"{fmt(100 * s['mean'], 4)}%"


def _seeds_note(n: int) -> str:
    return f"{n} seeds, 95% Student-t CI" if n > 1 else "single seed, no CI"


def findings(cfg: dict, m: dict) -> list[dict]:
    """The two accuracy bars (the BiLSTM one is the old claim) and which of recurrent model and baseline wins."""
    v, d, c, n, alpha = m["variants"], m["derived"], m["comparisons"], len(m["seeds"]), cfg["alpha"]
    out = []
    if "bilstm" in v:
        acc = v["bilstm"]["test_acc"]
        shown = acc["mean"] >= cfg["bar_bilstm"]
        out.append({"id": "old_claim", "verdict": "holds" if shown else "does not hold",
                    "claim": f"A BiLSTM reaches {fmt(100 * cfg['bar_bilstm'])}% test accuracy on IMDB", "shown": shown,
                    "text": f"BiLSTM test accuracy {_pct(acc)} ({_seeds_note(n)}; best epoch on validation "
                            f"{fmt(v['bilstm']['best_epoch']['mean'])} of at most {cfg['epochs']}), "
                            + (f"at or above the {fmt(100 * cfg['bar_bilstm'])}% bar." if shown else
                               f"below the {fmt(100 * cfg['bar_bilstm'])}% bar.")})
    else:
        out.append({"id": "old_claim", "verdict": "not tested", "claim": "A BiLSTM reaches the claimed accuracy",
                    "shown": False, "text": "bilstm is not in sentiment.models, so the claim is not tested."})
    acc = v[BASELINE]["test_acc"]
    shown = acc["mean"] >= cfg["bar_tfidf"]
    out.append({"claim": f"TF-IDF (uni+bigram) + logistic regression reaches {fmt(100 * cfg['bar_tfidf'])}% test "
                         "accuracy", "shown": shown,
                "text": f"TF-IDF baseline test accuracy {_pct(acc)} ({_seeds_note(n)}; whole reviews, C chosen on "
                        f"validation), " + (f"at or above the {fmt(100 * cfg['bar_tfidf'])}% bar." if shown else
                                            f"below the {fmt(100 * cfg['bar_tfidf'])}% bar.")})
    best = d["best_neural"]
    if best is not None:
        diff = d["best_neural_minus_tfidf_pp"]
        comp = c.get(f"test_acc_{best}_vs_{BASELINE}")
        sig = comp is not None and comp["p_value"] < alpha
        shown = diff > 0 and sig
        winner = best if diff > 0 else BASELINE
        stat = (f"paired difference {fmt(100 * comp['mean_diff'])} pp [95% CI {fmt(100 * comp['diff_ci95_low'])}, "
                f"{fmt(100 * comp['diff_ci95_high'])}], {fmt_p(comp['p_value'])}, paired t-test over {comp['n']} seeds"
                if comp else "single seed: no test, no CI")
        out.append({"claim": f"The best recurrent model on validation ({best}) beats the TF-IDF baseline on test "
                             "accuracy", "shown": shown,
                    "text": f"{best}: {_pct(v[best]['test_acc'])} vs TF-IDF {_pct(acc)}; {winner} wins by "
                            f"{fmt(abs(diff))} pp ({stat}). The model chosen on validation accuracy is "
                            f"{d['chosen_model']} (test accuracy {fmt(100 * d['chosen_test_acc'], 4)}%, F1 "
                            f"{fmt(v[d['chosen_model']]['test_f1']['mean'])}). "
                            + ("The recurrent model wins significantly." if shown else
                               f"A significant recurrent win is not shown at α = {alpha}." if comp else
                               "A recurrent win cannot be shown with one seed.")})
    return out


# ------------------------------------------------------------------------------------------- figures

def _curve(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Epochs every seed reached and the mean validation accuracy at each."""
    seeds = sorted({int(r["seed"]) for r in rows})
    curves = [[float(r["val_acc"]) for r in rows if int(r["seed"]) == s] for s in seeds]
    k = min(len(x) for x in curves)
    return np.arange(1, k + 1), np.mean([x[:k] for x in curves], axis=0)


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Validation accuracy per epoch (baseline as a line), the chosen model's confusion matrix, and its most
    confidently right and wrong test reviews."""
    import textwrap

    import matplotlib.pyplot as plt

    from dlps.plotting import save

    n = len(m["seeds"])
    chosen = m["derived"]["chosen_model"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, v in enumerate(_neural(runs)):
        if histories.get(v):
            ax.plot(*_curve(histories[v]), marker="o", color=f"C{i + 1}", label=v)
    ax.axhline(m["variants"][BASELINE]["val_acc"]["mean"], color="k", ls="--", label="TF-IDF + LR (C chosen)")
    ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"Validation accuracy per epoch (mean of {n} seed"
           f"{'s' if n > 1 else ''})")
    ax.legend(fontsize=8)
    files = [save(fig, out_dir / "val_acc.png", f"Validation accuracy after each epoch of every recurrent model "
                  f"({cfg['n_val']} reviews held out of the training split), mean over seeds; the dashed line is the "
                  "TF-IDF + logistic regression baseline at its validation-chosen C.")]

    s = m["variants"][chosen]
    cm = np.array([[s["test_tn"]["mean"], s["test_fp"]["mean"]], [s["test_fn"]["mean"], s["test_tp"]["mean"]]])
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    ax.imshow(cm, cmap="Blues")
    ax.grid(False)
    for (i, j), val in np.ndenumerate(cm):
        ax.text(j, i, f"{val:.0f}\n({100 * val / cm.sum():.1f}%)", ha="center", va="center",
                color="w" if val > cm.max() / 2 else "k")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["negative", "positive"], yticklabels=["negative", "positive"],
           xlabel="predicted", ylabel="true", title=f"Confusion matrix: {chosen} (test)")
    files.append(save(fig, out_dir / "confusion.png", f"Test-set confusion matrix of {chosen}, the model chosen on "
                      f"validation accuracy (counts{', mean over seeds' if n > 1 else ''})."))

    ex = runs[chosen][0]["examples"]
    fig, ax = plt.subplots(figsize=(9.6, 0.3 + 0.95 * len(ex)))
    ax.axis("off")
    y = 1.0
    for e in ex:
        head = (f"{'RIGHT' if e['kind'] == 'right' else 'WRONG'} | true: {'positive' if e['label'] else 'negative'} | "
                f"P(positive) = {e['p_positive']:.3f}")
        ax.text(0, y, head, fontsize=8.5, weight="bold", va="top", color="C2" if e["kind"] == "right" else "C3",
                transform=ax.transAxes)
        ax.text(0, y - 0.04 / max(len(ex), 1) * 6, textwrap.fill(e["text"], 130), fontsize=7.5, va="top",
                family="monospace", transform=ax.transAxes)
        y -= 1.0 / max(len(ex), 1)
    files.append(save(fig, out_dir / "examples.png", f"The {N_EXAMPLES} most confidently right and the "
                      f"{N_EXAMPLES} most confidently wrong test reviews of {chosen} (seed {runs[chosen][0]['seed']}; "
                      f"lower-cased tokens, cut at {EXAMPLE_CHARS} characters)."))
    return files
