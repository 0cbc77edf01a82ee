"""How the overfitting experiment is judged: paired rank tests over seeds (MSE is heavy-tailed), fixed in advance."""

from __future__ import annotations

from dlps.experiments.overfitting.spec import roles
from dlps.fmt import fmt, fmt_p
from dlps.verdicts import all_of, difference, finding


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Paired Wilcoxon tests (MSE over seeds is heavy-tailed): the extremes against each middle degree."""
    low, middle, high = roles(cfg)
    comparisons = {}
    for mid in middle:
        comparisons[f"train_mse_{low}_vs_{mid}"] = paired(str(low), str(mid), "train_mse", "wilcoxon")
        comparisons[f"test_mse_{low}_vs_{mid}"] = paired(str(low), str(mid), "test_mse", "wilcoxon")
        comparisons[f"test_mse_{high}_vs_{mid}"] = paired(str(high), str(mid), "test_mse", "wilcoxon")
    return {"comparisons": comparisons, "derived": {}}


def _col(runs: dict, degree: int, metric: str) -> list[float]:
    return [r[metric] for r in runs[str(degree)]]


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """Underfitting (both errors higher than the middle degree) and overfitting (train error lower, test error
    higher), each an intersection of one-sided exact sign tests paired by seed at α (the median interval is the
    same test inverted, so test and interval agree)."""
    low, middle, high = roles(cfg)
    alpha, v = cfg["alpha"], m["variants"]
    out = []
    for mid in middle:
        parts = {what: difference(_col(runs, low, metric), _col(runs, mid, metric), expect="greater", alpha=alpha,
                                  test="sign", what=f"{what} MSE, degree {low} − degree {mid}")
                 for what, metric in (("train", "train_mse"), ("test", "test_mse"))}
        under = all_of(parts, f"degree {low} has higher train and test MSE than degree {mid}", effect_of="test")
        tr, te = parts["train"], parts["test"]
        out.append(finding(f"underfits_{low}_vs_{mid}", f"Degree {low} underfits compared with degree {mid}", under, (
            f"Degree {low} minus degree {mid}, median over {tr['n']} seeds: train MSE {fmt(tr['effect'])} "
            f"({fmt_p(tr['p_value'])}), test MSE {fmt(te['effect'])} [{fmt(te['ci95_low'])}, {fmt(te['ci95_high'])}] "
            f"({fmt_p(te['p_value'])}); one-sided exact sign tests at α = {alpha}. "
            + {"shown": "Both errors are higher: it underfits.",
               "refuted": "At least one error is significantly lower: underfitting is refuted.",
               "inconclusive": "Not both significantly higher: underfitting is not shown."}[under["verdict"]]),
            primary=True))
        parts = {"train": difference(_col(runs, high, "train_mse"), _col(runs, mid, "train_mse"), expect="less",
                                     alpha=alpha, test="sign", what=f"train MSE, degree {high} − degree {mid}"),
                 "test": difference(_col(runs, high, "test_mse"), _col(runs, mid, "test_mse"), expect="greater",
                                    alpha=alpha, test="sign", what=f"test MSE, degree {high} − degree {mid}")}
        over = all_of(parts, f"degree {high} has lower train MSE and higher test MSE than degree {mid}",
                      effect_of="test")
        tr, te = parts["train"], parts["test"]
        out.append(finding(f"overfits_{high}_vs_{mid}", f"Degree {high} overfits compared with degree {mid}", over, (
            f"Degree {high} minus degree {mid}, median over {te['n']} seeds: train MSE {fmt(tr['effect'])} "
            f"({fmt_p(tr['p_value'])}), test MSE {fmt(te['effect'])} [{fmt(te['ci95_low'])}, {fmt(te['ci95_high'])}] "
            f"({fmt_p(te['p_value'])}); median test MSE {fmt(v[str(high)]['test_mse']['median'])} against "
            f"{fmt(v[str(mid)]['test_mse']['median'])} (the mean, {fmt(v[str(high)]['test_mse']['mean'])}, is "
            "dominated by a few extrapolating fits). "
            + {"shown": "It fits the training points better and generalises worse: it overfits.",
               "refuted": "The opposite pattern is significant: overfitting is refuted.",
               "inconclusive": f"The pattern is not shown at α = {alpha}."}[over["verdict"]]), primary=True))
    return out
