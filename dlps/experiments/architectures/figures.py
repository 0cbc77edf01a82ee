"""Figures of the architectures experiment: test MSE against lag, learning curves, and the ablations at the
longest lag."""

from __future__ import annotations

import numpy as np

from dlps.experiments.architectures.spec import CONFIGS, MODELS, lag_key
from dlps.fmt import fmt
from dlps.data.tasks import ADDING_BASELINE_MSE


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


STYLE = {"rnn": ("C3", "-"), "lstm": ("C0", "-"), "gru": ("C2", "-"),
         "lstm_no_forget": ("C1", "--"), "lstm_no_input": ("C4", "--"), "lstm_no_output": ("C5", "--"),
         "lstm_forget_bias1": ("C9", ":"), "gru_no_reset": ("C6", "--"), "gru_no_update": ("C8", "--")}


def _ref_lines(ax, thr: float) -> None:
    ax.axhline(thr, color="k", ls=":", lw=1, label=f"success threshold {fmt(thr)}")
    ax.axhline(ADDING_BASELINE_MSE, color="0.5", ls="--", lw=1, label="always predict 1 (1/6)")


PLOTS = ["mse_vs_lag.png", "ablations.png", "learning_curves.png",
         {"history": {"x": "step", "y": "val_mse", "by": "lag"}}]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    d = m["derived"]
    lags = sorted(cfg["lags"])
    L = d["longest_lag"]
    n = len(m["seeds"])
    thr = cfg["success_mse"]
    files = []

    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    ax.set_yscale("log")
    for v, per in d["per_lag"].items():
        color, ls = STYLE[v]
        s = [per[str(lag)]["log10_test_mse"] for lag in lags]
        mean = [10 ** x["mean"] for x in s]
        ax.plot(lags, mean, color=color, ls=ls, marker="o", lw=2 if v in MODELS else 1.2, label=v)
        if n > 1:
            ax.fill_between(lags, [10 ** x["ci_low"] for x in s], [10 ** x["ci_high"] for x in s],
                            color=color, alpha=0.12)
    _ref_lines(ax, thr)
    ax.set(xlabel="lag (sequence length)", ylabel="test MSE (log scale)", xticks=lags,
           title=f"Adding problem: test MSE vs lag ({n} seeds)")
    ax.legend(fontsize=7, ncol=2)
    files.append(save(fig, out_dir / "mse_vs_lag.png", (
        f"Test MSE against lag for every model configuration: geometric mean over {n} seeds with a 95% CI band "
        f"(Student t on log10 MSE); log scale. Dotted: success threshold {fmt(thr)}; dashed: MSE of always "
        "predicting 1 (1/6). Each model is tested at its best validation checkpoint.")))

    groups = [("models", [v for v in MODELS if v in histories]),
              ("LSTM ablations", [v for v in histories if CONFIGS[v][0] == "lstm"]),
              ("GRU ablations", [v for v in histories if CONFIGS[v][0] == "gru"])]
    groups = [(t, vs) for t, vs in groups if vs and (t == "models" or len(vs) > 1)]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 4.2), sharey=True, squeeze=False)
    for ax, (title, vs) in zip(axes[0], groups):
        ax.set_yscale("log")
        for v in vs:
            color, ls = STYLE[v]
            for i, seed in enumerate(m["seeds"]):
                rows = [r for r in histories[v] if r["lag"] == L and r["seed"] == seed]
                ax.plot([r["step"] for r in rows], [r["val_mse"] for r in rows], color=color, ls=ls, lw=1.2,
                        alpha=0.8, label=v if i == 0 else None)
        _ref_lines(ax, thr)
        ax.set(xlabel="training step", title=f"{title}, lag {L}")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("validation MSE (log scale)")
    files.append(save(fig, out_dir / "learning_curves.png", (
        f"Validation MSE against training step at lag {L}, one line per seed ({n} seeds); a curve ends early "
        f"where training stopped after {cfg['stop_after']} consecutive evaluations below {fmt(thr)}.")))

    vs = list(d["per_lag"])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(vs) + 2), 4.4))
    ax.set_yscale("log")
    s = [d["per_lag"][v][str(L)]["log10_test_mse"] for v in vs]
    mean = np.array([10 ** x["mean"] for x in s])
    lo = np.array([10 ** x["ci_low"] for x in s])
    hi = np.array([10 ** x["ci_high"] for x in s])
    xs = np.arange(len(vs))
    ax.bar(xs, mean, color=[STYLE[v][0] for v in vs], alpha=0.8)
    ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="k", capsize=4)
    for x, v in zip(xs, vs):
        seeds_mse = [r[lag_key("test_mse", L)] for r in runs[v]]
        ax.scatter(np.full(len(seeds_mse), x) + np.linspace(-0.15, 0.15, len(seeds_mse)), seeds_mse, s=10, c="k",
                   zorder=3, label="one seed" if x == 0 else None)
    for x, v, top in zip(xs, vs, hi):
        ax.text(x, top * 1.15, f"{_pct(d['success_rate'][v][str(L)])}", ha="center", fontsize=8)
    _ref_lines(ax, thr)
    ax.set_xticks(xs, vs, rotation=35, ha="right", fontsize=8)
    ax.set(ylabel="test MSE (log scale)", title=f"Lag {L}: test MSE per configuration (success rate above bars)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    files.append(save(fig, out_dir / "ablations.png", (
        f"Test MSE at lag {L} for every configuration: geometric mean over {n} seeds with 95% CI (Student t on "
        "log10 MSE), dots the individual seeds; the percentage over each bar is the share of seeds with test MSE below "
        f"{fmt(thr)}.")))
    return files
