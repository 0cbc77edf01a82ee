"""Figures of the vanishing-gradients experiment: gradient norm against distance, and fitted rate against ln ρ."""

from __future__ import annotations

import numpy as np

from dlps.experiments.vanishing_gradients.judge import cell_name
from dlps.experiments.vanishing_gradients.spec import CELLS, GATED, key


def _sweep(cfg: dict, m: dict, rho: float, length: int) -> dict:
    """The derived summary of the vanilla RNN at ρ and a length."""
    return m["derived"][key("rnn", rho, length)]


def _mean_curves(histories: dict) -> dict:
    """Mean over seeds of log10‖∂L/∂h‖ (or ‖∂L/∂x‖, phases ending in _x) − its value at distance 0, keyed by
    (phase, cell, rho, length)."""
    groups: dict = {}
    for rows in histories.values():
        for r in rows:
            k = (r["phase"], r["cell"], r["rho"], r["length"])
            groups.setdefault(k, {}).setdefault(r["seed"], {})[r["distance"]] = r["log10_grad_norm"]
    curves = {}
    for k, by_seed in groups.items():
        arr = np.array([[c[d] for d in sorted(c)] for c in by_seed.values()])
        curves[k] = (arr - arr[:, :1]).mean(axis=0)
    return curves


PLOTS = ["gradient_vs_distance.png", "rate_vs_log_rho.png"]


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    """Gradient norm against distance (init sweep; init vs trained), and fitted rate against ln ρ."""
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    curves, n, longest = _mean_curves(histories), cfg["train_length"], max(cfg["lengths"])
    nseeds = len(m["seeds"])
    fig, axes = plt.subplots(1, 3, figsize=(15.5, 4.2))
    ax = axes[0]
    for r in cfg["rhos"]:
        ax.plot(curves[("init", "rnn", r, longest)], label=f"RNN ρ = {r:g}")
    for cell in GATED:
        ax.plot(curves[("init", cell, "", longest)], "--", lw=2, label=cell_name(cell))
    ax.set(xlabel="distance from the loss (steps back)", ylabel="log10 ‖∂L/∂h‖ − value at the last step",
           title=f"At initialisation, T = {longest}")
    ax.legend(fontsize=8)
    short = cfg["matched_length"]
    for ax, (before, after, length, title) in zip(axes[1:], (
            ("init_x", "trained_x", n, f"∂L/∂x, trained at T = {n} (not matched)"),
            ("matched_init_x", "matched_x", short, f"∂L/∂x, trained at T = {short} (matched)"))):
        for cell, color in zip(CELLS, ("C0", "C1", "C3", "C2")):
            rho = cfg["train_rho"] if cell == "rnn" else ""
            label = f"RNN ρ = {rho:g}" if cell == "rnn" else cell_name(cell)
            ax.plot(curves[(before, cell, rho, length)], ":", color=color, label=f"{label} at init")
            ax.plot(curves[(after, cell, rho, length)], color=color, lw=2, label=f"{label} trained")
        ax.set(xlabel="steps back from the last input", ylabel="log10 ‖∂L/∂x‖ − value at the last input",
               title=title)
        ax.legend(fontsize=8)
    files = [save(fig, out_dir / "gradient_vs_distance.png",
                  f"Gradient norm ‖∂L/∂h_t‖ against distance from the loss, averaged over a batch of {cfg['batch']} "
                  f"sequences and over {nseeds} seeds, as log10 relative to the last step. Left: vanilla tanh RNNs "
                  f"with W_hh = ρ·(random orthogonal), LSTM (forget-gate bias 0 and 1) and GRU at torch's default "
                  f"init, T = {longest}. Middle and right: the gradient with respect to the inputs, ‖∂L/∂x_t‖ (the "
                  "same inputs for every cell, so the cells compare), relative to the last input: the RNN "
                  f"(ρ = {cfg['train_rho']:g}), both LSTMs and the GRU at init (dotted) and after training (solid) "
                  f"at T = {n}, where the RNN does not learn the task (not a matched training state), and trained "
                  f"from the same init at T = {short}, where the RNN learns too (the matched comparison).")]

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    logs = np.log(cfg["rhos"])
    lim = (min(logs.min(), -0.1) - 0.1, max(logs.max(), 0.1) + 0.1)
    ax.plot(lim, lim, "k--", lw=1, label="identity (rate = ln ρ)")
    lengths = sorted(cfg["lengths"])
    for i, length in enumerate(lengths):
        s = [_sweep(cfg, m, r, length)["slope"] for r in cfg["rhos"]]
        shift = 0.008 * (i - (len(lengths) - 1) / 2)  # so that the error bars of different lengths do not overlap
        ax.errorbar(logs + shift, [x["mean"] for x in s],
                    yerr=[[x["mean"] - x["ci_low"] for x in s], [x["ci_high"] - x["mean"] for x in s]],
                    fmt="o", ms=5, capsize=2, label=f"fit over all steps, T = {length}")
    e = [_sweep(cfg, m, r, longest)["early_rate"]["mean"] for r in cfg["rhos"]]
    ax.plot(logs, e, "k^", mfc="none", ms=7, label=f"first {cfg['early_steps']} steps only, T = {longest}")
    p = [_sweep(cfg, m, r, longest)["predicted_rate"]["mean"] for r in cfg["rhos"]]
    ax.plot(logs, p, "kx", ms=7, label=f"ln ρ + ln RMS tanh′ (mean field), T = {longest}")
    for half, marker in (("first_slope", "<"), ("second_slope", ">")):
        h = [_sweep(cfg, m, r, longest)[half]["mean"] for r in cfg["rhos"]]
        ax.plot(logs, h, marker, color="0.4", mfc="none", ms=6,
                label=f"{'nearer' if half == 'first_slope' else 'farther'} half of the distances, T = {longest}")
    ax.set(xlabel="ln ρ (spectral radius of W_hh)", ylabel="fitted rate: Δ ln‖∂L/∂h‖ per step back",
           title="Per-step gradient growth rate vs ln ρ (vanilla RNN, init)")
    ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "rate_vs_log_rho.png",
                      "Least-squares slope of ln‖∂L/∂h_t‖ against distance from the loss for the vanilla tanh RNN "
                      f"at init (mean and 95% CI over {nseeds} seeds, one series per sequence length; triangles: "
                      "the slope over the first steps of the sequence, where units are not yet saturated; crosses: "
                      "ln ρ + ln of the RMS tanh derivative at the states; open side-pointing triangles: the slope "
                      "over the half of the distances nearer to and farther from the loss, equal under exponential "
                      "decay), with the identity line rate = ln ρ. "
                      "Points below the line show tanh′ < 1 shrinking the gradient; for ρ > 1 saturation pulls the "
                      "rate far below ln ρ."))
    return files
