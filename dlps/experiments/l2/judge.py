"""How the L2 experiment is judged: one-sided paired t-tests over seeds at α with a smallest effect of interest,
fixed in advance (docs/protocol.md); λ* is chosen on validation accuracy, the claimed λ is fixed in params."""

from __future__ import annotations

import numpy as np

from dlps.experiments.l2.spec import TEST_SCORED, base as base_of, ordered
from dlps.fmt import fmt, fmt_p
from dlps.verdicts import all_of, ci_label, difference, finding

PP = dict(scale=100, unit="pp")


def _col(runs: dict, variant: str, metric: str) -> np.ndarray:
    return np.array([r[metric] for r in runs[variant]], dtype=float)


def _mean(runs: dict, variant: str, metric: str) -> float:
    return float(np.mean(_col(runs, variant, metric)))


def _relative_drop(runs: dict, a: str, b: str) -> np.ndarray:
    """Per seed, the share of ‖W‖ at λ = a that is gone at the next larger λ = b."""
    wa, wb = _col(runs, a, "weight_norm"), _col(runs, b, "weight_norm")
    return (wa - wb) / wa


def best_lam(cfg: dict, runs: dict) -> str:
    """λ* = the highest mean validation accuracy (ties: the smaller λ)."""
    return max(ordered(cfg), key=lambda v: _mean(runs, v, "val_acc"))


def best_per_seed(cfg: dict, runs: dict) -> list[str]:
    """Each seed's own λ* (highest validation accuracy in that seed): how stable the choice is."""
    order = ordered(cfg)
    return [max(order, key=lambda v: runs[v][i]["val_acc"]) for i in range(len(runs[order[0]]))]


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """λ* on validation; paired t-tests on test accuracy (λ* vs 0, λ* vs neighbours), train accuracy (largest λ
    vs 0) and weight norm (each λ vs the next larger one)."""
    order, base = ordered(cfg), base_of(cfg)
    best = best_lam(cfg, runs)
    i = order.index(best)
    neighbours = [order[j] for j in (i - 1, i + 1) if 0 <= j < len(order)]
    comparisons = {f"test_acc_{best}_vs_{base}": paired(best, base, "test_acc", "t")}
    for nb in neighbours:
        comparisons[f"test_acc_{best}_vs_{nb}"] = paired(best, nb, "test_acc", "t")
    comparisons[f"train_acc_{order[-1]}_vs_{base}"] = paired(order[-1], base, "train_acc", "t")
    for a, b in zip(order, order[1:]):
        comparisons[f"weight_norm_{a}_vs_{b}"] = paired(a, b, "weight_norm", "t")
    derived = {"best_lam": best, "best_lam_per_seed": best_per_seed(cfg, runs), "neighbours": neighbours,
               "improvement_pp": 100 * (_mean(runs, best, "test_acc") - _mean(runs, base, "test_acc")),
               "val_acc_by_lam": {v: _mean(runs, v, "val_acc") for v in order}, "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The weight norm shrinks with λ; the largest λ underfits; λ* beats λ = 0 on test; the old claim."""
    order, base = ordered(cfg), base_of(cfg)
    alpha, v, d = cfg["alpha"], m["variants"], m["derived"]
    best, largest = d["best_lam"], order[-1]
    out = []

    drop = cfg["min_norm_drop"]
    parts = {f"{a} > {b}": difference(_relative_drop(runs, a, b) - drop, expect="greater", alpha=alpha,
                                      what=f"relative drop of ‖W‖ from λ = {a} to λ = {b} − {drop:g}")
             for a, b in zip(order, order[1:])}
    mono = all_of(parts, f"the final weight norm is at least {100 * drop:g}% lower at each larger λ")
    mono |= {k: mono[k] + drop for k in ("effect", "ci95_low", "ci95_high")}  # read as the drop itself
    steps = "; ".join(f"λ {k.replace(' > ', ' → ')}: drop {fmt(100 * (p['effect'] + drop))}% [{ci_label(p)} CI "
                      f"{fmt(100 * (p['ci95_low'] + drop))}, {fmt(100 * (p['ci95_high'] + drop))}] "
                      f"({fmt_p(p['p_value'])}, {p['verdict']})" for k, p in parts.items())
    out.append(finding("weight_norm_decreases", f"The final weight norm falls by at least {100 * drop:g}% at every "
                                                "step of λ", mono, (
        f"Final weight norm ‖W‖ (mean over {len(m['seeds'])} seeds): "
        + ", ".join(f"λ = {k}: {fmt(v[k]['weight_norm']['mean'])}" for k in order)
        + f". Relative drop at each step, paired by seed, against the smallest drop of interest, {100 * drop:g}% "
          f"(one-sided one-sample t-tests at α = {alpha}): {steps}. "
        + {"shown": f"It falls by more than {100 * drop:g}% at every step.",
           "refuted": f"At some step it falls by significantly less than {100 * drop:g}% (or rises): a material "
                      "decrease at every step is refuted.",
           "inconclusive": f"Not every step is shown to drop by more than {100 * drop:g}%: inconclusive."}[
            mono["verdict"]]), primary=True, scale=100, unit="% (relative drop of ‖W‖ at the weakest step)"))

    under = difference(_col(runs, largest, "train_acc"), _col(runs, base, "train_acc"), expect="less", alpha=alpha,
                       what=f"train accuracy, λ = {largest} − λ = {base}")
    out.append(finding("largest_underfits", f"The largest λ ({largest}) underfits: lower training accuracy than "
                                            f"λ = {base}", under, (
        f"Training accuracy (eval mode, whole training subset) with λ = {largest} minus λ = {base}: "
        f"{fmt(100 * under['effect'])} pp [{ci_label(under)} CI {fmt(100 * under['ci95_low'])}, {fmt(100 * under['ci95_high'])}] "
        f"({fmt_p(under['p_value'])}, one-sided paired t-test over {under['n']} seeds). "
        + {"shown": "It fits the training data significantly worse: it underfits.",
           "refuted": "It fits the training data significantly better.",
           "inconclusive": f"Lower training accuracy is not shown at α = {alpha}."}[under["verdict"]]), **PP))

    delta = cfg["min_gain"]
    beats = difference(_col(runs, best, "test_acc"), _col(runs, base, "test_acc"), expect="greater", alpha=alpha,
                       margin=delta, what=f"test accuracy, λ* = {best} − λ = {base}")
    per_seed = ", ".join(d["best_lam_per_seed"])
    out.append(finding("beats_baseline", f"The λ chosen on validation (λ* = {best}) beats λ = {base} on test "
                                         "accuracy", beats, (
        f"λ* = {best} has the highest mean validation accuracy (each seed's own choice: {per_seed}). "
        + (f"Its test accuracy minus that of λ = {base}: {fmt(100 * beats['effect'])} pp [{ci_label(beats)} CI "
           f"{fmt(100 * beats['ci95_low'])}, {fmt(100 * beats['ci95_high'])}] ({fmt_p(beats['p_value'])}, "
           f"one-sided paired t-test over {beats['n']} seeds; TOST against ±{fmt(100 * delta)} pp, the smallest gain "
           f"of interest, {fmt_p(beats['tost_p_value'])}). " if best != base else
           "That is the unregularised model: no λ > 0 improves validation accuracy. ")
        + {"shown": f"L2 improves test accuracy significantly at α = {alpha}.",
           "refuted": f"λ* is significantly worse than λ = {base} on test, or its gain is shown smaller than "
                      f"{fmt(100 * delta)} pp.",
           "inconclusive": f"An improvement over λ = {base} is not shown at α = {alpha}."}[beats["verdict"]]),
        primary=True, **PP))
    out.append(_old_claim(cfg, runs, d, alpha))
    return out


def _old_claim(cfg: dict, runs: dict, d: dict, alpha: float) -> dict:
    """"The optimal λ is 0.001": shown only if it beats every other λ on test accuracy, refuted only if some
    other λ is significantly better than it; a tie is inconclusive. Bonferroni over the other λ values."""
    claim = str(cfg["claim_lam"])
    others = [k for k in ordered(cfg) if k != claim]
    a = alpha / len(others)
    parts = {f"vs {k}": difference(_col(runs, claim, "test_acc"), _col(runs, k, "test_acc"), expect="greater",
                                   alpha=a, what=f"test accuracy, λ = {claim} − λ = {k}") for k in others}
    rec = all_of(parts, f"λ = {claim} has higher test accuracy than every other λ (one-sided paired t-tests at "
                        f"α/{len(others)} = {a:g} each, Bonferroni); refuted if any other λ is significantly better")
    better = [k[3:] for k, p in parts.items() if p["verdict"] == "refuted"]
    vs = "; ".join(f"{k}: {fmt(100 * p['effect'])} pp ({fmt_p(p['p_value'])})" for k, p in parts.items())
    return finding("old_claim", f"The optimal λ is {claim}", rec, (
        f"Test accuracy of λ = {claim} minus each other λ, paired over seeds: {vs}. λ* on validation is "
        f"{d['best_lam']} (each seed's own: {', '.join(d['best_lam_per_seed'])}). "
        + {"shown": f"λ = {claim} beats every other λ at α/{len(others)}: the claim holds in this setup.",
           "refuted": f"λ = {', '.join(better)} is significantly better than λ = {claim}: the claim does not hold "
                      "in this setup.",
           "inconclusive": f"λ = {claim} is not significantly better than every other λ, and no λ is significantly "
                           "better than it: the claim is inconclusive here."}[rec["verdict"]]
        + " (One setup: the best λ depends on data size, architecture, optimiser and training length.)"), **PP)
