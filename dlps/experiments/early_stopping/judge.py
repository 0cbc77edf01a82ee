"""How the early-stopping experiment is judged at the default patience, by rules fixed in advance: epochs saved
against the bar (one-sided t-test), "performance maintained" by non-inferiority against the params margin, and
the old 30–40% claim by its 1 − 2α interval against the range."""

from __future__ import annotations

import numpy as np

from dlps.experiments.early_stopping.analysis import analyze  # noqa: F401 (analyze: re-exported)
from dlps.experiments.estimate import estimate
from dlps.experiments.columns import values as _col
from dlps.experiments.early_stopping.spec import CLAIM_RANGE, VARIANT
from dlps.fmt import fmt
from dlps.verdicts import CLAIM_OF, all_of, difference, finding, noninferiority, within


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The full run overfits in loss; at the default patience early stopping saves epochs (bar) and maintains
    test accuracy (non-inferiority); the old 30–40% claim."""
    rows, alpha = runs[VARIANT], cfg["alpha"]
    p, n_max, margin, bar = cfg["default_patience"], cfg["max_epochs"], cfg["max_acc_drop_pp"], cfg["min_saved_frac"]
    v, per = m["variants"][VARIANT], m["derived"]["patience"][str(p)]
    turns = difference(_col(rows, "val_loss_rise"), expect="greater", alpha=alpha,
                       what="final − lowest validation loss of the full run")
    saved = _col(rows, f"epochs_saved_frac_p{p}")
    saves = difference(saved - bar, expect="greater", alpha=alpha,
                       what=f"fraction of epochs saved at patience {p} − {bar:g}")
    saves |= {k: x for k, x in difference(saved, expect="greater", alpha=alpha).items()
              if k in ("effect", "ci_low", "ci_high")}
    kept = noninferiority(_col(rows, f"test_acc_restored_p{p}"), _col(rows, "test_acc_full"), margin=margin / 100,
                          alpha=alpha, what=f"test accuracy, restored (patience {p}) − full run")
    default = {"default_patience": p}
    return [
        finding("val_loss_turns_up", "Without early stopping the validation loss turns upward (the model overfits)",
                turns, f"Over {n_max} epochs the validation loss is lowest at epoch "
                       f"{fmt(v['best_epoch_full']['mean'])} on average and ends {estimate(turns)} above that minimum.",
                shown="The full run overfits in loss, so there is something for early stopping to save.",
                refuted=f"An upturn is not shown at α = {alpha}.",
                inconclusive=f"An upturn is not shown at α = {alpha}."),
        finding("saves_epochs", f"At the default patience ({p}) early stopping saves more than {fmt(100 * bar)}% of "
                                f"the {n_max}-epoch budget", saves,
                f"Patience {p} (min_delta {fmt(cfg['min_delta'])}) stops at epoch {fmt(per['stop_epoch']['mean'])} of "
                f"{n_max} on average and restores epoch {fmt(per['best_epoch']['mean'])}, saving "
                f"{estimate(saves, scale=100, unit='%')} of the epochs, against the bar {fmt(100 * bar)}%.",
                primary=True, scale=100, unit="%", compared=default, shown="It saves more than the bar.",
                refuted="It saves significantly less than the bar.",
                inconclusive=f"More than the bar is not shown at α = {alpha}."),
        finding("performance_maintained", f"At the default patience ({p}) the restored model's test accuracy is not "
                                          f"more than {fmt(margin)} pp below the full run's", kept,
                f"Restored (patience {p}) minus full-run final test accuracy, paired over {kept['n']} seeds: "
                f"{estimate(kept, scale=100, unit=' pp')}; non-inferiority margin {fmt(margin)} pp.", primary=True,
                scale=100, unit="pp", compared=default,
                shown="Performance is maintained: a drop beyond the margin is ruled out at α.",
                refuted="Performance is not maintained: the drop is significantly larger than the margin.",
                inconclusive="The interval reaches beyond the margin: that performance is maintained is not shown at "
                             f"α = {alpha} (a non-significant difference is not evidence of no difference)."),
        _old_claim(cfg, rows, saved, kept, p)]


def _old_claim(cfg: dict, rows: list[dict], saved: np.ndarray, kept: dict, p: int) -> dict:
    """"Early stopping saves 30–40% of computation with maintained performance": both parts must hold. The
    saving is judged by its 1 − 2α interval against the range (inside: holds; entirely outside: does not hold)."""
    lo, hi = CLAIM_RANGE
    rng = within(saved, lo, hi, cfg["alpha"], f"fraction of epochs saved at patience {p}")
    rec = all_of({"saves 30–40%": rng, "maintained": kept}, "both parts of the claim hold")
    rec |= {k: rng[k] for k in ("effect", "ci_low", "ci_high", "n")} | {"effect_part": "saves 30–40%"}
    others = "; ".join(
        f"patience {q}: {fmt(100 * float(np.mean(_col(rows, f'epochs_saved_frac_p{q}'))))}% of epochs, "
        f"{fmt(float(np.mean(_col(rows, f'acc_change_pp_p{q}'))))} pp test accuracy" for q in sorted(cfg["patience"]))
    return finding("old_claim", "Early stopping saves 30–40% of computation with maintained performance", rec,
                   f"Computation saved is measured in epochs (every epoch costs the same training pass and "
                   f"evaluation), relative to a {cfg['max_epochs']}-epoch budget; {others}. At the default patience "
                   f"{p} the saving is {estimate(rng, scale=100, unit='%')}: {CLAIM_OF[rng['verdict']]} as 30–40% "
                   "(inside the range: holds; entirely outside: does not hold); performance maintained within "
                   f"{fmt(cfg['max_acc_drop_pp'])} pp: {CLAIM_OF[kept['verdict']]}. The saving grows with how far "
                   "past its best epoch the budget runs, so any such figure is a property of the budget as much as "
                   "of early stopping.", scale=100, unit="%", compared={"default_patience": p},
                   shown="The claim holds.", refuted="The claim does not hold.",
                   inconclusive="The claim is inconclusive.")
