"""How the overfitting experiment is judged: paired rank tests over seeds (MSE is heavy-tailed), fixed in advance."""

from __future__ import annotations

from dlps.experiments.estimate import estimate, p_clause
from dlps.experiments.columns import col
from dlps.experiments.overfitting.analysis import analyze, middles  # noqa: F401 (analyze: re-exported)
from dlps.experiments.overfitting.spec import roles
from dlps.fmt import fmt
from dlps.verdicts import all_of, difference, finding


def _sign(runs: dict, a: int, b: int, metric: str, expect: str, alpha: float) -> dict:
    return difference(col(runs, str(a), f"{metric}_mse"), col(runs, str(b), f"{metric}_mse"), expect=expect,
                      alpha=alpha, test="sign", what=f"{metric} MSE, degree {a} − degree {b}")


def _numbers(parts: dict, a: int, b: int) -> str:
    tr, te = parts["train"], parts["test"]
    return (f"Degree {a} minus degree {b}, median over {te['n']} seeds: train MSE {fmt(tr['effect'])} "
            f"({p_clause(tr)}), test MSE {estimate(te)}")


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """Underfitting (both errors higher than the middle degree) and overfitting (train error lower, test error
    higher), each an intersection of one-sided exact sign tests paired by seed at α (the median interval is the
    same test inverted, so test and interval agree)."""
    low, _, high = roles(cfg)
    alpha, v = cfg["alpha"], m["variants"]
    out = []
    for role, mid in middles(cfg).items():
        parts = {k: _sign(runs, low, mid, k, "greater", alpha) for k in ("train", "test")}
        under = all_of(parts, f"degree {low} has higher train and test MSE than degree {mid}", effect_of="test")
        out.append(finding(
            f"underfits_low_vs_{role}", f"Degree {low} underfits compared with degree {mid}", under,
            _numbers(parts, low, mid) + ".", primary=True, compared={"low": low, role: mid},
            shown="Both errors are higher: it underfits.",
            refuted="At least one error is significantly lower: underfitting is refuted.",
            inconclusive="Not both significantly higher: underfitting is not shown."))
        parts = {"train": _sign(runs, high, mid, "train", "less", alpha),
                 "test": _sign(runs, high, mid, "test", "greater", alpha)}
        over = all_of(parts, f"degree {high} has lower train MSE and higher test MSE than degree {mid}",
                      effect_of="test")
        out.append(finding(
            f"overfits_high_vs_{role}", f"Degree {high} overfits compared with degree {mid}", over,
            f"{_numbers(parts, high, mid)}; median test MSE {fmt(v[str(high)]['test_mse']['median'])} against "
            f"{fmt(v[str(mid)]['test_mse']['median'])} (the mean, {fmt(v[str(high)]['test_mse']['mean'])}, is "
            "dominated by a few extrapolating fits).", primary=True, compared={"high": high, role: mid},
            shown="It fits the training points better and generalises worse: it overfits.",
            refuted="The opposite pattern is significant: overfitting is refuted.",
            inconclusive=f"The pattern is not shown at α = {alpha}."))
    return out
