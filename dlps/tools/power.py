"""Seed counts for the confirmatory run, from a power calculation made before its seeds are drawn: the pilot run's
per-seed spread (committed per-seed files at a git revision) and each primary question's smallest effect of
interest or margin (docs/protocol.md says why each) give the seeds its rule needs for 80% power at α, Bonferroni
over the experiment's primaries (Holm is never less powerful). `python -m dlps.tools.power [PILOT_REV]` prints the table
kept in docs/protocol.md. The pilot supplies only variances: every assumed true effect is the margin's, never the
pilot's observed effect."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
from scipy import stats

POWER = 0.8
ALPHA = 0.025  # one-sided, the study's α (docs/protocol.md)
PILOT = "4333c39"
# experiment -> primary findings with a p-value (the Holm family's size)
FAMILY = {"overfitting": 2, "dropout": 2, "l2": 2, "early_stopping": 2, "bias_variance": 3, "numpy_rnn": 1,
          "vanishing_gradients": 2, "architectures": 1, "sentiment": 3}


def n_t(sd: float, shift: float, alpha: float, n_max: int = 400, extra_var: float = 0.0) -> int:
    """The fewest seeds with which a one-sided one-sample t-test at α reaches POWER when the true mean lies `shift`
    beyond the null, per-seed sd `sd` (and a shared variance `extra_var` that more seeds do not shrink)."""
    for n in range(2, n_max + 1):
        se = math.sqrt(sd * sd / n + extra_var)
        if stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, shift / se) >= POWER:
            return n
    return n_max


def power_t(sd: float, shift: float, alpha: float, n: int, extra_var: float = 0.0) -> float:
    """The power of that test with n seeds."""
    se = math.sqrt(sd * sd / n + extra_var)
    return float(stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, shift / se))


def n_tost(sd: float, margin: float, alpha: float, n_max: int = 400) -> int:
    """The fewest seeds for a TOST at α to show |mean| < margin with POWER when the true mean is 0 (each one-sided
    test then needs power 1 − (1 − POWER)/2; a close, slightly conservative bound)."""
    for n in range(2, n_max + 1):
        ncp = margin * math.sqrt(n) / sd
        if stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, ncp) >= 1 - (1 - POWER) / 2:
            return n
    return n_max


def power_tost(sd: float, margin: float, alpha: float, n: int) -> float:
    """The (slightly conservative) power of that TOST with n seeds at a true mean of 0."""
    one = stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1, margin * math.sqrt(n) / sd)
    return float(max(0.0, 2 * one - 1))


def n_sign(alpha: float) -> int:
    """The fewest pairs whose one-sided exact sign test can reach p < α at all (every pair the same sign)."""
    return int(math.floor(math.log(alpha) / math.log(0.5))) + 1


def _runs(rev: str, exp: str, variant: str) -> list[dict]:
    text = subprocess.run(["git", "show", f"{rev}:metrics/runs/{exp}/{variant}.json"], capture_output=True,
                          text=True, check=True).stdout
    return json.loads(text)["runs"]


def _col(rev: str, exp: str, variant: str, key: str) -> np.ndarray:
    return np.array([r[key] for r in _runs(rev, exp, variant)], dtype=float)


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1))


def plans(rev: str) -> list[dict]:
    """One row per primary question: its rule, the pilot's per-seed sd, the effect the power is computed at, and the
    seeds needed (the experiment's α divided by its family size)."""
    rows = []

    seeds = _seeds()

    def add(exp, fid, rule, sd, n, at, sd_text, power=None):
        """power(n): the rule's power with n seeds (None: a rule whose n follows from the rule itself)."""
        used = seeds[exp]
        rows.append({"experiment": exp, "finding": fid, "rule": rule, "sd": sd_text, "at": at, "n": n,
                     "alpha_each": ALPHA / FAMILY[exp], "seeds": used,
                     "power": None if power is None else power(used)})

    a = lambda exp: ALPHA / FAMILY[exp]  # noqa: E731 (Bonferroni share of the family's α)
    d = _col(rev, "dropout", "0.5", "test_acc") - _col(rev, "dropout", "0.0", "test_acc")
    add("dropout", "beats_baseline", "one-sided paired t, test accuracy p* − 0", _sd(d),
        n_t(_sd(d), 0.01, a("dropout")), "true gain 1 pp (min_gain)", f"{100 * _sd(d):.2f} pp",
        lambda k, s=_sd(d): power_t(s, 0.01, a("dropout"), k))
    d = _col(rev, "dropout", "0.5", "loss_gap") - _col(rev, "dropout", "0.0", "loss_gap")
    add("dropout", "narrows_loss_gap", "one-sided paired t, loss gap p* − 0", _sd(d),
        n_t(_sd(d), 0.05, a("dropout")), "true change −0.05 nats (min_gap_change)", f"{_sd(d):.3f} nats",
        lambda k, s=_sd(d): power_t(s, 0.05, a("dropout"), k))
    lams = ["0", "0.0001", "0.001", "0.01", "0.1"]
    norms = {k: _col(rev, "l2", k, "weight_norm") for k in lams}
    sds = [_sd((norms[x] - norms[y]) / norms[x]) for x, y in zip(lams, lams[1:])]
    add("l2", "weight_norm_decreases", "one-sided t per λ step, relative drop − 1%, all steps", max(sds),
        max(n_t(s, 0.01, a("l2")) for s in sds), "true drop 2% per step (2 × min_norm_drop)",
        f"{100 * max(sds):.2f}% (largest step)", lambda k: min(power_t(s, 0.01, a("l2"), k) for s in sds))
    d = _col(rev, "l2", "0.01", "test_acc") - _col(rev, "l2", "0", "test_acc")
    add("l2", "beats_baseline", "one-sided paired t, test accuracy λ* − 0", _sd(d), n_t(_sd(d), 0.01, a("l2")),
        "true gain 1 pp (min_gain)", f"{100 * _sd(d):.2f} pp", lambda k, s=_sd(d): power_t(s, 0.01, a("l2"), k))
    saved = _col(rev, "early_stopping", "all", "epochs_saved_frac_p5")
    add("early_stopping", "saves_epochs", "one-sided t, saved fraction − 0.3", _sd(saved),
        n_t(_sd(saved), 0.05, a("early_stopping")), "true saving 35% (5 pp above the bar)",
        f"{100 * _sd(saved):.1f} pp", lambda k, s=_sd(saved): power_t(s, 0.05, a("early_stopping"), k))
    d = (_col(rev, "early_stopping", "all", "test_acc_restored_p5")
         - _col(rev, "early_stopping", "all", "test_acc_full"))
    add("early_stopping", "performance_maintained", "non-inferiority t, restored − full > −0.3 pp", _sd(d),
        n_t(_sd(d), 0.003, a("early_stopping")), "true difference 0", f"{100 * _sd(d):.2f} pp",
        lambda k, s=_sd(d): power_t(s, 0.003, a("early_stopping"), k))
    bv = _runs(rev, "bias_variance", "all")
    gaps = [_sd(np.array([(r[f"decomposed_d{k}"] - r[f"total_d{k}"]) / r[f"total_d{k}"] for r in bv]))
            for k in range(16)]
    add("bias_variance", "identity", "TOST per degree, relative gap within ±5%, all 16", max(gaps),
        n_tost(max(gaps), 0.05, a("bias_variance")), "true gap 0", f"{max(gaps):.4f} (worst degree)",
        lambda k: power_tost(max(gaps), 0.05, a("bias_variance"), k))
    lg = lambda k: np.log10(np.array([r[k] for r in bv]))  # noqa: E731
    sd_end = max(_sd(lg("total_d0") - lg("total_d3")), _sd(lg("total_d15") - lg("total_d3")))
    add("bias_variance", "old_claim", "one-sided paired t on log10 total, each end − optimum", sd_end,
        n_t(sd_end, 0.5, a("bias_variance")), "true 0.5 decades (×3.2)", f"{sd_end:.3f} decades",
        lambda k: power_t(sd_end, 0.5, a("bias_variance"), k))
    dd = [k for k in bv[0] if k.startswith("dd_mse_r")]
    peak = "dd_mse_r100"
    sd_dd = max(_sd(lg(peak) - lg(k)) for k in dd if k != peak) if peak in bv[0] else float("nan")
    add("bias_variance", "double_descent", "one-sided paired t on log10 MSE, threshold − each of 3 points", sd_dd,
        n_t(sd_dd, 0.5, a("bias_variance")), "true 0.5 decades (×3.2)", f"{sd_dd:.3f} decades (largest)",
        lambda k: power_t(sd_dd, 0.5, a("bias_variance"), k))
    ratio = _col(rev, "numpy_rnn", "rnn", "rnn_over_bigram")
    add("numpy_rnn", "beats_bar", "one-sided t, RNN/bigram test loss − 0.85", _sd(ratio),
        n_t(_sd(ratio), 0.05, a("numpy_rnn")), "true ratio 0.80 (0.05 below the bar)", f"{_sd(ratio):.4f}",
        lambda k, s=_sd(ratio): power_t(s, 0.05, a("numpy_rnn"), k))
    vg = _runs(rev, "vanishing_gradients", "rnn")
    from dlps.experiments.vanishing_gradients.judge import relative_gap

    rel = [_sd(relative_gap(np.array([r[f"rnn_rho{rho:g}_T{t}_slope"] for r in vg]),
                            np.array([r[f"rnn_rho{rho:g}_T{t}_predicted_rate"] for r in vg]), rho))
           for rho in (0.5, 0.9, 1.0, 1.1, 1.5) for t in (25, 50, 100, 200)]
    add("vanishing_gradients", "old_claim", "TOST per (ρ, T), relative gap within ±0.2, all 20", max(rel),
        n_tost(max(rel), 0.2, a("vanishing_gradients")), "true gap 0", f"{max(rel):.3f} (worst point)",
        lambda k: power_tost(max(rel), 0.2, a("vanishing_gradients"), k))
    add("vanishing_gradients", "matched_lstm_vs_rnn", "one-sided exact sign test, matched pairs", float("nan"),
        n_sign(a("vanishing_gradients")), "every pair the same sign (the fewest that can reach α)", "—")
    key = "log10_test_mse_lag100"
    sdg = max(_sd(_col(rev, "architectures", c, key) - _col(rev, "architectures", "rnn", key)) for c in ("lstm", "gru"))
    add("architectures", "gated_vs_rnn", "one-sided paired t on log10 test MSE, LSTM − RNN and GRU − RNN", sdg,
        n_t(sdg, 1.0, a("architectures")), "true −1 decade (×10 lower MSE)", f"{sdg:.2f} decades (larger)",
        lambda k: power_t(sdg, 1.0, a("architectures"), k))
    # sentiment: a one-seed pilot has no spread between seeds; the sd is an assumption (docs/protocol.md)
    sd_seed, ev = 0.0042, 0.88 * 0.12 / 25_000
    for fid, rule in (("old_claim", "t over seeds + test-review variance, BiLSTM accuracy − 0.87"),
                      ("tfidf_bar", "t over seeds + test-review variance, TF-IDF accuracy − 0.88")):
        add("sentiment", fid, rule, sd_seed, n_t(sd_seed, 0.01, a("sentiment"), extra_var=ev),
            "true 1 pp above the bar", "0.42 pp (assumed) + 0.21 pp test sampling",
            lambda k: power_t(sd_seed, 0.01, a("sentiment"), k, ev))
    add("sentiment", "best_recurrent_vs_tfidf", "paired t over seeds + per-review variance, best recurrent − TF-IDF",
        sd_seed, n_t(sd_seed, 0.01, a("sentiment"), extra_var=2 * ev), "true 1 pp", "0.42 pp (assumed)",
        lambda k: power_t(sd_seed, 0.01, a("sentiment"), k, 2 * ev))
    return rows


def _seeds() -> dict[str, int]:
    """The seed count each experiment's section of params.yaml gives the confirmatory run."""
    from dlps.params import load

    params = load()
    return {name: len(params[name]["seeds"]) for name in FAMILY}


def table(rev: str) -> str:
    lines = [f"| experiment | primary finding | rule | pilot per-seed sd | power computed at | α per test "
             f"(Bonferroni share) | seeds for {POWER:.0%} power | seeds run | power with them |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in plans(rev):
        power = "by the rule" if r["power"] is None else f"{100 * r['power']:.0f}%"
        if r["power"] is None and r["seeds"] < r["n"]:
            power = "cannot reach α"
        lines.append(f"| {r['experiment']} | {r['finding']} | {r['rule']} | {r['sd']} | {r['at']} | "
                     f"{r['alpha_each']:.4g} | {r['n']} | {r['seeds']} | {power} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else PILOT))
