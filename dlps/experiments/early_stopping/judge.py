"""How the early-stopping experiment is judged at the default patience, by rules fixed in advance: epochs saved
against the bar (one-sided t-test), "performance maintained" by non-inferiority against the params margin, and
the old 30–40% claim by its 1 − 2α interval against the range. The primaries stop on the registered `monitor`
(validation accuracy: what is judged is test accuracy); the same rules on the other monitor are secondary, read
off the same full runs."""

from __future__ import annotations

import numpy as np

from dlps.experiments.early_stopping.analysis import analyze  # noqa: F401 (analyze: re-exported)
from dlps.experiments.estimate import estimate
from dlps.experiments.columns import values as _col
from dlps.experiments.early_stopping.spec import CLAIM_RANGE, VARIANT, col, other
from dlps.fmt import fmt
from dlps.verdicts import CLAIM_OF, all_of, difference, finding, noninferiority, within

WATCHES = {"val_acc": "validation accuracy", "val_loss": "validation loss"}


def findings(cfg: dict, m: dict, runs: dict) -> list[dict]:
    """The full run overfits in loss; at the default patience on the registered monitor, early stopping saves
    epochs (bar) and maintains test accuracy (non-inferiority) — primaries; the same on the other monitor —
    secondaries; the old 30–40% claim on the registered monitor."""
    rows, alpha, mon = runs[VARIANT], cfg["alpha"], cfg["monitor"]
    n_max = cfg["max_epochs"]
    v = m["variants"][VARIANT]
    turns = difference(_col(rows, "val_loss_rise"), expect="greater", alpha=alpha,
                       what="final − lowest validation loss of the full run")
    main, kept, saved = _pair(cfg, m, rows, mon, "")
    alt, _, _ = _pair(cfg, m, rows, other(mon), "_alt_monitor")
    return [
        finding("val_loss_turns_up", "Without early stopping the validation loss turns upward (the model overfits)",
                turns, f"Over {n_max} epochs the validation loss is lowest at epoch "
                       f"{fmt(v['best_epoch_full_val_loss']['mean'])} on average and ends {estimate(turns)} above that "
                       f"minimum; the validation accuracy is highest at epoch "
                       f"{fmt(v['best_epoch_full_val_acc']['mean'])} on average.",
                shown="The full run overfits in loss, so there is something for early stopping to save.",
                refuted=f"An upturn is not shown at α = {alpha}.",
                inconclusive=f"An upturn is not shown at α = {alpha}."),
        *main, *alt, _old_claim(cfg, rows, saved, kept, cfg["default_patience"], mon)]


def _pair(cfg: dict, m: dict, rows: list[dict], mon: str, suffix: str) -> tuple[list[dict], dict, np.ndarray]:
    """saves_epochs and performance_maintained for stopping on `mon` (primaries when suffix is empty)."""
    alpha, p, n_max = cfg["alpha"], cfg["default_patience"], cfg["max_epochs"]
    margin, bar = cfg["max_acc_drop_pp"], cfg["min_saved_frac"]
    per, watch, primary = m["derived"]["per_monitor"][mon][str(p)], WATCHES[mon], not suffix
    saved = _col(rows, col("epochs_saved_frac", mon, p))
    saves = difference(saved - bar, expect="greater", alpha=alpha,
                       what=f"fraction of epochs saved at patience {p} on {watch} − {bar:g}")
    saves |= {k: x for k, x in difference(saved, expect="greater", alpha=alpha).items()
              if k in ("effect", "ci_low", "ci_high")}
    kept = noninferiority(_col(rows, col("test_acc_restored", mon, p)), _col(rows, "test_acc_full"),
                          margin=margin / 100, alpha=alpha,
                          what=f"test accuracy, restored (patience {p} on {watch}) − full run")
    compared = {"default_patience": p, "monitor": mon}
    role = "" if primary else " (the other monitor, secondary)"
    return [
        finding("saves_epochs" + suffix, f"At the default patience ({p}) on {watch}{role} early stopping saves more "
                                         f"than {fmt(100 * bar)}% of the {n_max}-epoch budget", saves,
                f"Patience {p} on {watch} (min_delta {fmt(cfg['min_delta'])}) stops at epoch "
                f"{fmt(per['stop_epoch']['mean'])} of {n_max} on average, {fmt(per['epochs_past_best']['mean'])} "
                f"epochs past the full run's best {watch} epoch, and restores epoch {fmt(per['best_epoch']['mean'])}, "
                f"saving {estimate(saves, scale=100, unit='%')} of the epochs, against the bar {fmt(100 * bar)}%. "
                f"The saving is measured against the {n_max}-epoch budget, a choice: it grows with how far past the "
                f"monitor's best epoch the budget runs.",
                primary=primary, scale=100, unit="%", compared=compared, shown="It saves more than the bar.",
                refuted="It saves significantly less than the bar.",
                inconclusive=f"More than the bar is not shown at α = {alpha}."),
        finding("performance_maintained" + suffix, f"At the default patience ({p}) on {watch}{role} the restored "
                                                   f"model's test accuracy is not more than {fmt(margin)} pp below "
                                                   "the full run's", kept,
                f"Restored (patience {p} on {watch}) minus full-run final test accuracy, paired over {kept['n']} "
                f"seeds: {estimate(kept, scale=100, unit=' pp')}; non-inferiority margin {fmt(margin)} pp.",
                primary=primary, scale=100, unit="pp", compared=compared,
                shown="Performance is maintained: a drop beyond the margin is ruled out at α.",
                refuted="Performance is not maintained: the drop is significantly larger than the margin.",
                inconclusive="The interval reaches beyond the margin: that performance is maintained is not shown at "
                             f"α = {alpha} (a non-significant difference is not evidence of no difference).")], \
        kept, saved


def _old_claim(cfg: dict, rows: list[dict], saved: np.ndarray, kept: dict, p: int, mon: str) -> dict:
    """"Early stopping saves 30–40% of computation with maintained performance": both parts must hold, on the
    registered monitor. The saving is judged by its 1 − 2α interval against the range (inside: holds; entirely
    outside: does not hold)."""
    lo, hi = CLAIM_RANGE
    rng = within(saved, lo, hi, cfg["alpha"], f"fraction of epochs saved at patience {p} on {WATCHES[mon]}")
    rec = all_of({"saves 30–40%": rng, "maintained": kept}, "both parts of the claim hold")
    rec |= {k: rng[k] for k in ("effect", "ci_low", "ci_high", "n")} | {"effect_part": "saves 30–40%"}
    others = "; ".join(
        f"patience {q}: {fmt(100 * float(np.mean(_col(rows, col('epochs_saved_frac', mon, q)))))}% of epochs, "
        f"{fmt(float(np.mean(_col(rows, col('acc_change_pp', mon, q)))))} pp test accuracy"
        for q in sorted(cfg["patience"]))
    return finding("old_claim", "Early stopping saves 30–40% of computation with maintained performance", rec,
                   f"Computation saved is measured in epochs (every epoch costs the same training pass and "
                   f"evaluation), relative to a {cfg['max_epochs']}-epoch budget, stopping on {WATCHES[mon]}; "
                   f"{others}. At the default patience "
                   f"{p} the saving is {estimate(rng, scale=100, unit='%')}: {CLAIM_OF[rng['verdict']]} as 30–40% "
                   "(inside the range: holds; entirely outside: does not hold); performance maintained within "
                   f"{fmt(cfg['max_acc_drop_pp'])} pp: {CLAIM_OF[kept['verdict']]}. The saving grows with how far "
                   "past its best epoch the budget runs, so any such figure is a property of the budget as much as "
                   "of early stopping.", scale=100, unit="%", compared={"default_patience": p, "monitor": mon},
                   shown="The claim holds.", refuted="The claim does not hold.",
                   inconclusive="The claim is inconclusive.")
