"""The one number per experiment that the report's summary quotes, with its 95% CI, read from metrics."""

from __future__ import annotations

from dlps.report_text import fmt, fmt_p


def _diff(c: dict, scale: float = 1.0, unit: str = "") -> str:
    return (f"{fmt(scale * c['mean_diff'])}{unit} [95% CI {fmt(scale * c['diff_ci95_low'])}, "
            f"{fmt(scale * c['diff_ci95_high'])}], {fmt_p(c['p_value'])}")


def _mean(s: dict, scale: float = 1.0, unit: str = "") -> str:
    if s["n"] == 1:
        return f"{fmt(scale * s['mean'])}{unit} (one seed, no CI)"
    return f"{fmt(scale * s['mean'])}{unit} [95% CI {fmt(scale * s['ci95_low'])}, {fmt(scale * s['ci95_high'])}]"


def overfitting(cfg: dict, m: dict) -> str:
    degrees = sorted(cfg["degrees"])
    low, high, mid = degrees[0], degrees[-1], degrees[1]
    return (f"test MSE, degree {high} minus degree {mid}: {_diff(m['comparisons'][f'test_mse_{high}_vs_{mid}'])}; "
            f"degree {low} minus degree {mid}: {_diff(m['comparisons'][f'test_mse_{low}_vs_{mid}'])}")


def dropout(cfg: dict, m: dict) -> str:
    best, base = m["derived"]["best_p"], next(str(p) for p in cfg["p"] if p == 0)
    return f"test accuracy, p = {best} minus p = 0: {_diff(m['comparisons'][f'test_acc_{best}_vs_{base}'], 100, ' pp')}"


def l2(cfg: dict, m: dict) -> str:
    best = m["derived"]["best_lam"]
    return f"λ* = {best} (on validation): test accuracy {_mean(m['variants'][best]['test_acc'], 100, '%')}"


def early_stopping(cfg: dict, m: dict) -> str:
    v = m["variants"]["all"]
    return (f"patience {cfg['default_patience']}: epochs saved {_mean(v['epochs_saved_frac'], 100, '%')}, "
            f"restored minus full-run test accuracy {_mean(v['acc_change_pp'], 1, ' pp')}")


def bias_variance(cfg: dict, m: dict) -> str:
    v = m["variants"]["all"]
    return (f"lowest expected test MSE {_mean(v['min_total'])} at degree {fmt(v['argmin_degree']['mean'])}; "
            f"double-descent peak at p = {fmt(v['dd_peak_p']['mean'])} (n_train = {cfg['dd_n_train']})")


def numpy_rnn(cfg: dict, m: dict) -> str:
    v = m["variants"]["rnn"]
    return f"validation loss {_mean(v['rnn_val_nats'])} nats/char vs bigram {fmt(v['bigram_val_nats']['mean'])}"


def vanishing_gradients(cfg: dict, m: dict) -> str:
    n = cfg["train_length"]
    lstm, rnn = m["variants"]["lstm"], m["variants"]["rnn"]
    return (f"log10 of the gradient ratio {n} steps back, after training: LSTM {_mean(lstm['trained_log10_ratio'])}, "
            f"RNN {_mean(rnn['trained_log10_ratio'])}")


def architectures(cfg: dict, m: dict) -> str:
    lag = max(cfg["lags"])
    rate = {k: m["variants"][k]["success"]["mean"] for k in ("rnn", "lstm", "gru")}
    return (f"success rate at lag {lag}: RNN {fmt(100 * rate['rnn'])}%, LSTM {fmt(100 * rate['lstm'])}%, "
            f"GRU {fmt(100 * rate['gru'])}% of {len(m['seeds'])} seeds")


def sentiment(cfg: dict, m: dict) -> str:
    v = m["variants"]
    parts = [f"{k} {_mean(v[k]['test_acc'], 100, '%')}" for k in cfg["models"]]
    return "test accuracy: " + "; ".join(parts)


def headline(name: str, cfg: dict, m: dict) -> str:
    """The summary's number for experiment `name`, or why there is none (e.g. a key renamed by new params)."""
    try:
        return globals()[name](cfg, m)
    except (KeyError, StopIteration, IndexError) as e:
        return f"n/a (this run's metrics have no {e})"
