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
from dlps.verdicts import all_of, check, difference, finding, not_run, shifted

PP = dict(scale=100, unit="pp")


def _relative_drop(runs: dict, a: str, b: str) -> np.ndarray:
    """Per seed, the share of ‖W‖ at λ = a that is gone at the next larger λ = b."""
    wa, wb = _col(runs, a, "weight_norm"), _col(runs, b, "weight_norm")
    return (wa - wb) / wa


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The weight norm shrinks with λ; the largest λ underfits; λ* beats λ = 0 on test; the old claim; and two
    checks of the design: λ = 0 overfits by the end of training, and λ* lies inside the grid."""
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
        _old_claim(cfg, runs, best, per_seed, alpha),
        _baseline_overfits(cfg, runs, base, alpha),
        _interior(cfg, best, per_seed)]


def _late_slope(curve: list, w: int) -> float:
    """Least-squares slope per epoch of the last w values of a per-epoch curve (robust to one noisy epoch)."""
    return float(np.polyfit(np.arange(w), np.asarray(curve[-w:], dtype=float), 1)[0])


def _baseline_overfits(cfg: dict, runs: dict, base: str, alpha: float) -> dict:
    """The precondition of any gain from L2: at λ = 0, over the last `late_epochs` epochs, the validation loss rises
    while the training loss still falls (per-seed least-squares slopes, eval mode, paired over seeds). Validation
    accuracy may lag the loss, so it is not required to fall."""
    w, rows = cfg["late_epochs"], runs[base]
    claim = f"Without the penalty (λ = {base}) the CNN overfits: over the last {w} epochs validation loss rises " \
            "while training loss falls"
    if any("val_loss_by_epoch" not in r or len(r["val_loss_by_epoch"]) < w for r in rows):
        return finding("baseline_overfits", claim, not_run("two one-sided t-tests: not run, the runs lack per-epoch "
                                                           "losses over the window", alpha),
                       "The runs were stored without per-epoch losses covering the window: inconclusive.", check=True)
    late = {k: np.array([_late_slope(r[f"{k}_by_epoch"], w) for r in rows]) for k in ("val_loss", "train_loss")}
    parts = {"validation loss rises": difference(late["val_loss"], expect="greater", alpha=alpha,
                                                 what=f"slope of validation loss over the last {w} epochs"),
             "training loss falls": difference(late["train_loss"], expect="less", alpha=alpha,
                                               what=f"slope of training loss over the last {w} epochs")}
    rec = all_of(parts, "validation loss rises and training loss falls over the window (intersection–union)",
                 effect_of="validation loss rises")
    return finding("baseline_overfits", claim, rec,
                   f"At λ = {base}, least-squares slope over the last {w} of {cfg['epochs']} epochs, over "
                   f"{rec['n']} seeds: validation loss {estimate(parts['validation loss rises'])} nats per epoch "
                   f"({parts['validation loss rises']['verdict']}), training loss "
                   f"{estimate(parts['training loss falls'])} nats per epoch "
                   f"({parts['training loss falls']['verdict']}).", compared={"baseline": float(base)},
                   shown="The unregularised model overfits by the end of training: there is something for L2 to "
                         "prevent.",
                   refuted="Late in training the unregularised model's validation loss is shown not to rise, or its "
                           "training loss not to fall: it is not shown overfitting, and a gain from L2 could not be "
                           "expected here, whatever its verdict.",
                   inconclusive="Overfitting of the unregularised model late in training is not shown: a missing "
                                "gain from L2 may be the design's, not the penalty's.", check=True)


def _interior(cfg: dict, best: str, per_seed: str) -> dict:
    """λ* strictly inside the λ grid: at an end, the validation optimum may lie beyond it (or between 0 and the
    smallest λ > 0), and λ* vs λ = 0 would measure the grid rather than the penalty."""
    order = ordered(cfg)
    edge = best in (order[0], order[-1])
    rec = check([float(edge)], tol=0, what="λ* at an end of the λ grid (1 = at an end)")
    return finding("best_lam_interior", f"λ* (chosen on validation) lies inside the λ grid, not at either end",
                   rec, f"λ* = {best} of {{{', '.join(order)}}} (each seed's own choice: {per_seed}).",
                   shown="It is inside: the grid brackets the validation optimum.",
                   refuted=f"It is at an end: the validation optimum may lie beyond it; widen l2.lam past "
                           f"{best}." if float(best) > 0 else "It is at λ = 0: the validation optimum may lie "
                           f"between 0 and {order[1]}; add smaller λ to l2.lam.", check=True)


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
