"""How the vanishing-gradients experiment is judged (docs/protocol.md): one-sided tests against the bars, a TOST
on the relative error of the decay-rate relation, and sign tests on paired log10 gradient ratios for the trained
cells, compared at a matched training state (all rules fixed before the data are seen)."""

from __future__ import annotations

import math

import numpy as np

from dlps.data.tasks import ADDING_BASELINE_MSE
from dlps.experiments.columns import col as _col
from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.vanishing_gradients.analysis import analyze  # noqa: F401 (analyze: re-exported)
from dlps.experiments.vanishing_gradients.spec import key
from dlps.fmt import fmt
from dlps.verdicts import all_of, difference, equivalence, finding, not_run

VANISHED_LOG10 = 4.0  # the bar: "vanished" means at least 10^4 times smaller


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The decay-rate relation (old claim) and the matched trained comparison answer the question."""
    return [_vanishing(cfg, runs), _rate(cfg, runs), _saturation(cfg, runs), _gated_at_init(cfg, runs),
            _trained(cfg, m, runs, "lstm", "matched"), _trained(cfg, m, runs, "gru", "matched"),
            _trained(cfg, m, runs, "lstm", "trained")]


def _sweep(cfg: dict, runs: dict, rho: float, length: int, field: str) -> np.ndarray:
    """Per-seed values of one field of the vanilla RNN at ρ and a length."""
    return _col(runs, "rnn", f"{key('rnn', rho, length)}_{field}")


def _not_measured(fid: str, claim: str, what: str, alpha: float) -> dict:
    """A finding whose ρ range params left out: inconclusive, with an empty record."""
    return finding(fid, claim, not_run(f"not measured: no {what} in vanishing_gradients.rhos", alpha),
                   f"No {what} is in vanishing_gradients.rhos: inconclusive (not measured).")


def _vanishing(cfg: dict, runs: dict) -> dict:
    """Each ρ ≤ 0.9: log10 ratio over train_length steps below −4, a one-sided one-sample t-test per ρ."""
    n, alpha, small = cfg["train_length"], cfg["alpha"], [r for r in cfg["rhos"] if r <= 0.9]
    claim = f"At init a vanilla RNN with ρ ≤ 0.9 loses over 10^{VANISHED_LOG10:g} of its gradient within {n} steps"
    if not small:
        return _not_measured("vanishing", claim, "ρ ≤ 0.9", alpha)
    parts = {f"ρ = {r:g}": difference(_sweep(cfg, runs, r, n, "log10_ratio") + VANISHED_LOG10, expect="less",
                                      alpha=alpha, what=f"log10 ratio + {VANISHED_LOG10:g} at ρ = {r:g}")
             for r in small}
    res = all_of(parts, f"log10 ‖∂L/∂h_(T−{n})‖/‖∂L/∂h_T‖ < −{VANISHED_LOG10:g} at every ρ ≤ 0.9")
    text = "; ".join(f"{k}: {estimate(p, shift=-VANISHED_LOG10)}" for k, p in parts.items())
    return finding("vanishing", claim, res,
                   f"Vanilla tanh RNN at init, mean log10 ‖∂L/∂h_(T−{n})‖/‖∂L/∂h_T‖ over {res['n']} seeds, T = {n}: "
                   f"{text} (each tested against −{VANISHED_LOG10:g} at α = {alpha}).",
                   shown=f"At every ρ ≤ 0.9 the gradient {n} steps back is significantly over 10^{VANISHED_LOG10:g}× "
                         "smaller than at the last step.",
                   refuted=f"At some ρ ≤ 0.9 the loss is significantly less than 10^{VANISHED_LOG10:g}: refuted.",
                   inconclusive=f"Not significant at every ρ ≤ 0.9: vanishing by 10^{VANISHED_LOG10:g} is not shown.")


def relative_gap(slope: np.ndarray, predicted: np.ndarray, rho: float) -> np.ndarray:
    """Per seed, (fitted − predicted rate) / (|ln ρ| + |ln RMS tanh′|): the formula's error as a share of the two
    terms it adds, a scale on which a margin binds at every ρ (an absolute one is larger than the rates near ρ = 1)."""
    ln_rho = math.log(rho)
    return (slope - predicted) / (abs(ln_rho) + np.abs(predicted - ln_rho))


def _rate(cfg: dict, runs: dict) -> dict:
    """The fitted rate equals ln ρ + ln RMS tanh′ within rate_rel_margin of its terms: a TOST per (ρ, length)."""
    alpha, tol = cfg["alpha"], cfg["rate_rel_margin"]
    parts = {f"ρ = {r:g}, T = {n}": equivalence(relative_gap(_sweep(cfg, runs, r, n, "slope"),
                                                             _sweep(cfg, runs, r, n, "predicted_rate"), r),
                                                margin=tol, alpha=alpha,
                                                what=f"relative gap of the rate from ln ρ + ln RMS tanh′ at ρ = {r:g}, "
                                                     f"T = {n}")
             for r in cfg["rhos"] for n in cfg["lengths"]}
    res = all_of(parts, f"the per-step rate is within ±{tol:g} (relative to |ln ρ| + |ln RMS tanh′|) of "
                        "ln ρ + ln RMS tanh′ at every ρ and length")
    worst = res["effect_part"]
    L = cfg["train_length"]
    at = "; ".join(f"ρ = {r:g}: measured {fmt(float(_sweep(cfg, runs, r, L, 'slope').mean()))} per step, ln ρ = "
                   f"{fmt(math.log(r))}, ln ρ + ln RMS tanh′ = "
                   f"{fmt(float(_sweep(cfg, runs, r, L, 'predicted_rate').mean()))}" for r in cfg["rhos"])
    below = ", ".join(f"{r:g}" for r in cfg["rhos"] if _sweep(cfg, runs, r, L, "slope").mean() <= math.log(r))
    count = {v: sum(p["verdict"] == v for p in parts.values()) for v in ("shown", "refuted")}
    return finding("old_claim", "The per-step rate of gradient decay is ln ρ, lowered by the tanh derivative "
                                "(exponential decay at a constant rate)", res,
                   f"Least-squares slope of ln‖∂L/∂h_t‖ against distance from the loss (mean over {res['n']} seeds), "
                   f"T = {L}: {at}. The rate is at or below ln ρ for ρ = {below or 'none'}: each step back multiplies "
                   f"by ρ and by tanh′ ≤ 1. Equivalence to ln ρ + ln RMS tanh′ within ±{100 * tol:g}% of |ln ρ| + "
                   f"|ln RMS tanh′|, TOST at α = {alpha} at each of {len(parts)} (ρ, length) points ({count['shown']} "
                   f"shown, {count['refuted']} refuted); the weakest, {worst}: relative gap "
                   f"{estimate(parts[worst])}.", primary=True,
                   shown="Every point is shown equivalent: the gradient decays exponentially at the tanh-corrected "
                         "rate.",
                   refuted="At some point the gap is significantly beyond the margin: the corrected relation is "
                           "refuted.",
                   inconclusive="Not every point is shown within the margin: the corrected relation is inconclusive "
                                "(not refuted).")


def _saturation(cfg: dict, runs: dict) -> dict:
    """ρ > 1: early rate > 0 and whole-sequence rate < ln ρ / 2 at the longest length, one-sided t-tests."""
    alpha, big, longest = cfg["alpha"], [r for r in cfg["rhos"] if r > 1.0], max(cfg["lengths"])
    claim = "For ρ > 1 the gradient grows backwards only until tanh saturates"
    if not big:
        return _not_measured("saturation", claim, "ρ > 1", alpha)
    parts = {}
    for r in big:
        parts[f"early rate at ρ = {r:g}"] = difference(_sweep(cfg, runs, r, longest, "early_rate"), expect="greater",
                                                       alpha=alpha, what=f"early rate at ρ = {r:g}")
        parts[f"rate − ln ρ/2 at ρ = {r:g}"] = difference(_sweep(cfg, runs, r, longest, "slope") - math.log(r) / 2,
                                                          expect="less", alpha=alpha,
                                                          what=f"rate − ln ρ/2 at ρ = {r:g}")
    res = all_of(parts, "for every ρ > 1: growth over the first steps, and a whole-sequence rate below ln ρ / 2")
    text = "; ".join(f"ρ = {r:g} (ln ρ = {fmt(math.log(r))}): "
                     f"{fmt(float(_sweep(cfg, runs, r, longest, 'early_rate').mean()))} "
                     f"per step over the first {cfg['early_steps']} steps, "
                     f"{fmt(float(_sweep(cfg, runs, r, longest, 'slope').mean()))} over all {longest}" for r in big)
    return finding("saturation", claim, res,
                   f"{text} (means over {res['n']} seeds; one-sided one-sample t-tests at α = {alpha}, the weakest: "
                   f"{p_clause(res)}).",
                   shown="The gradient grows while the states are small, and saturation holds the rate below half of "
                         "ln ρ: saturation caps the explosion.",
                   refuted="Some part goes significantly the other way: refuted.",
                   inconclusive="Not every part is significant: inconclusive.")


def _gated_at_init(cfg: dict, runs: dict) -> dict:
    """LSTM and GRU at torch's default init lose 10^4 over train_length steps too (one-sided t-tests)."""
    n, alpha = cfg["train_length"], cfg["alpha"]
    parts = {c.upper(): difference(_col(runs, c, f"{key(c, None, n)}_log10_ratio") + VANISHED_LOG10, expect="less",
                                   alpha=alpha, what=f"{c.upper()} log10 ratio + {VANISHED_LOG10:g}")
             for c in ("lstm", "gru")}
    res = all_of(parts, f"LSTM and GRU log10 ratios over {n} steps < −{VANISHED_LOG10:g} at init")
    gate = float(_col(runs, "lstm", f"{key('lstm', None, n)}_gate_path").mean())
    rnn = float(_sweep(cfg, runs, cfg["train_rho"], n, "log10_ratio").mean())
    text = "; ".join(f"{k} {estimate(p, shift=-VANISHED_LOG10)}" for k, p in parts.items())
    return finding("gated_at_init", f"At init LSTM and GRU gradients also vanish over {n} steps", res,
                   f"With torch's default init, mean log10 ‖∂L/∂h_(T−{n})‖/‖∂L/∂h_T‖: {text}; vanilla RNN at "
                   f"ρ = {cfg['train_rho']:g}: {fmt(rnn)} (each tested against −{VANISHED_LOG10:g} at α = {alpha}). "
                   f"The most persistent LSTM unit keeps 10^{fmt(gate)} of its cell content over the {n} steps.",
                   shown="Both lose significantly over 10^4: gates alone do not keep the path open at init.",
                   refuted="One of them keeps significantly more: refuted.",
                   inconclusive="Not significant for both: inconclusive.")


def wilcoxon_seeds_needed(alpha: float) -> int:
    """The fewest pairs whose one-sided exact sign (or Wilcoxon) test can reach p < α: 2^−n < α."""
    return int(math.floor(math.log(alpha) / math.log(0.5))) + 1


def _trained(cfg: dict, m: dict, runs: dict, cell: str, phase: str) -> dict:
    """After training, is the gated cell's log10 gradient ratio over the whole sequence higher than the RNN's? A
    one-sided exact sign test on the paired log10 ratios (its median interval is the same test inverted). phase
    "matched": at matched_length, over the seeds where both models reached target_mse (a matched training state);
    "trained": at train_length, where the vanilla RNN does not learn (not matched: reported, never primary)."""
    alpha, v, matched, C = cfg["alpha"], m["variants"], phase == "matched", cell.upper()
    length = cfg["matched_length"] if matched else cfg["train_length"]
    gated, rnn = _col(runs, cell, f"{phase}_log10_ratio"), _col(runs, "rnn", f"{phase}_log10_ratio")
    solved = {c: _col(runs, c, f"{phase}_solved") > 0 for c in (cell, "rnn")}
    both, seeds = solved[cell] & solved["rnn"], len(gated)
    use = both if matched and both.any() else np.ones(seeds, dtype=bool)
    what = f"{C} − RNN log10 gradient ratio over {length} steps"
    res = difference(gated[use], rnn[use], expect="greater", alpha=alpha, test="sign", what=what)
    if matched and not both.any():  # no matched pair: the rule cannot apply
        res |= {"verdict": "inconclusive", "n": 0}
    res["rule"] += (f"; over the seeds where both reached validation MSE < {fmt(cfg['target_mse'])} (matched), "
                    "inconclusive if none" if matched else "")
    res["matched_seeds"], need = int(both.sum()), wilcoxon_seeds_needed(alpha)
    text = (f"Both trained at T = {length} from the same init until the validation MSE fell below "
            f"{fmt(cfg['target_mse'])} or {cfg['max_steps']} steps: the {C} reached it in {int(solved[cell].sum())} of "
            f"{seeds} seeds, the RNN in {int(solved['rnn'].sum())}, both in {int(both.sum())}"
            + (" (the pairs compared: a matched training state)" if matched else "")
            + f"; probe MSE {C} {fmt(v[cell][f'{phase}_mse']['median'])}, RNN "
              f"{fmt(v['rnn'][f'{phase}_mse']['median'])} (medians; predicting the mean scores "
              f"{fmt(ADDING_BASELINE_MSE)}). {what}, median {estimate(res, unit=' decades')} over {res['n']} seeds at "
              f"α = {alpha}; median log10 ratio {C} {fmt(float(np.median(gated)))}, RNN {fmt(float(np.median(rnn)))}; "
              f"the {C}'s most persistent unit keeps 10^{fmt(m['derived'][f'{cell}_{phase}_gate_path']['median'])} of "
              "its content over the sequence (median).")
    if not matched:
        text += (f" NOT MATCHED: the vanilla RNN reached the target in {int(solved['rnn'].sum())} of {seeds} seeds, so "
                 "this compares a model that solved the task with one that did not, and says little about the cells "
                 f"themselves; the matched comparison is at T = {cfg['matched_length']}.")
    elif not both.all():
        text += (f" Only {int(both.sum())} of {seeds} seeds are matched (the others are left out, not compared "
                 "unmatched).")
    few = (f" With {res['n']} pairs the exact test cannot reach p < {alpha}: it needs at least {need}"
           f"{' matched' if matched else ''} seeds." if res["n"] < need else "")
    other = (" (the median difference points the other way: the RNN's path is the more open)"
             if res["effect"] is not None and res["effect"] < 0 else "")
    claim = (f"After training {'to the same target ' if matched else ''}at T = {length}, the {C}'s gradient {length} "
             "steps back is larger than the vanilla RNN's" + ("" if matched else " (not a matched comparison)"))
    return finding(f"{phase}_{cell}_vs_rnn", claim, res, text, primary=matched and cell == "lstm", unit="decades",
                   shown=f"The trained {C} keeps a significantly more open gradient path than the RNN.",
                   refuted=f"The RNN's path is significantly more open than the {C}'s: refuted.",
                   inconclusive=f"Not significant{other}: inconclusive.{few}")
