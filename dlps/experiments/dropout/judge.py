"""How the dropout experiment is judged: the rate chosen on validation against p = 0, paired by seed, by rules
fixed in advance (one-sided paired t-tests at α; the old claim by its 95% interval against the claimed range)."""

from __future__ import annotations

import numpy as np

from dlps.experiments.dropout.spec import CLAIM_RANGE, TEST_SCORED, rates
from dlps.report_text import fmt, fmt_p
from dlps.verdicts import CLAIM_OF, all_of, difference, finding, within

PP = dict(scale=100, unit="pp")


def _relative_error_reduction(acc1: np.ndarray, acc0: np.ndarray) -> np.ndarray:
    """Per seed, the share of the baseline's test errors that dropout removes (0 where the baseline made none)."""
    err0 = 1 - acc0
    return np.divide(acc1 - acc0, err0, out=np.zeros_like(err0), where=err0 > 0)


def _pct(x: float | None) -> str:
    return fmt(None if x is None else 100 * x)


def _col(runs: dict, variant: str, metric: str) -> np.ndarray:
    return np.array([r[metric] for r in runs[variant]], dtype=float)


def best_rate(cfg: dict, runs: dict) -> str:
    """The p > 0 with the highest mean validation accuracy (ties: the first listed)."""
    _, ps = rates(cfg)
    return max(ps, key=lambda v: float(np.mean(_col(runs, v, "val_acc"))))


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Pick the best p > 0 on validation accuracy; paired t-tests of every rate against p = 0 (test accuracy and
    the loss gap)."""
    base, ps = rates(cfg)
    best = best_rate(cfg, runs)
    comparisons = {}
    for v in ps:
        comparisons[f"test_acc_{v}_vs_{base}"] = paired(v, base, "test_acc", "t")
        comparisons[f"loss_gap_{base}_vs_{v}"] = paired(base, v, "loss_gap", "t")
    acc0, acc1 = (float(np.mean(_col(runs, v, "test_acc"))) for v in (base, best))
    gap0, gap1 = (float(np.mean(_col(runs, v, "loss_gap"))) for v in (base, best))
    derived = {"best_p": best, "improvement_pp": 100 * (acc1 - acc0),
               "relative_error_reduction": (acc1 - acc0) / (1 - acc0) if acc0 < 1 else 0.0,
               "loss_gap_reduction": gap0 - gap1, "test_scored": TEST_SCORED}
    return {"comparisons": comparisons, "derived": derived}


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """Dropout beats p = 0 on test accuracy; it narrows the loss gap; the old 15–20% claim; the no-dropout
    model's validation loss turns upward."""
    base, _ = rates(cfg)
    alpha, v, d = cfg["alpha"], m["variants"], m["derived"]
    best = d["best_p"]
    acc1, acc0 = _col(runs, best, "test_acc"), _col(runs, base, "test_acc")
    out = []

    beats = difference(acc1, acc0, expect="greater", alpha=alpha, what=f"test accuracy, p = {best} − p = {base}")
    out.append(finding("beats_baseline", f"The dropout rate chosen on validation (p = {best}) has higher test "
                                         f"accuracy than p = {base}", beats, (
        f"p = {best} has the highest mean validation accuracy of the rates > 0. Its test accuracy minus that of "
        f"p = {base}, paired over {beats['n']} seeds: {fmt(100 * beats['effect'])} pp [95% CI "
        f"{fmt(100 * beats['ci95_low'])}, {fmt(100 * beats['ci95_high'])}] ({fmt_p(beats['p_value'])}, one-sided "
        f"paired t-test). " + {"shown": f"Dropout improves test accuracy at α = {alpha}.",
                               "refuted": f"Dropout lowers test accuracy significantly at α = {alpha}.",
                               "inconclusive": f"An improvement is not shown at α = {alpha} (nor ruled out)."}[
            beats["verdict"]]), primary=True, **PP))

    g1, g0 = _col(runs, best, "loss_gap"), _col(runs, base, "loss_gap")
    narrows = difference(g1, g0, expect="less", alpha=alpha, what=f"loss gap, p = {best} − p = {base}")
    train_acc = min(float(r["train_acc"]) for rows in runs.values() for r in rows)
    out.append(finding("narrows_loss_gap", f"Dropout (p = {best}) narrows the generalisation gap in loss", narrows, (
        f"Generalisation gap in cross-entropy (test minus training loss, eval mode, final weights): "
        f"{fmt(float(g0.mean()))} nats at p = {base} vs {fmt(float(g1.mean()))} at p = {best}, paired difference "
        f"{fmt(narrows['effect'])} [95% CI {fmt(narrows['ci95_low'])}, {fmt(narrows['ci95_high'])}] "
        f"({fmt_p(narrows['p_value'])}, one-sided paired t-test over {narrows['n']} seeds). The gap is measured in "
        f"loss because the lowest training accuracy of any run is {fmt(100 * train_acc, 4)}%: an accuracy gap "
        "would repeat the test-accuracy finding. "
        + {"shown": "The loss gap is significantly narrower with dropout.",
           "refuted": "The loss gap is significantly wider with dropout.",
           "inconclusive": f"A narrower loss gap is not shown at α = {alpha}."}[narrows["verdict"]]), primary=True))

    out.append(_old_claim(acc1, acc0, best, base, alpha))

    rise = _col(runs, base, "val_loss_rise")
    turns = difference(rise, expect="greater", alpha=alpha, what=f"validation-loss rise at p = {base}")
    out.append(finding("val_loss_turns_up", "Without dropout the validation loss turns upward (overfitting)", turns, (
        f"With p = {base} the validation loss is lowest at epoch {fmt(v[base]['best_val_epoch']['mean'])} on "
        f"average (of {cfg['epochs']}) and ends {fmt(turns['effect'])} [95% CI {fmt(turns['ci95_low'])}, "
        f"{fmt(turns['ci95_high'])}] above that minimum ({fmt_p(turns['p_value'])}, one-sample t-test against 0); "
        f"with p = {best} it bottoms out at epoch {fmt(v[best]['best_val_epoch']['mean'])} and ends "
        f"{fmt(v[best]['val_loss_rise']['mean'])} above it. "
        + ("The no-dropout model overfits in loss." if turns["verdict"] == "shown" else
           f"An upturn is not shown at α = {alpha}.")
        + " Testing the best-validation-loss weights instead of the final ones (for comparison only) gives "
          f"{fmt(100 * v[base]['test_acc_best_val']['mean'], 4)}% (p = {base}) and "
          f"{fmt(100 * v[best]['test_acc_best_val']['mean'], 4)}% (p = {best}).")))
    return out


def _old_claim(acc1: np.ndarray, acc0: np.ndarray, best: str, base: str, alpha: float) -> dict:
    """"Dropout gives a 15–20% improvement": it never said of what. Two readings, each by its 95% interval
    against the range: accuracy points, and relative test-error reduction (which equals the relative reduction
    of the accuracy gap when training accuracy is 1, so that reading is not counted again)."""
    lo, hi = CLAIM_RANGE
    readings = {"test-accuracy gain in points": within(acc1 - acc0, lo, hi, alpha,
                                                                   "accuracy gain (fraction)"),
                "relative test-error reduction": within(_relative_error_reduction(acc1, acc0), lo, hi, alpha,
                                                          "relative test-error reduction")}
    rel = readings["relative test-error reduction"]
    claims = {name: CLAIM_OF[r["verdict"]] for name, r in readings.items()}
    agreed = len(set(claims.values())) == 1
    unit = {"test-accuracy gain in points": " pp", "relative test-error reduction": "%"}
    said = "; ".join(f"as {name}: {_pct(r['effect'])}{unit[name]} [95% CI {_pct(r['ci95_low'])}, "
                     f"{_pct(r['ci95_high'])}] ({claims[name]})" for name, r in readings.items())
    f = finding("old_claim", "Dropout gives the often-quoted 15–20% improvement", rel, (
        f"With p = {best} against p = {base}, per seed: {said}. Each reading holds if its 95% interval lies inside "
        f"[{fmt(100 * lo)}, {fmt(100 * hi)}] (pp or %) and does not hold if it lies entirely outside. "
        + (f"Both readings agree: the claim {claims[next(iter(claims))]}." if agreed else
           "The claim does not say which improvement it means, and the readings disagree: it is not testable as "
           "stated.")), primary=False, scale=100, unit="%")
    f["readings"] = readings
    if not agreed:
        f["claim_verdict"] = "not testable as stated"
    return f
