"""How the L2 experiment is judged: one-sided paired t-tests over seeds at α with a smallest effect of interest,
fixed in advance (docs/protocol.md); λ* is chosen on validation accuracy, the claimed λ is fixed in params."""

from __future__ import annotations

import numpy as np

from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.columns import col as _col
from dlps.experiments.l2.analysis import (  # noqa: F401 (analyze: re-exported)
    analyze, best_lam, best_per_seed)
from dlps.experiments.l2.spec import base as base_of, ordered
from dlps.fmt import fmt
from dlps.verdicts import all_of, difference, finding, shifted

PP = dict(scale=100, unit="pp")


def _relative_drop(runs: dict, a: str, b: str) -> np.ndarray:
    """Per seed, the share of ‖W‖ at λ = a that is gone at the next larger λ = b."""
    wa, wb = _col(runs, a, "weight_norm"), _col(runs, b, "weight_norm")
    return (wa - wb) / wa


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The weight norm shrinks with λ; the largest λ underfits; λ* beats λ = 0 on test; the old claim."""
    order, base = ordered(cfg), base_of(cfg)
    alpha, v = cfg["alpha"], m["variants"]
    best, largest, per_seed = best_lam(cfg, runs), order[-1], ", ".join(best_per_seed(cfg, runs))
    drop, delta = cfg["min_norm_drop"], cfg["min_gain"]
    parts = {f"{a} > {b}": difference(_relative_drop(runs, a, b) - drop, expect="greater", alpha=alpha,
                                      what=f"relative drop of ‖W‖ from λ = {a} to λ = {b} − {drop:g}")
             for a, b in zip(order, order[1:])}
    mono = shifted(all_of(parts, f"the final weight norm is at least {100 * drop:g}% lower at each larger λ"), drop)
    steps = "; ".join(f"λ {k.replace(' > ', ' → ')}: drop {estimate(p, scale=100, shift=drop, unit='%')}, "
                      f"{p['verdict']}" for k, p in parts.items())
    under = difference(_col(runs, largest, "train_acc"), _col(runs, base, "train_acc"), expect="less", alpha=alpha,
                       what=f"train accuracy, λ = {largest} − λ = {base}")
    beats = difference(_col(runs, best, "test_acc"), _col(runs, base, "test_acc"), expect="greater", alpha=alpha,
                       margin=delta, what=f"test accuracy, λ* = {best} − λ = {base}")
    roles = {"baseline": float(base), "chosen": float(best)}
    return [
        finding("weight_norm_decreases", f"The final weight norm falls by at least {100 * drop:g}% at every step of "
                                         "λ", mono,
                f"Final weight norm ‖W‖ (mean over {len(m['seeds'])} seeds): "
                + ", ".join(f"λ = {k}: {fmt(v[k]['weight_norm']['mean'])}" for k in order)
                + f". Relative drop at each step, paired by seed, against the smallest drop of interest, "
                  f"{100 * drop:g}%: {steps}.", primary=True, scale=100,
                unit="% (relative drop of ‖W‖ at the weakest step)", compared={"lams": [float(k) for k in order]},
                shown=f"It falls by more than {100 * drop:g}% at every step.",
                refuted=f"At some step it falls by significantly less than {100 * drop:g}% (or rises): a material "
                        "decrease at every step is refuted.",
                inconclusive=f"Not every step is shown to drop by more than {100 * drop:g}%: inconclusive."),
        finding("largest_underfits", f"The largest λ ({largest}) underfits: lower training accuracy than λ = {base}",
                under, f"Training accuracy (eval mode, whole training subset) with λ = {largest} minus λ = {base}, "
                       f"over {under['n']} seeds: {estimate(under, scale=100, unit=' pp')}.", **PP,
                compared={"baseline": float(base), "largest": float(largest)},
                shown="It fits the training data significantly worse: it underfits.",
                refuted="It fits the training data significantly better.",
                inconclusive=f"Lower training accuracy is not shown at α = {alpha}."),
        finding("beats_baseline", f"The λ chosen on validation (λ* = {best}) beats λ = {base} on test accuracy",
                beats, f"λ* = {best} has the highest mean validation accuracy (each seed's own choice: {per_seed}). "
                + (f"Its test accuracy minus that of λ = {base}, over {beats['n']} seeds: "
                   f"{estimate(beats, scale=100, unit=' pp')}; {fmt(100 * delta)} pp is the smallest gain of "
                   "interest." if best != base else
                   "That is the unregularised model: no λ > 0 improves validation accuracy."),
                primary=True, compared=roles, **PP, shown=f"L2 improves test accuracy significantly at α = {alpha}.",
                refuted=f"λ* is significantly worse than λ = {base} on test, or its gain is shown smaller than "
                        f"{fmt(100 * delta)} pp.",
                inconclusive=f"An improvement over λ = {base} is not shown at α = {alpha}."),
        _old_claim(cfg, runs, best, per_seed, alpha)]


def _old_claim(cfg: dict, runs: dict, best: str, per_seed: str, alpha: float) -> dict:
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
    vs = "; ".join(f"{k}: {fmt(100 * p['effect'])} pp ({p_clause(p, (p['decided_by'],))})" for k, p in parts.items())
    return finding("old_claim", f"The optimal λ is {claim}", rec,
                   f"Test accuracy of λ = {claim} minus each other λ, paired over seeds: {vs}. λ* on validation is "
                   f"{best} (each seed's own: {per_seed}).", **PP, compared={"claimed": float(claim)},
                   shown=f"λ = {claim} beats every other λ at α/{len(others)}: the claim holds in this setup. (One "
                         "setup: the best λ depends on data size, architecture, optimiser and training length.)",
                   refuted=f"λ = {', '.join(better)} is significantly better than λ = {claim}: the claim does not "
                           "hold in this setup. (One setup: the best λ depends on data size, architecture, "
                           "optimiser and training length.)",
                   inconclusive=f"λ = {claim} is not significantly better than every other λ, and no λ is "
                                "significantly better than it: the claim is inconclusive here. (One setup: the best "
                                "λ depends on data size, architecture, optimiser and training length.)")
