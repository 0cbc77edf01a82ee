"""How the numpy_rnn experiment is judged, by rules fixed before the data are seen: the RNN's test loss by
one-sample t-tests over seeds against constants (the bar, and the bigram's loss, which is the same in every seed),
and agreement with PyTorch by a deterministic check. Throughput is wall-clock and is judged by nothing."""

from __future__ import annotations

import numpy as np

from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.columns import values as _col
from dlps.experiments.numpy_rnn.analysis import analyze  # noqa: F401 (analyze: re-exported)
from dlps.experiments.numpy_rnn.spec import LN2, VARIANT
from dlps.fmt import fmt
from dlps.verdicts import check, difference, finding


def _seeds_note(n: int) -> str:
    return ("the interval covers the variation over seeds (initial weights, batch order) on one fixed test text, "
            "not the sampling of the text" if n > 1 else "one seed: no test")


def _bar(cfg: dict, rows: list[dict], d: dict) -> dict:
    alpha, bar = cfg["alpha"], cfg["bar"]
    res = difference(_col(rows, "rnn_over_bigram") - bar, expect="less", alpha=alpha,
                     what=f"RNN / bigram test loss − {fmt(bar)}")
    text = (f"On the test part, the RNN's loss is {estimate(res, shift=bar, unit=' × the bigram')}, against the "
            f"constant {fmt(bar)}, over {res['n']} seed(s) ({fmt(float(np.mean(_col(rows, 'rnn_test_nats'))))} "
            f"against {fmt(d['bigram_test_nats'])} nats/char; the bar {fmt(bar)} × bigram is "
            f"{fmt(d['bar_test_nats'])}); {_seeds_note(res['n'])}.")
    return finding("beats_bar", f"The RNN's test loss is below {fmt(bar)} × the bigram's", res, text, primary=True,
                   shown="Below the bar: met.", refuted="Significantly above the bar: not met.",
                   inconclusive="Not shown below the bar.")


def _bigram(cfg: dict, rows: list[dict], d: dict) -> dict:
    alpha = cfg["alpha"]
    res = difference(_col(rows, "rnn_test_nats") - d["bigram_test_nats"], expect="less", alpha=alpha,
                     what="RNN − bigram test loss (nats/char)")
    text = (f"RNN {fmt(float(np.mean(_col(rows, 'rnn_test_bits'))))} bits/char on the test part against bigram "
            f"{fmt(d['bigram_test_nats'] / LN2)} and unigram {fmt(d['unigram_test_nats'] / LN2)}: "
            f"{fmt(-res['effect'] / LN2)} bits/char fewer than the bigram "
            f"[{fmt(-res['ci_high'] / LN2)}, {fmt(-res['ci_low'] / LN2)}]. The bigram is fitted once on the "
            "training part and is the same in every seed, so the test is of the RNN's loss against that constant "
            f"(not a paired test): {p_clause(res)}; {_seeds_note(res['n'])}.")
    return finding("beats_bigram", "The RNN predicts the test text better than the bigram model", res, text,
                   scale=1 / LN2, unit="bits/char", shown=f"Significantly lower at α = {alpha}.",
                   refuted=f"Significantly higher at α = {alpha}: the RNN is worse than the bigram.",
                   inconclusive=f"Not shown to be lower at α = {alpha}.")


def _pytorch(cfg: dict, rows: list[dict], d: dict) -> dict:
    tol = cfg["agree_tol"]
    res = check(_col(rows, "twin_max_abs_dloss_f64"), tol=tol,
                what="max over the replayed steps of |float64 training loss NumPy − PyTorch| (nats/char)")
    worst = d["twin_max_abs_dloss_f64_worst_seed"]
    agree = res["verdict"] == "shown"
    text = (f"From the same initial weights on the same {cfg['torch_steps']} batches, the float64 training losses of "
            f"the NumPy model and the PyTorch twin (nn.RNN, torch.optim.Adam, clip_grad_norm_) differ by at most "
            f"{fmt(worst)} nats/char (worst of {res['n']} seed(s); tolerance {fmt(tol)}; a deterministic check, no "
            "sampling involved): " + ("they agree. " if agree else "they do not agree within the tolerance. ")
            + f"In float32, the precision the RNN is trained in, the gap reaches "
              f"{fmt(d['twin_max_abs_dloss_f32_worst_seed'])} nats/char, against "
              f"{fmt(d['numpy_f32_vs_f64_max_abs_dloss_worst_seed'])} between the NumPy model's own float32 and "
              "float64 runs" + ("; with the float64 runs in agreement, that float32 gap is rounding error, which a "
                                "gradient spike in BPTT can amplify." if agree else ".")
            + " Throughput is wall-clock and recorded apart (metrics/timing/runs/); it decides nothing here.")
    return finding("matches_pytorch", "The NumPy RNN trains as PyTorch's nn.RNN does", res, text, check=True)


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The bar answers the question; agreement with PyTorch is a code check (outside the Holm family); beating the
    bigram at all qualifies the bar."""
    rows, d = runs[VARIANT], m["derived"]
    return [_bar(cfg, rows, d), _bigram(cfg, rows, d), _pytorch(cfg, rows, d)]
