"""Overfitting's power calculation: each primary is two exact sign tests over seeds (train and test MSE), both
required; a sign test's power depends only on how often a seed lands on the expected side (q), not on a spread."""

from dlps.experiments.overfitting.analysis import middles
from dlps.experiments.overfitting.spec import roles

Q = 0.8  # the smallest effect of interest: the pattern in 4 seeds of 5 (a tendency, not a rule, is below it)


def plans(pilot):
    from dlps.params import load

    cfg = load()["overfitting"]
    low, _, high = roles(cfg)
    sign = {"test": "sign", "sds": [1.0, 1.0], "q": Q, "effect": None, "sd": "none (sign test)",
            "at": f"each part on the expected side in {Q:.0%} of seeds"}
    out = []
    for role, mid in middles(cfg).items():
        out.append({"finding": f"underfits_low_vs_{role}", "rule": f"exact sign tests, degree {low} − {mid}: train "
                    "and test MSE higher, both required", **sign})
        out.append({"finding": f"overfits_high_vs_{role}", "rule": f"exact sign tests, degree {high} − {mid}: train "
                    "MSE lower and test MSE higher, both required", **sign})
    return out
