"""Figures of the numpy_rnn experiment: loss curves, bits per character, agreement with PyTorch, and samples."""

from __future__ import annotations

import numpy as np

from dlps import stats
from dlps.experiments.numpy_rnn.spec import LN2, VARIANT
from dlps.fmt import fmt


def _by_step(rows: list[dict], key: str) -> tuple[list[int], list[dict]]:
    steps = sorted({r["step"] for r in rows})
    return steps, [stats.summarize([r[key] for r in rows if r["step"] == s]) for s in steps]


def _throughput(rows: list[dict]) -> str:
    """Float32 training throughput of this run (wall-clock: it varies from run to run and decides nothing)."""
    if not all("numpy_chars_per_s" in r and "torch_chars_per_s" in r for r in rows):
        return ""
    numpy_cps = float(np.mean([r["numpy_chars_per_s"] for r in rows]))
    torch_cps = float(np.mean([r["torch_chars_per_s"] for r in rows]))
    device = rows[0].get("twin_device", "the same device")
    return (f" Float32 training throughput in this run (wall-clock, varies from run to run): NumPy on the CPU "
            f"{fmt(numpy_cps)} chars/s, PyTorch on {device} {fmt(torch_cps)} chars/s, a ratio of "
            f"{fmt(numpy_cps / torch_cps)}.")


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


PLOTS = ["loss_curves.png", "bits_per_char.png", "torch_agreement.png", "samples.png",
         {"history": {"x": "step", "y": ["train_loss", "val_loss"]}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    import matplotlib.pyplot as plt

    from dlps.plotting import band, save

    v, d, rows = m["variants"][VARIANT], m["derived"], runs[VARIANT]
    n = len(m["seeds"])
    uni, bi = v["unigram_val_nats"]["mean"], v["bigram_val_nats"]["mean"]
    chars = cfg["batch"] * cfg["seq_len"]
    bar_val = cfg["bar"] * bi

    fig, ax = plt.subplots(figsize=(6.8, 4.3))
    hist = histories[VARIANT]
    for key, label in (("train_loss", "RNN training loss (mean over each interval)"),
                       ("val_loss", "RNN validation loss")):
        steps, summaries = _by_step(hist, key)
        band(ax, steps, summaries, label=label, marker="o" if len(steps) < 30 else None, ms=3)
    ax.axhline(uni, color="0.45", ls="--", lw=1.2, label=f"unigram (add-{fmt(cfg['ngram_k'])}) {fmt(uni)}")
    ax.axhline(bi, color="0.2", ls="-.", lw=1.2, label=f"bigram (add-{fmt(cfg['ngram_k'])}) {fmt(bi)}")
    ax.axhline(bar_val, color="tab:red", ls=":", lw=1.2, label=f"{fmt(cfg['bar'])} × bigram = {fmt(bar_val)}")
    top = max(uni, max(r["train_loss"] for r in hist)) + 0.15
    ax.set(xlabel=f"training step ({chars} chars each)", ylabel="loss (nats/char)", ylim=(None, top),
           title=f"Char-RNN (hidden {cfg['hidden']}) on tiny-shakespeare, mean and 95% CI over {n} seed(s)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8, loc="center right")
    files = [save(fig, out_dir / "loss_curves.png",
                  f"Training loss (mean of the minibatch losses in each {cfg['eval_every']}-step interval) and "
                  "validation loss (whole validation part, hidden state carried) of the NumPy RNN against "
                  f"training steps, mean with 95% Student-t band over {n} seed(s); horizontal lines: the unigram "
                  f"and bigram baselines on the same part and {fmt(cfg['bar'])} × bigram. The validation part is "
                  "only monitored; the findings are judged on the separate test part, scored once at the end.")]

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    names = ["unigram", "bigram", "RNN"]
    keys = ["unigram_test_bits", "bigram_test_bits", "rnn_test_bits"]
    means = [v[k]["mean"] for k in keys]
    err = [[v[k]["mean"] - v[k]["ci_low"] for k in keys], [v[k]["ci_high"] - v[k]["mean"] for k in keys]]
    ax.bar(names, means, yerr=err, capsize=4, color=["0.7", "0.45", "tab:blue"])
    for i, x in enumerate(means):
        ax.text(i, x, f"{x:.3f}", ha="center", va="bottom", fontsize=9)
    ax.axhline(d["bar_test_nats"] / LN2, color="tab:red", ls=":", label=f"bar ({fmt(cfg['bar'])} × bigram)")
    ax.set(ylabel="test loss (bits/char)", title="Test bits per character")
    ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "bits_per_char.png",
                      f"Test loss in bits/char of the unigram, bigram and RNN models on the test part, scored once "
                      f"after training (RNN: mean and 95% CI over {n} seed(s); the baselines are deterministic), "
                      "with the bar."))

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
                      f"(dotted). Values below {floor:g}, including exact zeros, are drawn at {floor:g}."
                      + _throughput(rows)))

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
