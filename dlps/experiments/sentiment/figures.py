"""Figures of the sentiment experiment: validation accuracy per epoch, the chosen model's confusion matrix, and
its most confidently right and wrong test reviews."""

from __future__ import annotations

import numpy as np

from dlps.experiments.sentiment.spec import BASELINE, EXAMPLE_CHARS, N_EXAMPLES, SAME_TEXT, recurrent


def _curve(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Epochs every seed reached and the mean validation accuracy at each."""
    seeds = sorted({int(r["seed"]) for r in rows})
    curves = [[float(r["val_acc"]) for r in rows if int(r["seed"]) == s] for s in seeds]
    k = min(len(x) for x in curves)
    return np.arange(1, k + 1), np.mean([x[:k] for x in curves], axis=0)


PLOTS = ["val_acc.png", "confusion.png", "examples.png", {"history": {"x": "epoch", "y": "val_acc"}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Validation accuracy per epoch (the TF-IDF baselines as lines), the chosen model's confusion matrix, and its
    most confidently right and wrong test reviews."""
    import textwrap

    import matplotlib.pyplot as plt

    from dlps.plotting import save

    n = len(m["seeds"])
    chosen = m["derived"]["chosen_model"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, v in enumerate(recurrent(runs)):
        if histories.get(v):
            ax.plot(*_curve(histories[v]), marker="o", color=f"C{i + 1}", label=v)
    ax.axhline(m["variants"][BASELINE]["val_acc"]["mean"], color="k", ls="--", label="TF-IDF + LR, whole reviews")
    ax.axhline(m["variants"][SAME_TEXT]["val_acc"]["mean"], color="k", ls=":",
               label=f"TF-IDF + LR, {cfg['max_len']} tokens")
    ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"Validation accuracy per epoch (mean of {n} seed"
           f"{'s' if n > 1 else ''})")
    ax.legend(fontsize=8)
    files = [save(fig, out_dir / "val_acc.png", f"Validation accuracy after each epoch of every recurrent model "
                  f"({cfg['n_val']} reviews held out of the training split), mean over seeds; the dashed line is the "
                  "TF-IDF + logistic regression baseline on whole reviews, the dotted one on the same "
                  f"{cfg['max_len']} tokens ({cfg['truncate']}) the recurrent models read, each at its "
                  "validation-chosen C.")]

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
