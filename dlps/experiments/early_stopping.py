"""Experiment: patience-based early stopping of an MLP that overfits a small Fashion-MNIST subset."""

from __future__ import annotations

import math

import numpy as np

from dlps import stats
from dlps.data import images
from dlps.params import Bool, Choice, Float, Int, ListOf, ParamError, Section
from dlps.report_text import fmt, fmt_p, summary_text

NAME = "early_stopping"
TITLE = "Early stopping (MLP on a small Fashion-MNIST subset)"
QUESTION = ("How many epochs does patience-based early stopping on validation loss save against training an "
            "overfitting MLP for the full budget, and is the test accuracy of the restored best weights as good as "
            "the full run's final weights? Does the old claim 'early stopping saves 30–40% of computation with "
            "maintained performance' hold?")
VARIANT = "all"
CLAIM_RANGE = (0.30, 0.40)  # the old "saves 30–40% of computation" claim, as a fraction
N_TRAIN_TOTAL = 60_000
HISTORY_KEYS = ("seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_loss_running")

# Per-patience values in every per-seed row, suffixed _p<patience>. The TIMINGS are wall-clock measurements
# (they vary run to run; the pipeline stores them apart); every other value is deterministic for given params.
PER_PATIENCE = ("stop_epoch", "best_epoch", "stopped", "epochs_saved", "epochs_saved_frac", "test_acc_restored",
                "acc_change_pp", "time_saved_s", "time_saved_frac")
TIMINGS = ("time_full_s", "time_saved_s", "time_saved_frac")
# METRICS must not depend on params, so the unsuffixed per-patience names are those of `default_patience`;
# every patience's values are summarised in derived["patience"].
METRICS = ("epochs_full", "best_epoch_full", "val_loss_rise", "test_acc_full", "test_acc_best_full",
           "stop_epoch", "best_epoch", "epochs_saved", "epochs_saved_frac", "test_acc_restored", "acc_change_pp",
           "time_full_s", "time_saved_frac")

SCHEMA = Section({
    "patience": ListOf(Int(1, 10_000), min_len=1, unique=True),
    "default_patience": Int(1, 10_000),
    "min_delta": Float(0),
    "max_epochs": Int(2, 10_000),
    "n_train": Int(10, N_TRAIN_TOTAL - 10),
    "n_val": Int(10, N_TRAIN_TOTAL - 10),
    "hidden": ListOf(Int(1, 8192), min_len=1),
    "batch_size": Int(1, 65_536),
    "optimizer": Choice(("sgd", "adam")),
    "lr": Float(0, lo_open=True),
    "momentum": Float(0, 1, hi_open=True),
    "bf16": Bool(),
    "min_saved_frac": Float(0, 1),
    "max_acc_drop_pp": Float(0),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    if cfg["default_patience"] not in cfg["patience"]:
        raise ParamError(f"early_stopping.default_patience: got {cfg['default_patience']}; allowed: one of "
                         f"early_stopping.patience {cfg['patience']}")
    for i, p in enumerate(cfg["patience"]):
        if p >= cfg["max_epochs"]:
            raise ParamError(f"early_stopping.patience[{i}]: got {p}; allowed: below early_stopping.max_epochs "
                             f"({cfg['max_epochs']}), or the rule can never stop the run")
    if cfg["n_train"] + cfg["n_val"] > N_TRAIN_TOTAL:
        raise ParamError(f"early_stopping.n_val: got {cfg['n_val']}; allowed: at most {N_TRAIN_TOTAL - cfg['n_train']} "
                         f"(n_train + n_val must fit in Fashion-MNIST's {N_TRAIN_TOTAL} training images)")


def variants(cfg: dict) -> list[str]:
    """One variant: every patience is read off the same full run per seed."""
    return [VARIANT]


def train_config(cfg: dict, patience: int | None = None) -> dict:
    """fit()'s settings: no L2, no dropout; `patience` None runs all max_epochs (the full run)."""
    return {"epochs": cfg["max_epochs"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
            "lr": cfg["lr"], "momentum": cfg["momentum"], "l2": 0.0, "patience": patience,
            "min_delta": cfg["min_delta"], "bf16": cfg["bf16"]}


def make_model(cfg: dict, data: dict, device: str = "cpu"):
    from dlps.models.vision import MLP

    return MLP(int(np.prod(tuple(data["x_train"].shape[1:]))), cfg["hidden"], 10).to(device)


def full_run(cfg: dict, t: dict, seed: int, device: str = "cpu"):
    """Train for max_epochs, keeping a deep copy of the weights at every new validation-loss minimum.

    Early stopping with any patience ends this curve at `early_stop_epoch`'s stop epoch and restores
    the weights of its best epoch, which is always a new running minimum; so one full run gives every
    patience's stopped-and-restored model. Returns (model, stats, history, snapshots by epoch).
    """
    from dlps.training import clone_state, fit, input_stats

    model = make_model(cfg, t, device)
    stats_ = input_stats(t["x_train"])
    snapshots: dict[int, dict] = {}
    best = [math.inf]

    def log(row: dict) -> None:  # called after each epoch's evaluation, same tie-breaking as fit's best_state
        loss = row["val_loss"]
        if not snapshots or (math.isfinite(loss) and loss < best[0]):
            snapshots[row["epoch"]] = clone_state(model)
            best[0] = loss if math.isfinite(loss) else math.inf

    history, _, _ = fit(model, t, train_config(cfg), seed, stats=stats_, log=log)
    return model, stats_, history, snapshots


def run_seed(cfg: dict, data: dict[str, np.ndarray], seed: int, device: str = "cpu") -> tuple[dict, list]:
    """One full run; per patience: stop and best epoch, epochs and time saved, restored vs final test accuracy."""
    from dlps.training import early_stop_epoch, evaluate

    t = images.to_tensors(data, device)
    model, st, history, snapshots = full_run(cfg, t, seed, device)
    test = lambda: evaluate(model, t["x_test"], t["y_test"], st, bf16=cfg["bf16"])[1]  # noqa: E731
    test_acc_full = test()
    val_losses = [r["val_loss"] for r in history]
    times = np.array([r["epoch_time_s"] for r in history])
    n = len(history)
    best_full = early_stop_epoch(val_losses, n + 1, 0.0)[1]  # patience longer than the run: the overall minimum
    model.load_state_dict(snapshots[best_full])
    run = {"seed": seed, "epochs_full": n, "best_epoch_full": best_full,
           "val_loss_rise": float(val_losses[-1] - val_losses[best_full - 1]),
           "test_acc_full": float(test_acc_full), "test_acc_best_full": float(test()),
           "time_full_s": float(times.sum())}
    for p in cfg["patience"]:
        stop, best = early_stop_epoch(val_losses, p, cfg["min_delta"])
        model.load_state_dict(snapshots[best])
        acc = test()
        run |= {f"stop_epoch_p{p}": stop, f"best_epoch_p{p}": best, f"stopped_p{p}": int(stop < n),
                f"epochs_saved_p{p}": cfg["max_epochs"] - stop,
                f"epochs_saved_frac_p{p}": (cfg["max_epochs"] - stop) / cfg["max_epochs"],
                f"test_acc_restored_p{p}": float(acc), f"acc_change_pp_p{p}": float(100 * (acc - test_acc_full)),
                f"time_saved_s_p{p}": float(times[stop:].sum()),
                f"time_saved_frac_p{p}": float(times[stop:].sum() / times.sum())}
    d = cfg["default_patience"]
    run |= {k: run[f"{k}_p{d}"] for k in METRICS if f"{k}_p{d}" in run}
    rows = [{k: (seed if k == "seed" else r[k]) for k in HISTORY_KEYS} for r in history]
    return run, rows


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed's full run (its own training subset, initial weights and batch order)."""
    return images.train_per_seed(ctx, "fashion_mnist", cfg, seeds, NAME,
                                 lambda data, seed, device: run_seed(cfg, data, seed, device))


def _paired(rows: list[dict], a: str, b: str, label_a: str, label_b: str) -> dict:
    """A paired t-test of two metrics of the same runs, shaped like the pipeline's variant comparisons."""
    if len(rows) < 2:
        return {"a": label_a, "b": label_b, "metric": "test_acc", "test": "paired t-test (needs >= 2 seeds)",
                "alternative": "two-sided", "statistic": 0.0, "p_value": 1.0, "n": len(rows),
                "mean_diff": float(np.mean([r[a] - r[b] for r in rows])),
                "diff_ci95_low": float(np.mean([r[a] - r[b] for r in rows])),
                "diff_ci95_high": float(np.mean([r[a] - r[b] for r in rows]))}
    return {"a": label_a, "b": label_b, "metric": "test_acc",
            **stats.paired_test([r[a] for r in rows], [r[b] for r in rows], test="t")}


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Per-patience summaries, paired t-tests of restored vs full-run test accuracy, and the bar's verdict."""
    rows = runs[VARIANT]
    per = {str(p): {k: stats.summarize([r[f"{k}_p{p}"] for r in rows]) for k in PER_PATIENCE}
           for p in cfg["patience"]}
    comparisons = {f"test_acc_restored_p{p}_vs_full": _paired(rows, f"test_acc_restored_p{p}", "test_acc_full",
                                                              f"restored (patience {p})", "full run, final epoch")
                   for p in cfg["patience"]}
    d = per[str(cfg["default_patience"])]
    saved, change = d["epochs_saved_frac"]["mean"], d["acc_change_pp"]["mean"]
    derived = {"patience": per, "default_patience": cfg["default_patience"],
               "default_epochs_saved_frac": saved, "default_acc_change_pp": change,
               "default_time_saved_frac": d["time_saved_frac"]["mean"],
               "bar_met": bool(saved >= cfg["min_saved_frac"] and change >= -cfg["max_acc_drop_pp"])}
    return {"comparisons": comparisons, "derived": derived}


def _range_verdict(x: float) -> str:
    lo, hi = CLAIM_RANGE
    return "below the claimed 30–40%" if x < lo else "within the claimed 30–40%" if x <= hi else \
        "more than the claimed 30–40%"


def findings(cfg: dict, m: dict) -> list[dict]:
    """Verdicts computed from the metrics: each says whether the expected effect is there."""
    v, c, d = m["variants"][VARIANT], m["comparisons"], m["derived"]
    p = d["default_patience"]
    per, cmp_ = d["patience"][str(p)], c[f"test_acc_restored_p{p}_vs_full"]
    pct = dict(scale=100, unit="%")
    n_max, margin, alpha = cfg["max_epochs"], cfg["max_acc_drop_pp"], cfg["alpha"]
    out = []

    rise, best = v["val_loss_rise"], v["best_epoch_full"]
    turns = rise["ci95_low"] > 0 and best["mean"] < n_max
    out.append({"claim": "Without early stopping the validation loss turns upward (the model overfits)",
                "shown": turns, "text": (
        f"Over {n_max} epochs the validation loss is lowest at epoch {fmt(best['mean'])} on average and ends "
        f"{summary_text(rise)} above that minimum. " + ("The full run overfits in loss, so there is something for "
                                                        "early stopping to save." if turns else
                                                        "An upturn is not shown, so early stopping has little to save."))})

    saved, change = per["epochs_saved_frac"], per["acc_change_pp"]
    ok_saved, ok_acc = saved["mean"] >= cfg["min_saved_frac"], change["mean"] >= -margin
    out.append({"claim": f"At the default patience ({p}) early stopping saves at least "
                         f"{fmt(100 * cfg['min_saved_frac'])}% of the epochs and the restored model's test accuracy "
                         f"is within {fmt(margin)} pp of the full run's final weights", "shown": ok_saved and ok_acc,
                "text": (
        f"Patience {p} (min_delta {fmt(cfg['min_delta'])}) stops at epoch {summary_text(per['stop_epoch'])} of "
        f"{n_max} and restores epoch {summary_text(per['best_epoch'])}, saving {summary_text(saved, **pct)} of the "
        f"epochs. Restored test accuracy {summary_text(v['test_acc_restored'], 4, **pct)} vs "
        f"{summary_text(v['test_acc_full'], 4, **pct)} for the full run's final weights: paired difference "
        f"{fmt(100 * cmp_['mean_diff'])} pp [95% CI {fmt(100 * cmp_['diff_ci95_low'])}, "
        f"{fmt(100 * cmp_['diff_ci95_high'])}] ({fmt_p(cmp_['p_value'])}, paired t-test over {cmp_['n']} seeds; "
        f"{'' if cmp_['p_value'] < alpha else 'not '}significant at α = {alpha}). "
        + ("Both parts of the bar are met." if ok_saved and ok_acc else
           "The bar is not met: " + " and ".join(
               s for s, bad in ((f"fewer than {fmt(100 * cfg['min_saved_frac'])}% of epochs saved", not ok_saved),
                                (f"accuracy more than {fmt(margin)} pp below the full run", not ok_acc)) if bad)
           + "."))})

    all_p = sorted(cfg["patience"])
    parts = [f"patience {q}: {fmt(100 * d['patience'][str(q)]['epochs_saved_frac']['mean'])}% of epochs "
             f"({fmt(100 * d['patience'][str(q)]['time_saved_frac']['mean'])}% of measured wall time), "
             f"{'+' if d['patience'][str(q)]['acc_change_pp']['mean'] >= 0 else ''}"
             f"{fmt(d['patience'][str(q)]['acc_change_pp']['mean'])} pp test accuracy "
             f"({fmt_p(c[f'test_acc_restored_p{q}_vs_full']['p_value'])})" for q in all_p]
    holds = ok_saved and saved["mean"] >= CLAIM_RANGE[0] and ok_acc
    out.append({"id": "old_claim", "claim": "Early stopping saves 30–40% of computation with maintained performance",
                "shown": holds,
                "text": (
        f"Computation saved is measured in epochs (every epoch costs the same training pass and evaluation), "
        f"relative to a {n_max}-epoch budget; " + "; ".join(parts) + ". "
        f"At the default patience {p} the saving is {fmt(100 * saved['mean'])}%, "
        f"{_range_verdict(saved['mean'])}, and performance "
        + (f"is maintained (within {fmt(margin)} pp)" if ok_acc else f"is not maintained (more than {fmt(margin)} pp "
                                                                      "lower)")
        + (": the claim holds" + (" as a lower bound: the saving grows with how far past its best epoch the full "
                                  "budget runs, so the 30–40% figure is a property of the budget, not of early "
                                  "stopping." if saved["mean"] > CLAIM_RANGE[1] else ".") if holds else
           ": the claim does not hold.")
        + " Wall-time fractions are timings of the full run's epochs after the stop epoch and vary run to run.")})
    return out


def _curves(rows: list[dict], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mine = [r for r in rows if int(r["seed"]) == seed]
    return (np.array([int(r["epoch"]) for r in mine]), np.array([float(r["val_loss"]) for r in mine]),
            np.array([float(r["train_loss"]) for r in mine]))


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Validation-loss curves with stop and best epochs marked; epochs saved vs test accuracy per patience."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    rows, hist = runs[VARIANT], histories[VARIANT]
    shown = rows[:3]
    all_p = sorted(cfg["patience"])
    fig, axes = plt.subplots(1, len(shown), figsize=(4.4 * len(shown), 3.8), squeeze=False)
    for ax, run in zip(axes[0], shown):
        epochs, val, train = _curves(hist, run["seed"])
        ax.plot(epochs, val, "k-", lw=1.8, label="validation loss")
        ax.plot(epochs, train, color="0.6", ls="--", lw=1.2, label="training loss (eval mode)")
        for i, p in enumerate(all_p):
            stop, best = run[f"stop_epoch_p{p}"], run[f"best_epoch_p{p}"]
            ax.axvline(stop, color=f"C{i}", ls=":", lw=1.5, label=f"stop, patience {p}")
            ax.plot(best, val[best - 1], "o", color=f"C{i}", ms=8 - 1.5 * i, mfc="none", mew=1.8,
                    label=f"restored (best) epoch, patience {p}")
        ax.set(yscale="log", xlabel="epoch", ylabel="cross-entropy (log scale)", title=f"seed {run['seed']}")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Full {cfg['max_epochs']}-epoch runs: where early stopping would stop and which epoch it restores")
    files = [save(fig, out_dir / "val_loss.png",
                  "Validation loss (solid) and eval-mode training loss (dashed) of the full run per seed, with the "
                  "stop epoch (dotted line) and the restored best-validation-loss epoch (circle) for each patience. "
                  "A run stopped early with the same seed follows exactly this curve up to its stop epoch.")]

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    per = m["derived"]["patience"]
    full = m["variants"][VARIANT]["test_acc_full"]
    ax.axhspan(100 * full["ci95_low"], 100 * full["ci95_high"], color="0.85", label="full run, final epoch (95% CI)")
    ax.axhline(100 * full["mean"], color="0.4", lw=1.2)
    ax.axhline(100 * full["mean"] - cfg["max_acc_drop_pp"], color="C3", ls="--", lw=1,
               label=f"bar: full − {fmt(cfg['max_acc_drop_pp'])} pp")
    ax.axvline(100 * cfg["min_saved_frac"], color="C3", ls=":", lw=1,
               label=f"bar: {fmt(100 * cfg['min_saved_frac'])}% of epochs saved")
    for i, p in enumerate(all_p):
        s, a = per[str(p)]["epochs_saved_frac"], per[str(p)]["test_acc_restored"]
        ax.errorbar(100 * s["mean"], 100 * a["mean"],
                    xerr=[[100 * (s["mean"] - s["ci95_low"])], [100 * (s["ci95_high"] - s["mean"])]],
                    yerr=[[100 * (a["mean"] - a["ci95_low"])], [100 * (a["ci95_high"] - a["mean"])]],
                    fmt="o", color=f"C{i}", capsize=3,
                    label=f"patience {p}" + (" (default)" if p == cfg["default_patience"] else ""))
    ax.set(xlabel="epochs saved vs the full run (%)", ylabel="test accuracy (%)",
           title=f"Epochs saved vs restored test accuracy (mean, 95% CI, {len(m['seeds'])} seeds)")
    ax.legend(fontsize=7)
    files.append(save(fig, out_dir / "saved_vs_acc.png",
                      "Per patience: fraction of the epoch budget saved by stopping early against the test accuracy "
                      "of the restored best weights, mean with 95% Student-t intervals over seeds; the grey band "
                      "is the full run's final test accuracy, the red lines the bar."))
    return files
