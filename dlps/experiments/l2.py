"""Experiment: explicit L2 regularisation strength λ for a small CNN on a CIFAR-10 subset."""

from __future__ import annotations


import numpy as np

from dlps.data import images
from dlps.params import Bool, Choice, Float, Int, ListOf, ParamError, Section
from dlps.report_text import fmt, fmt_p, summary_text

NAME = "l2"
TITLE = "L2 regularisation strength (small CNN on a CIFAR-10 subset)"
QUESTION = ("How does the strength λ of an explicit L2 penalty change a small CNN's accuracy and weights, which λ "
            "is best on validation, and does it beat λ = 0 on the test set? Does the often-quoted "
            "\"optimal λ = 0.001\" hold? The penalty is λ/2·Σ‖W‖² over conv kernels and weight matrices (biases "
            "excluded), added to the mean minibatch cross-entropy and optimised with SGD + momentum (for SGD its "
            "gradient λW equals weight decay λ on the weights only; it is not Adam's coupled weight_decay). The "
            "CNN has no BatchNorm and no dropout, and the final weights are tested (no early stopping), so L2 is "
            "the only regulariser. Data: a training subset and a validation split drawn from the training set of "
            "the CIFAR-10 copy recorded in the dataset provenance, and the full test set, used once per run.")
METRICS = ("val_acc", "test_acc", "train_acc", "gap", "weight_norm", "test_loss", "train_loss")
TABLE_METRICS = ("val_acc", "test_acc", "train_acc", "weight_norm")
HISTORY_KEYS = ("seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_loss_running",
                "weight_norm")
N_CIFAR_TRAIN = 50_000
# Weight histograms: fixed bins over [-HIST_LIMIT, HIST_LIMIT]; weights outside go into the two edge bins.
HIST_LIMIT = 0.25
HIST_BINS = 100


class Lam(Float):
    """A penalty strength λ ≥ 0, kept exactly as written so that str(λ) matches DVC's ${item.lam}."""

    def check(self, path: str, value):
        if isinstance(value, str):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()} (YAML reads 1e-4 as a string: "
                             "write 1.0e-4 or 0.0001)")
        super().check(path, value)
        return value


SCHEMA = Section({
    "lam": ListOf(Lam(0), min_len=3, unique=True),
    "claim_lam": Lam(0, lo_open=True),
    "n_train": Int(10, N_CIFAR_TRAIN - 10),
    "n_val": Int(10, N_CIFAR_TRAIN - 10),
    "channels": ListOf(Int(1, 1024), min_len=1),
    "hidden": Int(1, 65_536),
    "epochs": Int(1, 10_000),
    "batch_size": Int(1, 65_536),
    "optimizer": Choice(("sgd",)),
    "lr": Float(0, lo_open=True),
    "momentum": Float(0, 1, hi_open=True),
    "bf16": Bool(),
    "channels_last": Bool(),
    "train_eval_size": Int(1),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if 0 not in cfg["lam"]:
        raise ParamError(f"l2.lam: got {cfg['lam']!r}; allowed: a list that includes 0 (the unregularised baseline)")
    if cfg["claim_lam"] not in cfg["lam"]:
        raise ParamError(f"l2.claim_lam: got {cfg['claim_lam']!r}; allowed: one of l2.lam {cfg['lam']!r} "
                         "(the claim is judged against the trained values)")
    if cfg["n_train"] + cfg["n_val"] > N_CIFAR_TRAIN:
        raise ParamError(f"l2.n_val: got {cfg['n_val']}; allowed: at most {N_CIFAR_TRAIN - cfg['n_train']} "
                         f"(n_train + n_val must fit in CIFAR-10's {N_CIFAR_TRAIN} training images)")
    if 32 % 2 ** len(cfg["channels"]):
        raise ParamError(f"l2.channels: got {cfg['channels']!r}; allowed: at most 5 stages (each halves 32×32)")


def variants(cfg: dict) -> list[str]:
    return [str(v) for v in cfg["lam"]]


def _ordered(cfg: dict) -> list[str]:
    """Variant strings sorted by λ (0 first)."""
    return [str(v) for v in sorted(cfg["lam"])]


def _base(cfg: dict) -> str:
    return next(str(v) for v in cfg["lam"] if v == 0)


def train_config(cfg: dict, lam: float) -> dict:
    """fit()'s settings: a fixed number of epochs (no early stopping), explicit L2 of strength λ."""
    return {"epochs": cfg["epochs"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
            "lr": cfg["lr"], "momentum": cfg["momentum"], "l2": float(lam), "patience": None,
            "bf16": cfg["bf16"], "channels_last": cfg["channels_last"], "train_eval_size": cfg["train_eval_size"]}


def weight_hist(model) -> list[int]:
    """Counts of all weights (conv kernels and matrices, biases excluded) in HIST_BINS fixed bins."""
    w = np.concatenate([p.detach().float().cpu().numpy().ravel() for p in model.parameters() if p.dim() >= 2])
    counts, _ = np.histogram(np.clip(w, -HIST_LIMIT, HIST_LIMIT), bins=HIST_BINS, range=(-HIST_LIMIT, HIST_LIMIT))
    return [int(c) for c in counts]


def run_seed(cfg: dict, lam: float, data: dict[str, np.ndarray], seed: int, device: str = "cpu") -> tuple[dict, list]:
    """Train one CNN with penalty λ; return its per-seed metrics and per-epoch history rows.

    The final weights are evaluated: on the whole training subset (eval mode), the validation
    split (used to choose λ) and the test set (reported).
    """

    from dlps.models.vision import SmallCNN
    from dlps.training import evaluate, fit, input_stats, weight_norm

    t = images.to_tensors(data, device)
    model = SmallCNN(10, tuple(cfg["channels"]), cfg["hidden"]).to(device)
    stats = input_stats(t["x_train"])
    norms = []
    history, _, _ = fit(model, t, train_config(cfg, lam), seed, stats=stats,
                        log=lambda row: norms.append(weight_norm(model)))
    kw = dict(stats=stats, bf16=cfg["bf16"], channels_last=cfg["channels_last"])
    train_loss, train_acc = evaluate(model, t["x_train"], t["y_train"], **kw)
    val_loss, val_acc = evaluate(model, t["x_val"], t["y_val"], **kw)
    test_loss, test_acc = evaluate(model, t["x_test"], t["y_test"], **kw)
    run = {"seed": seed, "val_acc": float(val_acc), "test_acc": float(test_acc), "train_acc": float(train_acc),
           "gap": float(train_acc - test_acc), "weight_norm": float(weight_norm(model)),
           "test_loss": float(test_loss), "train_loss": float(train_loss), "weight_hist": weight_hist(model)}
    rows = [{k: seed if k == "seed" else norm if k == "weight_norm" else r[k] for k in HISTORY_KEYS}
            for r, norm in zip(history, norms)]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one λ: same data split, initial weights and batch order across λ values."""
    lam = float(variant)
    return images.train_per_seed(ctx, "cifar10", cfg, seeds, NAME,
                                 lambda data, seed, device: run_seed(cfg, lam, data, seed, device))


def _mean(runs: list[dict], metric: str) -> float:
    return float(np.mean([r[metric] for r in runs]))


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """λ* = the highest mean validation accuracy; paired t-tests on test accuracy (λ* vs 0, λ* vs neighbours),
    train accuracy (largest λ vs 0) and weight norm (each λ vs the next larger one)."""
    order, base = _ordered(cfg), _base(cfg)
    best = max(order, key=lambda v: _mean(runs[v], "val_acc"))  # ties: the smaller λ
    largest = order[-1]
    i = order.index(best)
    neighbours = [order[j] for j in (i - 1, i + 1) if 0 <= j < len(order)]
    comparisons = {f"test_acc_{best}_vs_{base}": paired(best, base, "test_acc", "t")}
    for nb in neighbours:
        comparisons[f"test_acc_{best}_vs_{nb}"] = paired(best, nb, "test_acc", "t")
    comparisons[f"train_acc_{largest}_vs_{base}"] = paired(largest, base, "train_acc", "t")
    for a, b in zip(order, order[1:]):
        comparisons[f"weight_norm_{a}_vs_{b}"] = paired(a, b, "weight_norm", "t")
    means = [_mean(runs[v], "weight_norm") for v in order]
    per_seed = np.array([[r["weight_norm"] for r in runs[v]] for v in order])
    acc0, acc1 = _mean(runs[base], "test_acc"), _mean(runs[best], "test_acc")
    derived = {
        "best_lam": best,
        "neighbours": neighbours,
        "improvement_pp": 100 * (acc1 - acc0),
        "val_acc_by_lam": {v: _mean(runs[v], "val_acc") for v in order},
        "weight_norm_monotone_mean": bool(all(a > b for a, b in zip(means, means[1:]))),
        "weight_norm_monotone_all_seeds": bool(np.all(np.diff(per_seed, axis=0) < 0)),
    }
    return {"comparisons": comparisons, "derived": derived}


def findings(cfg: dict, m: dict) -> list[dict]:
    """Verdicts computed from the metrics: each says whether the expected effect is there."""
    order, base = _ordered(cfg), _base(cfg)
    alpha, v, c, d = cfg["alpha"], m["variants"], m["comparisons"], m["derived"]
    best, largest, claim = d["best_lam"], order[-1], str(cfg["claim_lam"])
    pct = dict(scale=100, unit="%")
    out = []

    norms = ", ".join(f"λ = {k}: {fmt(v[k]['weight_norm']['mean'])}" for k in order)
    mono = d["weight_norm_monotone_mean"] and d["weight_norm_monotone_all_seeds"]
    out.append({"claim": "The final weight norm decreases monotonically as λ grows", "shown": mono, "text": (
        f"Final weight norm ‖W‖ (mean over {len(m['seeds'])} seeds): {norms}. "
        + ("It decreases at every step of λ, in the mean and in every seed." if mono else
           "It does not decrease at every step of λ " + ("in every seed." if d["weight_norm_monotone_mean"]
                                                         else "(means).") + " Monotone decrease is not shown."))})

    tr = c[f"train_acc_{largest}_vs_{base}"]
    under = tr["mean_diff"] < 0 and tr["p_value"] < alpha
    out.append({"claim": f"The largest λ ({largest}) underfits: lower training accuracy than λ = {base}",
                "shown": under, "text": (
        f"Training accuracy (eval mode, whole training subset) with λ = {largest}: "
        f"{summary_text(v[largest]['train_acc'], 3, **pct)} vs {summary_text(v[base]['train_acc'], 3, **pct)} with "
        f"λ = {base} ({fmt(100 * tr['mean_diff'])} pp, {fmt_p(tr['p_value'])}); its validation accuracy is "
        f"{summary_text(v[largest]['val_acc'], 3, **pct)}. "
        + ("It fits the training data significantly worse: it underfits." if under else
           f"Lower training accuracy is not shown at α = {alpha}."))})

    acc = c[f"test_acc_{best}_vs_{base}"]
    beats = best != base and acc["mean_diff"] > 0 and acc["p_value"] < alpha
    out.append({"claim": f"The λ chosen on validation (λ* = {best}) beats λ = {base} on test accuracy",
                "shown": beats, "text": (
        f"λ* = {best} has the highest mean validation accuracy ({summary_text(v[best]['val_acc'], 3, **pct)}). "
        + (f"Test accuracy at λ*: {summary_text(v[best]['test_acc'], 3, **pct)} vs "
           f"{summary_text(v[base]['test_acc'], 3, **pct)} at λ = {base}; paired difference "
           f"{fmt(100 * acc['mean_diff'])} pp [95% CI {fmt(100 * acc['diff_ci95_low'])}, "
           f"{fmt(100 * acc['diff_ci95_high'])}] ({fmt_p(acc['p_value'])}, paired t-test over {acc['n']} seeds). "
           if best != base else "That is the unregularised model: no λ > 0 improves validation accuracy. ")
        + (f"L2 improves test accuracy significantly at α = {alpha}." if beats else
           f"An improvement over λ = {base} is not shown at α = {alpha}."))})

    tests = [c[f"test_acc_{best}_vs_{nb}"] for nb in d["neighbours"]]
    distinct = all(t["mean_diff"] > 0 and t["p_value"] < alpha for t in tests)
    holds = best == claim and distinct
    nb_text = "; ".join(f"vs λ = {t['b']}: {fmt(100 * t['mean_diff'])} pp ({fmt_p(t['p_value'])})" for t in tests)
    out.append({"id": "old_claim", "claim": f"The optimal λ is {claim}", "shown": holds, "text": (
        "Mean validation accuracy by λ: "
        + ", ".join(f"{k}: {fmt(100 * d['val_acc_by_lam'][k])}%" for k in order)
        + f". λ* = {best}" + (" (the claimed value)" if best == claim else f", not the claimed {claim}")
        + f"; its test accuracy against its neighbours: {nb_text}. "
        + (f"The claim holds here: λ = {claim} is best and distinguishable from its neighbours at α = {alpha}."
           if holds else
           (f"λ = {claim} is best but not distinguishable from its neighbours at α = {alpha}, so the claim is not "
            "shown." if best == claim else f"The claim is not shown: the best λ here is {best}.")
           + " (One setup: the best λ depends on data size, architecture, optimiser and training length.)"))})
    return out


def _positions(order: list[str]) -> tuple[list[float], float]:
    """x positions on a log axis: λ > 0 at λ, λ = 0 one decade left of the smallest positive λ."""
    positive = [float(k) for k in order if float(k) > 0]
    zero_x = min(positive) / 10 if positive else 1.0
    return [float(k) if float(k) > 0 else zero_x for k in order], zero_x


def _lam_axis(ax, order: list[str], zero_x: float) -> None:
    xs, _ = _positions(order)
    ax.set_xscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels(["0" if float(k) == 0 else k for k in order])
    ax.minorticks_off()
    ax.axvspan(zero_x / 2.2, zero_x * 2.2, color="0.92", zorder=0)
    ax.set_xlabel("L2 strength λ (log scale; λ = 0 in the shaded slot)")


def _mean_curve(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and the mean of `key` over seeds at each epoch (epochs every seed reached)."""
    seeds = sorted({int(r["seed"]) for r in rows})
    curves = [[float(r[key]) for r in rows if int(r["seed"]) == s] for s in seeds]
    n = min(len(c) for c in curves)
    return np.arange(1, n + 1), np.mean([c[:n] for c in curves], axis=0)


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Accuracy vs λ, weight norm vs λ, training curves per λ, and weight histograms λ = 0 vs λ*."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    order, base, n = _ordered(cfg), _base(cfg), len(m["seeds"])
    best = m["derived"]["best_lam"]
    xs, zero_x = _positions(order)

    def errorbars(ax, metric, label, scale, **kw):
        s = [m["variants"][k][metric] for k in order]
        mean = np.array([x["mean"] for x in s]) * scale
        err = np.array([[x["mean"] - x["ci95_low"], x["ci95_high"] - x["mean"]] for x in s]).T * scale
        ax.errorbar(xs, mean, yerr=err, capsize=4, marker="o", label=label, **kw)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    errorbars(ax, "val_acc", "validation", 100, lw=1.8)
    errorbars(ax, "test_acc", "test", 100, lw=1.2, ls="--")
    errorbars(ax, "train_acc", "train (eval mode)", 100, lw=1.0, ls=":")
    ax.axvline(xs[order.index(best)], color="k", lw=0.8, ls="-.", label=f"λ* = {best} (best validation)")
    _lam_axis(ax, order, zero_x)
    ax.set(ylabel="accuracy (%)", title=f"Accuracy vs L2 strength (mean, 95% CI, {n} seeds)")
    ax.legend(fontsize=8)
    files = [save(fig, out_dir / "acc_vs_lam.png",
                  "Validation, test and training accuracy (final weights) against λ with 95% Student-t confidence "
                  "intervals over seeds; λ = 0 sits in the shaded slot at the left of the log axis; λ* is chosen on "
                  "validation accuracy.")]

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    errorbars(ax, "weight_norm", "final ‖W‖", 1, lw=1.8)
    ax.set_yscale("log")
    _lam_axis(ax, order, zero_x)
    ax.set(ylabel="weight norm ‖W‖ (log scale)", title=f"Final weight norm vs L2 strength (mean, 95% CI, {n} seeds)")
    files.append(save(fig, out_dir / "weight_norm_vs_lam.png",
                      "L2 norm of all conv kernels and weight matrices (biases excluded) after training, against λ, "
                      "with 95% confidence intervals over seeds."))

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9))
    for i, k in enumerate(order):
        color = f"C{i}"
        axes[0].plot(*_mean_curve(histories[k], "val_acc"), color=color, lw=1.8, label=f"λ = {k} validation")
        axes[0].plot(*_mean_curve(histories[k], "train_acc"), color=color, lw=1.1, ls="--", label=f"λ = {k} train")
        axes[1].plot(*_mean_curve(histories[k], "val_loss"), color=color, lw=1.8)
        axes[1].plot(*_mean_curve(histories[k], "train_loss"), color=color, lw=1.1, ls="--")
        axes[2].plot(*_mean_curve(histories[k], "weight_norm"), color=color, lw=1.8, label=f"λ = {k}")
    axes[0].set(xlabel="epoch", ylabel="accuracy (eval mode)")
    axes[1].set(xlabel="epoch", ylabel="cross-entropy (no penalty, log)", yscale="log")
    axes[2].set(xlabel="epoch", ylabel="weight norm ‖W‖")
    axes[2].legend(fontsize=8)
    fig.suptitle(f"Training curves per λ (mean of {n} seeds; solid validation, dashed train)")
    files.append(save(fig, out_dir / "curves.png",
                      "Per-epoch accuracy, cross-entropy (eval mode; train dashed, validation solid) and weight norm "
                      f"for each λ, mean over seeds; {cfg['n_train']} training images, training accuracy measured on "
                      f"the first {cfg['train_eval_size']} of them each epoch."))

    other = best if best != base else str(cfg["claim_lam"])
    seed = m["seeds"][0]
    edges = np.linspace(-HIST_LIMIT, HIST_LIMIT, HIST_BINS + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    largest = order[-1]
    shown = [(base, dict(color="C0", lw=1.6)), (other, dict(color="C3", lw=1.6))]
    if largest not in (base, other):
        shown.append((largest, dict(color="0.5", lw=1.0, ls="--")))
    for k, style in shown:
        counts = np.asarray(runs[k][0]["weight_hist"], dtype=float)
        label = f"λ = {k}" + (" (λ*)" if k == best else " (largest λ, for reference)" if k == largest else "")
        ax.stairs(np.maximum(counts, 0.5), edges, label=label, **style)
    ax.set_yscale("log")
    ax.set(xlabel="weight value", ylabel="count (log scale)", ylim=(0.5, None),
           title=f"Weight distribution after training (seed {seed})")
    ax.legend(fontsize=8)
    which = "λ* (chosen on validation)" if best != base else f"λ = {other} (λ* is 0 here)"
    files.append(save(fig, out_dir / "weight_hist.png",
                      f"Histogram of all conv and linear weights (biases excluded) after training, λ = {base} vs "
                      f"{which}, with the largest λ dashed for reference, seed {seed}; {HIST_BINS} bins over [−{HIST_LIMIT}, {HIST_LIMIT}], values outside "
                      "counted in the edge bins."))
    return files
