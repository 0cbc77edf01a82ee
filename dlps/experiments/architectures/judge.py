"""How the architectures experiment is judged (docs/protocol.md): the primary question by paired t-tests on log10
test MSE (the continuous metric behind success), gated cell minus RNN; exact tests on success rates beside it
(Clopper–Pearson, McNemar); ablations by paired tests with an equivalence margin, all fixed before the data are
seen."""

from __future__ import annotations

import math

import numpy as np

from dlps.data.tasks import ADDING_BASELINE_MSE
from dlps.experiments.architectures.analysis import analyze  # noqa: F401 (analyze: re-exported)
from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.architectures.spec import MODELS, SOLVED_ABS_ERR, lag_key, parent
from dlps.experiments.columns import col as _col
from dlps.fmt import fmt
from dlps.verdicts import all_of, ci_label, difference, finding, rate, rates_paired

MOST = 0.5  # "succeeds in most seeds": a success rate above one half
CLAIMED_RATE = 0.95  # the old claim's "95%+"
DESCRIPTION = {
    "rnn": "vanilla (Elman, tanh) RNN", "lstm": "LSTM", "gru": "GRU",
    "lstm_no_forget": "LSTM without forget gate (f = 1)", "lstm_no_input": "LSTM without input gate (i = 1)",
    "lstm_no_output": "LSTM without output gate (o = 1)",
    "lstm_forget_bias1": "LSTM with forget-gate bias 1 (vs 0)",
    "gru_no_reset": "GRU without reset gate (r = 1)", "gru_no_update": "GRU without update gate (z = 0, h = n)",
}


def _geo(x: np.ndarray) -> str:
    """Median test MSE over seeds (MSE is heavy-tailed: the mean says little)."""
    return fmt(float(np.median(x)))


def _rate_text(res: dict) -> str:
    return (f"{res['successes']}/{res['n']} [exact {ci_label(res)} CI {100 * res['ci_low']:.0f}%, "
            f"{100 * res['ci_high']:.0f}%]")


def _needs(res: dict) -> str:
    """What more seeds would do, when even a clean sweep could not clear the threshold."""
    return (f" With {res['n']} seeds not even {res['n']}/{res['n']} can clear {res['threshold']:g}: it needs at least "
            f"{res['n_needed']} seeds." if res["n"] < res["n_needed"] else "")


def mcnemar_seeds_needed(alpha: float) -> int:
    """The fewest discordant seeds with which the one-sided exact McNemar test can reach p < α (2^−m < α)."""
    return int(math.floor(math.log(alpha) / math.log(0.5))) + 1


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    L, alpha = m["derived"]["longest_lag"], cfg["alpha"]
    ok = {v: _col(runs, v, lag_key("success", L)) > 0 for v in runs}
    mse = {v: _col(runs, v, lag_key("test_mse", L)) for v in runs}
    n = len(m["seeds"])
    thr = cfg["success_mse"]
    where = (f"At lag {L} (success: test MSE < {fmt(thr)} at the best-validation checkpoint; always predicting 1 "
             f"scores {fmt(ADDING_BASELINE_MSE)})")
    out = [_gated_vs_rnn(cfg, L, runs, mse, n), _gated_vs_rnn_success(where, ok, mse, n, alpha)]
    for v in MODELS:
        expect = "below" if v == "rnn" else "above"
        res = rate(ok[v], threshold=MOST, alpha=alpha, expect=expect)
        verb = "fails in most seeds" if v == "rnn" else "succeeds in most seeds"
        out.append(finding(f"success_rate_{v}", f"At lag {L} the {DESCRIPTION[v]} {verb}", res,
                           f"{where}: the {DESCRIPTION[v]} succeeds in {_rate_text(res)} of seeds (median test MSE "
                           f"{_geo(mse[v])}); rule: the exact interval entirely {expect} {MOST:g}.",
                           scale=100, unit="%", shown="Shown.", refuted="The interval lies on the other side: refuted.",
                           inconclusive="The interval straddles one half: inconclusive." + _needs(res)))
    out += [_ablation(cfg, v, L, runs, ok, mse, n) for v in runs if v not in MODELS and parent(v) in runs]
    solved = {c: _col(runs, c, lag_key("solved_frac", L)) for c in ("lstm", "gru")}
    out.append(_old_claim(L, solved, cfg["n_test"], alpha))
    out.append(_old_claim_seed_success(where, ok, n, alpha))
    return out


def _gated_vs_rnn(cfg: dict, L: int, runs: dict, mse: dict, n: int) -> dict:
    """LSTM and GRU each reach a lower log10 test MSE than the RNN on the same seeds: one-sided paired t-tests,
    both required (intersection–union); refuted if either is significantly worse or shown within the margin."""
    alpha, margin, key = cfg["alpha"], cfg["margin_log10"], lag_key("log10_test_mse", L)
    parts = {f"{c.upper()} − RNN": difference(_col(runs, c, key), _col(runs, "rnn", key), expect="less", alpha=alpha,
                                              test="t", margin=margin, what=f"log10 test MSE, {c} − rnn")
             for c in ("lstm", "gru")}
    res = all_of(parts, "LSTM and GRU each have a lower log10 test MSE than the vanilla RNN, paired by seed")
    each = "; ".join(f"{k}: {estimate(p, unit=' decades')}; median test MSE {_geo(mse[k.split()[0].lower()])} vs "
                     f"{_geo(mse['rnn'])}" for k, p in parts.items())
    return finding("gated_vs_rnn", "LSTM and GRU learn the long lag where the vanilla RNN does not (lower test MSE)",
                   res, f"At lag {L}, log10 test MSE at the best-validation checkpoint, gated cell minus RNN, paired "
                        f"over {n} seeds at α = {alpha}, refuted if a TOST puts the difference within ±{margin:g} "
                        f"decades: {each}.", primary=True, unit="decades (log10 test MSE, gated − RNN)",
                   shown="Both gated cells reach a significantly lower test MSE than the RNN.",
                   refuted="A gated cell is significantly worse than the RNN, or shown within the margin of it: "
                           "refuted.", inconclusive="Not significant for both: inconclusive.")


def _gated_vs_rnn_success(where: str, ok: dict, mse: dict, n: int, alpha: float) -> dict:
    """LSTM and GRU each succeed on more seeds than the RNN, by the exact McNemar test (intersection-union)."""
    parts = {f"{c.upper()} vs RNN": rates_paired(ok[c], ok["rnn"], alpha=alpha, what=f"{c.upper()} vs RNN success")
             for c in ("lstm", "gru")}
    res = all_of(parts, "LSTM and GRU each succeed on significantly more seeds than the vanilla RNN")
    need = mcnemar_seeds_needed(alpha)
    rates = ", ".join(f"{DESCRIPTION[v]} {int(ok[v].sum())}/{n} (median test MSE {_geo(mse[v])})" for v in MODELS)
    tests = "; ".join(f"{k}: {p['discordant'][0]} seeds where only the gated cell succeeds, {p['discordant'][1]} "
                      f"where only the RNN does ({p_clause(p, (p['decided_by'],))})" for k, p in parts.items())
    few = max(sum(p["discordant"]) for p in parts.values()) < need
    return finding("gated_vs_rnn_success", "LSTM and GRU succeed on seeds where the vanilla RNN fails", res,
                   f"{where}, successes over {n} seeds: {rates}. Exact McNemar tests at α = {alpha}: {tests}.",
                   scale=100, unit="pp (success rate, gated − RNN)",
                   shown="Both gated cells succeed where the RNN fails, significantly.",
                   refuted="The RNN succeeds where a gated cell fails, significantly: refuted.",
                   inconclusive="Not significant for both: inconclusive."
                   + (f" The exact test needs at least {need} seeds where exactly one model succeeds to reach "
                      f"p < {alpha}; {n} seeds cannot give that." if few else ""))


def _ablation(cfg: dict, v: str, L: int, runs: dict, ok: dict, mse: dict, n: int) -> dict:
    """Does the ablation hurt? One-sided paired t-test of log10 test MSE (ablated − parent) > 0 at α; 'no effect'
    only if a paired TOST shows |difference| < margin_log10; otherwise inconclusive."""
    p, alpha, margin = parent(v), cfg["alpha"], cfg["margin_log10"]
    key = lag_key("log10_test_mse", L)
    res = difference(_col(runs, v, key), _col(runs, p, key), expect="greater", alpha=alpha, test="t", margin=margin,
                     what=f"log10 test MSE, {v} − {p}")
    no_effect = res["verdict"] == "refuted" and res["decided_by"] == "p_tost"
    res["effect_label"] = {"shown": "hurts", "refuted": "no effect" if no_effect else "helps"}.get(res["verdict"],
                                                                                                   "inconclusive")
    says = {"hurts": f"Removing it hurts: test MSE significantly higher at α = {alpha}.",
            "no effect": f"No effect: the difference is shown within ±{margin:g} decades (TOST at α = {alpha}).",
            "helps": f"It does not hurt: test MSE is significantly lower at α = {alpha}."}
    return finding(f"ablation_{v}", f"At lag {L}, the change '{DESCRIPTION[v]}' hurts the {p.upper()}", res,
                   f"{DESCRIPTION[v]} against the full {p.upper()} at lag {L}, over {n} seeds: log10 test MSE "
                   f"difference {estimate(res)}; median test MSE {_geo(mse[v])} vs {_geo(mse[p])}; successes "
                   f"{int(ok[v].sum())}/{n} vs {int(ok[p].sum())}/{n}.", unit="decades",
                   shown=says["hurts"], refuted=says["no effect" if no_effect else "helps"],
                   inconclusive=f"Neither a significant increase nor equivalence within ±{margin:g} decades: "
                                "inconclusive (not significant is not 'no effect').")


def _seed_rate(frac: float, n_test: int, alpha: float, m: int) -> dict:
    """One seed's solved sequences against CLAIMED_RATE by the exact interval: shown at α; refuted only at α / m
    (Bonferroni over the m seed-level tests, any one of which refutes the claim)."""
    k = int(round(frac * n_test))
    hits = np.r_[np.ones(k, bool), np.zeros(n_test - k, bool)]
    res = rate(hits, threshold=CLAIMED_RATE, alpha=alpha)
    if res["verdict"] == "refuted" and rate(hits, threshold=CLAIMED_RATE, alpha=alpha / m)["verdict"] != "refuted":
        res = res | {"verdict": "inconclusive", "decided_by": "p_expected"}
    return res


def _old_claim(L: int, solved: dict, n_test: int, alpha: float) -> dict:
    """"95%+ accuracy" in its source's terms (Hochreiter & Schmidhuber 1997): a sequence is processed correctly if
    |error| < SOLVED_ABS_ERR. Per seed of each gated cell, the exact Clopper–Pearson interval of its fraction of the
    n_test test sequences so solved; shown if every seed's interval lies above 95% (intersection–union at α),
    refuted if any seed's lies below 95% at α / (number of seed tests), otherwise inconclusive."""
    m = sum(len(x) for x in solved.values())
    parts = {f"{c.upper()} seed {i + 1}": _seed_rate(f, n_test, alpha, m) for c, x in solved.items()
             for i, f in enumerate(x)}
    res = all_of(parts, f"every seed's fraction of test sequences with |error| < {SOLVED_ABS_ERR:g} above "
                        f"{CLAIMED_RATE:g} by its exact interval")
    def count(c: str, v: str) -> int:
        return sum(p["verdict"] == v for k, p in parts.items() if k.startswith(c.upper() + " "))
    each = "; ".join(f"{c.upper()}: median {100 * float(np.median(x)):.1f}% of sequences solved (lowest seed "
                     f"{100 * float(np.min(x)):.1f}%), {count(c, 'shown')}/{len(x)} seeds shown above "
                     f"{100 * CLAIMED_RATE:g}%, {count(c, 'refuted')} shown below" for c, x in solved.items())
    return finding("old_claim", "Old claim: LSTM/GRU reach 95%+ accuracy on long-term dependency tasks", res,
                   f"Read in its source's terms (Hochreiter & Schmidhuber 1997): an adding-problem sequence is "
                   f"processed correctly when the absolute error of the prediction is below {SOLVED_ABS_ERR:g}; "
                   f"\"95%+ accuracy\" is at least {100 * CLAIMED_RATE:g}% of test sequences so processed, by every "
                   f"trained model. At lag {L}, over the {n_test} test sequences of each seed at its best-validation "
                   f"checkpoint: {each}. Rule: each seed's exact {100 * (1 - 2 * alpha):g}% Clopper–Pearson interval "
                   f"entirely above {CLAIMED_RATE:g} (all seeds of both cells: holds); any seed's entirely below at "
                   f"the Bonferroni-split α (does not hold).", scale=100, unit="% of test sequences",
                   shown="It holds in its source's reading.",
                   refuted="A trained model falls significantly short of 95% of sequences: it does not hold.",
                   inconclusive="Some seed's interval straddles 95%: inconclusive.")


def _old_claim_seed_success(where: str, ok: dict, n: int, alpha: float) -> dict:
    """"95%+" read as seeds: both gated cells' success rates above 0.95 by their exact Clopper–Pearson intervals
    (secondary; the source's own reading is old_claim)."""
    parts = {c.upper(): rate(ok[c], threshold=CLAIMED_RATE, alpha=alpha) for c in ("lstm", "gru")}
    res = all_of(parts, f"LSTM and GRU success rates each above {CLAIMED_RATE:g} by the exact interval")
    any_part = next(iter(parts.values()))
    return finding("old_claim_seed_success", "Old claim, read as seeds: LSTM/GRU succeed in 95%+ of training runs",
                   res, "Read as a success rate (test MSE below the threshold) "
                   f"of at least {100 * CLAIMED_RATE:g}% of seeds. {where}: "
                   + ", ".join(f"{k} {_rate_text(p)}" for k, p in parts.items())
                   + f"; rule: each exact {100 * (1 - 2 * alpha):g}% interval entirely above {CLAIMED_RATE:g}.",
                   scale=100, unit="% of seeds", shown="It holds in this reading.",
                   refuted="A rate lies significantly below 95%: it does not hold.",
                   inconclusive="The intervals reach below 95%: inconclusive." + _needs(any_part))
