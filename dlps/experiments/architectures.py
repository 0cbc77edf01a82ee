"""Experiment: RNN vs LSTM vs GRU, and LSTM/GRU gate ablations, on the adding problem at increasing lags."""

from __future__ import annotations

import inspect
import math
import time

import numpy as np

from dlps.params import Choice, Float, Int, ListOf, ParamError, Section, SEEDS
from dlps.report_text import fmt, fmt_p
from dlps.tasks import ADDING_BASELINE_MSE, adding_problem

NAME = "architectures"
TITLE = "Recurrent architectures and gate ablations (adding problem)"
QUESTION = ("On a task that needs memory over a long lag (the adding problem), do LSTM and GRU succeed (test MSE "
            "below the success threshold) where a vanilla RNN fails, and which of their gates are needed for it?")

# Every model configuration: (cell kind, ablation flags for dlps.models.cells). "lstm" has torch's forget-gate
# bias 0; "lstm_forget_bias1" adds 1 to it at init. Unablated configurations run the fused torch built-ins,
# ablated ones the from-scratch cells (same initial weights under one seed).
CONFIGS = {
    "rnn": ("rnn", {}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {}),
    "lstm_no_forget": ("lstm", {"forget_gate": False}),
    "lstm_no_input": ("lstm", {"input_gate": False}),
    "lstm_no_output": ("lstm", {"output_gate": False}),
    "lstm_forget_bias1": ("lstm", {"forget_bias": 1.0}),
    "gru_no_reset": ("gru", {"reset_gate": False}),
    "gru_no_update": ("gru", {"update_gate": False}),
}
MODELS = ("rnn", "lstm", "gru")
DESCRIPTION = {
    "rnn": "vanilla (Elman, tanh) RNN", "lstm": "LSTM", "gru": "GRU",
    "lstm_no_forget": "LSTM without forget gate (f = 1)", "lstm_no_input": "LSTM without input gate (i = 1)",
    "lstm_no_output": "LSTM without output gate (o = 1)",
    "lstm_forget_bias1": "LSTM with forget-gate bias 1 (vs 0)",
    "gru_no_reset": "GRU without reset gate (r = 1)", "gru_no_update": "GRU without update gate (z = 0, h = n)",
}

# Per-seed metrics at the longest lag (the headline); every row also holds them per lag as <metric>_lag<L>,
# which analyze summarises under derived["per_lag"]. All are deterministic for given params except the TIMINGS
# (wall clock and process CPU time per step, which vary with machine load; the pipeline stores them apart).
TIMINGS = ("ms_per_step", "cpu_ms_per_step")
METRICS = ("test_mse", "success", "steps_to_success", "params", "ms_per_step", "cpu_ms_per_step")
TABLE_METRICS = ("test_mse", "success", "steps_to_success", "params", "ms_per_step")
LAG_METRICS = METRICS + ("log10_test_mse", "best_val_mse", "steps")

SCHEMA = Section({
    "workers": Int(0, 1024),
    "seeds": SEEDS,
    "threads": Int(0, 1024),
    "variants": ListOf(Choice(tuple(CONFIGS)), min_len=3, unique=True),
    "lags": ListOf(Int(2, 5000), min_len=1, unique=True),
    "hidden": Int(1, 4096),
    "batch": Int(1, 100_000),
    "lr": Float(0, 1, lo_open=True),
    "clip": Float(0, lo_open=True),
    "max_steps": Int(1, 10_000_000),
    "eval_every": Int(1, 10_000_000),
    "stop_after": Int(0, 1000),
    "n_val": Int(1, 1_000_000),
    "n_test": Int(1, 1_000_000),
    "success_mse": Float(0, lo_open=True),
    "alpha": Float(0, 0.5, lo_open=True),
})


def check(cfg: dict) -> None:
    """Cross-key rules the schema cannot express."""
    for m in MODELS:
        if m not in cfg["variants"]:
            raise ParamError(f"architectures.variants: got {cfg['variants']}; allowed: a list that includes "
                             f"{', '.join(MODELS)} (the findings compare them; ablations are optional)")
    if cfg["eval_every"] > cfg["max_steps"]:
        raise ParamError(f"architectures.eval_every: got {cfg['eval_every']}; allowed: at most "
                         f"architectures.max_steps ({cfg['max_steps']}), or validation never runs")
    if cfg["success_mse"] >= ADDING_BASELINE_MSE:
        raise ParamError(f"architectures.success_mse: got {cfg['success_mse']}; allowed: below the baseline MSE "
                         f"{ADDING_BASELINE_MSE:.4f} of always predicting 1")


def variants(cfg: dict) -> list[str]:
    return list(cfg["variants"])


def parent(variant: str) -> str:
    """The unablated model an ablation is compared with."""
    return CONFIGS[variant][0]


def configuration(variant: str) -> tuple:
    """The full cell configuration (kind plus every ablation keyword with its default filled in)."""
    from dlps.models.cells import CELLS

    kind, ablation = CONFIGS[variant]
    params = inspect.signature(CELLS[kind]).parameters
    flags = {k: p.default for k, p in params.items() if k not in ("input_size", "hidden_size")}
    unknown = set(ablation) - set(flags)
    if unknown:
        raise ValueError(f"{variant}: unknown ablation flags {sorted(unknown)}")
    return (kind, tuple(sorted((flags | ablation).items())))


def lag_key(metric: str, lag: int) -> str:
    return f"{metric}_lag{lag}"


# ---- model --------------------------------------------------------------------------------------------------

def build(variant: str, hidden: int, seed: int):
    """The seed's SequenceRegressor for a configuration: every variant of one cell kind starts from the same
    weights under one seed (forget_bias aside, which is added to them)."""
    import torch

    from dlps.models.cells import SequenceRegressor

    kind, ablation = CONFIGS[variant]
    torch.manual_seed(seed)
    return SequenceRegressor(kind, hidden, **ablation)


GATE_ORDER = {"rnn": (), "lstm": ("input_gate", "forget_gate", None, "output_gate"),
              "gru": ("reset_gate", "update_gate", None)}


def effective_params(variant: str, hidden: int, input_size: int = 2) -> int:
    """Trainable parameters that can affect the output: a disabled gate's rows of W_ih, W_hh, b_ih and b_hh
    (hidden × (input_size + hidden + 2) numbers per gate) get zero gradient and are not counted."""
    kind, ablation = CONFIGS[variant]
    gates = max(1, len(GATE_ORDER[kind]))
    disabled = sum(1 for g in GATE_ORDER[kind] if g is not None and ablation.get(g, True) is False)
    per_gate = hidden * (input_size + hidden + 2)
    return (gates - disabled) * per_gate + hidden + 1  # + the linear head


# ---- training -----------------------------------------------------------------------------------------------

def data_rngs(seed: int, lag: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent streams for the training batches, the validation set and the test set of one seed and lag;
    every variant draws the same ones, so compared variants see identical data in identical order."""
    return tuple(np.random.default_rng([seed, lag, stream]) for stream in range(3))


def mse(model, x, y, chunk: int = 2000) -> float:
    import torch

    with torch.no_grad():
        total = sum(float(((model(x[i:i + chunk]) - y[i:i + chunk]) ** 2).sum()) for i in range(0, len(y), chunk))
    return total / len(y)


def run_lag(cfg: dict, variant: str, lag: int, seed: int, device: str = "cpu") -> tuple[dict, list[dict]]:
    """Train one model at one lag with Adam on fresh batches each step; validate every eval_every steps.

    Training stops early once validation MSE has been below success_mse at stop_after consecutive evaluations
    (stop_after = 0: never). The test set is scored once, with the weights of the best validation evaluation.
    steps_to_success is the step of the first evaluation with validation MSE below success_mse, or max_steps.
    """
    import torch

    train_rng, val_rng, test_rng = data_rngs(seed, lag)
    xv, yv = (torch.from_numpy(a).to(device) for a in adding_problem(cfg["n_val"], lag, val_rng))
    model = build(variant, cfg["hidden"], seed).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    history, best, best_state, first_success, below, losses = [], math.inf, None, None, 0, []
    wall = cpu = 0.0
    step = 0
    for step in range(1, cfg["max_steps"] + 1):
        x, y = (torch.from_numpy(a).to(device) for a in adding_problem(cfg["batch"], lag, train_rng))
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        losses.append(loss.item())  # .item() syncs, so the timing covers all the step's work
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        if step % cfg["eval_every"] and step != cfg["max_steps"]:
            continue
        val = mse(model, xv, yv)
        history.append({"seed": seed, "lag": lag, "step": step, "train_mse": float(np.mean(losses)), "val_mse": val})
        losses = []
        if val < best:
            best, best_state = val, {k: v.detach().clone() for k, v in model.state_dict().items()}
        below = below + 1 if val < cfg["success_mse"] else 0
        if below and first_success is None:
            first_success = step
        if cfg["stop_after"] and below >= cfg["stop_after"]:
            break
    model.load_state_dict(best_state)
    xt, yt = (torch.from_numpy(a).to(device) for a in adding_problem(cfg["n_test"], lag, test_rng))
    test = mse(model, xt, yt)
    row = {"test_mse": test, "log10_test_mse": math.log10(max(test, 1e-12)),
           "success": float(test < cfg["success_mse"]),
           "steps_to_success": first_success if first_success is not None else cfg["max_steps"],
           "params": effective_params(variant, cfg["hidden"]), "best_val_mse": best, "steps": step,
           "ms_per_step": 1000 * wall / step, "cpu_ms_per_step": 1000 * cpu / step}
    return row, history


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    device = ctx.device if ctx is not None else "cpu"
    longest = max(cfg["lags"])
    runs, history = [], []
    for seed in seeds:
        out = {"seed": seed}
        for lag in sorted(cfg["lags"]):
            row, rows = run_lag(cfg, variant, lag, seed, device)
            out |= {lag_key(k, lag): v for k, v in row.items()}
            if lag == longest:
                out |= row
            history += rows
        runs.append(out)
    return {"runs": runs, "history": history}


# ---- analysis -----------------------------------------------------------------------------------------------

def _rate(runs: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in runs]))


def hurts(a: dict, b: dict, comparison: dict, alpha: float) -> bool:
    """An ablation hurts if it succeeds in at least half the seeds fewer than its parent, or its log10 test MSE
    is significantly higher (paired t-test at alpha)."""
    drop = b["success"] - a["success"]
    return drop >= 0.5 or (comparison["mean_diff"] > 0 and comparison["p_value"] < alpha)


def analyze(cfg: dict, runs: dict[str, list[dict]], paired) -> dict:
    """Per-lag summaries, success rates, and paired t-tests on log10 test MSE at the longest lag: LSTM and GRU
    against the RNN, and every ablation against its unablated parent."""
    from dlps import stats

    lags = sorted(cfg["lags"])
    longest = lags[-1]
    key = lag_key("log10_test_mse", longest)
    comparisons = {}
    for m in ("lstm", "gru"):
        comparisons[f"log10_test_mse_{m}_vs_rnn"] = paired(m, "rnn", key, "t")
    for v in runs:
        if v not in MODELS and parent(v) in runs:
            comparisons[f"log10_test_mse_{v}_vs_{parent(v)}"] = paired(v, parent(v), key, "t")
    per_lag = {v: {str(lag): {k: stats.summarize([r[lag_key(k, lag)] for r in rows]) for k in LAG_METRICS}
                   for lag in lags} for v, rows in runs.items()}
    success_rate = {v: {str(lag): _rate(rows, lag_key("success", lag)) for lag in lags} for v, rows in runs.items()}
    return {"comparisons": comparisons, "derived": {"longest_lag": longest, "per_lag": per_lag,
                                                    "success_rate": success_rate}}


# ---- findings -----------------------------------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _geo(s: dict) -> str:
    """Geometric mean test MSE with its 95% CI, from the summary of log10 MSE."""
    return f"{fmt(10 ** s['mean'])} [95% CI {fmt(10 ** s['ci95_low'])}, {fmt(10 ** s['ci95_high'])}]"


def findings(cfg: dict, m: dict) -> list[dict]:
    d, c = m["derived"], m["comparisons"]
    L = d["longest_lag"]
    rate = {v: r[str(L)] for v, r in d["success_rate"].items()}
    logm = {v: r[str(L)]["log10_test_mse"] for v, r in d["per_lag"].items()}
    n = len(m["seeds"])
    thr, alpha = cfg["success_mse"], cfg["alpha"]
    out = []

    gated_ok = rate["lstm"] > 0.5 and rate["gru"] > 0.5
    shown = gated_ok and rate["rnn"] < 0.5
    out.append({"id": "gated_vs_rnn", "claim": f"At lag {L}, LSTM and GRU succeed in most seeds and the vanilla "
                "RNN does not", "shown": shown, "text": (
        f"At lag {L} (success: test MSE < {fmt(thr)}; always predicting 1 scores {fmt(ADDING_BASELINE_MSE)}), "
        f"success rates over {n} seeds: LSTM {_pct(rate['lstm'])}, GRU {_pct(rate['gru'])}, RNN {_pct(rate['rnn'])}; "
        f"geometric-mean test MSE LSTM {_geo(logm['lstm'])}, GRU {_geo(logm['gru'])}, RNN {_geo(logm['rnn'])} "
        f"(log10 MSE vs RNN: LSTM {fmt_p(c['log10_test_mse_lstm_vs_rnn']['p_value'])}, "
        f"GRU {fmt_p(c['log10_test_mse_gru_vs_rnn']['p_value'])}, paired t-tests). "
        + ("The gated cells solve the long lag and the vanilla RNN does not." if shown else
           "The expected pattern (LSTM and GRU succeed in most seeds, the RNN in fewer than half) is not shown.")
    )})

    ablations = [v for v in d["per_lag"] if v not in MODELS and f"log10_test_mse_{v}_vs_{parent(v)}" in c]
    if ablations:
        parts, harmful = [], []
        for v in ablations:
            p = parent(v)
            comp = c[f"log10_test_mse_{v}_vs_{p}"]
            bad = hurts({"success": rate[v]}, {"success": rate[p]}, comp, alpha)
            harmful += [v] if bad else []
            better = comp["mean_diff"] < 0 and comp["p_value"] < alpha
            parts.append(f"{DESCRIPTION[v]}: success {_pct(rate[v])} vs {_pct(rate[p])} for the full {p.upper()}, "
                         f"test MSE {_geo(logm[v])} ({fmt_p(comp['p_value'])}) — "
                         + ("hurts" if bad else "significantly better" if better else "no clear effect"))
        out.append({"id": "ablations", "claim": f"At lag {L}, removing some gate measurably hurts (the ablations "
                    "separate needed gates from dispensable ones)", "shown": bool(harmful), "text": (
            f"Each ablation against its full cell at lag {L} ('hurts': success rate at least 50 points lower, or "
            f"log10 test MSE significantly higher at α = {alpha}, paired t-test over {n} seeds). "
            + "; ".join(parts) + ". "
            + (f"Changes that hurt here: {'; '.join(DESCRIPTION[v] for v in harmful)}." if harmful else
               "No ablation measurably hurts at this lag and budget: which gates matter is not shown.")
        )})

    holds = rate["lstm"] >= 0.95 and rate["gru"] >= 0.95
    out.append({"id": "old_claim", "verdict": "holds" if holds else "does not hold",
                "claim": "Old claim: LSTM/GRU reach 95%+ accuracy on long-term dependency tasks", "shown": holds,
                "text": (
        "Accuracy is not defined for the adding problem (a regression task), so the claim is read as a success "
        f"rate (test MSE < {fmt(thr)}) of at least 95% of seeds at the longest lag, {L}: LSTM {_pct(rate['lstm'])}, "
        f"GRU {_pct(rate['gru'])} of {n} seeds. " + ("It holds in this reading" if holds else
                                                     "It does not hold in this reading")
        + f" (with {n} seeds a 95% rate means every seed; the rate's uncertainty is large).")})
    return out


# ---- figures ------------------------------------------------------------------------------------------------

STYLE = {"rnn": ("C3", "-"), "lstm": ("C0", "-"), "gru": ("C2", "-"),
         "lstm_no_forget": ("C1", "--"), "lstm_no_input": ("C4", "--"), "lstm_no_output": ("C5", "--"),
         "lstm_forget_bias1": ("C9", ":"), "gru_no_reset": ("C6", "--"), "gru_no_update": ("C8", "--")}


def _ref_lines(ax, thr: float) -> None:
    ax.axhline(thr, color="k", ls=":", lw=1, label=f"success threshold {fmt(thr)}")
    ax.axhline(ADDING_BASELINE_MSE, color="0.5", ls="--", lw=1, label="always predict 1 (1/6)")


def plot(cfg: dict, m: dict, runs: dict, histories: dict, out_dir) -> list[dict]:
    import matplotlib.pyplot as plt

    from dlps.plotting import save

    d = m["derived"]
    lags = sorted(cfg["lags"])
    L = d["longest_lag"]
    n = len(m["seeds"])
    thr = cfg["success_mse"]
    files = []

    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    ax.set_yscale("log")
    for v, per in d["per_lag"].items():
        color, ls = STYLE[v]
        s = [per[str(lag)]["log10_test_mse"] for lag in lags]
        mean = [10 ** x["mean"] for x in s]
        ax.plot(lags, mean, color=color, ls=ls, marker="o", lw=2 if v in MODELS else 1.2, label=v)
        if n > 1:
            ax.fill_between(lags, [10 ** x["ci95_low"] for x in s], [10 ** x["ci95_high"] for x in s],
                            color=color, alpha=0.12)
    _ref_lines(ax, thr)
    ax.set(xlabel="lag (sequence length)", ylabel="test MSE (log scale)", xticks=lags,
           title=f"Adding problem: test MSE vs lag ({n} seeds)")
    ax.legend(fontsize=7, ncol=2)
    files.append(save(fig, out_dir / "mse_vs_lag.png", (
        f"Test MSE against lag for every model configuration: geometric mean over {n} seeds with a 95% CI band "
        f"(Student t on log10 MSE); log scale. Dotted: success threshold {fmt(thr)}; dashed: MSE of always "
        "predicting 1 (1/6). Each model is tested at its best validation checkpoint.")))

    groups = [("models", [v for v in MODELS if v in histories]),
              ("LSTM ablations", [v for v in histories if CONFIGS[v][0] == "lstm"]),
              ("GRU ablations", [v for v in histories if CONFIGS[v][0] == "gru"])]
    groups = [(t, vs) for t, vs in groups if vs and (t == "models" or len(vs) > 1)]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 4.2), sharey=True, squeeze=False)
    for ax, (title, vs) in zip(axes[0], groups):
        ax.set_yscale("log")
        for v in vs:
            color, ls = STYLE[v]
            for i, seed in enumerate(m["seeds"]):
                rows = [r for r in histories[v] if r["lag"] == L and r["seed"] == seed]
                ax.plot([r["step"] for r in rows], [r["val_mse"] for r in rows], color=color, ls=ls, lw=1.2,
                        alpha=0.8, label=v if i == 0 else None)
        _ref_lines(ax, thr)
        ax.set(xlabel="training step", title=f"{title}, lag {L}")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("validation MSE (log scale)")
    files.append(save(fig, out_dir / "learning_curves.png", (
        f"Validation MSE against training step at lag {L}, one line per seed ({n} seeds); a curve ends early "
        f"where training stopped after {cfg['stop_after']} consecutive evaluations below {fmt(thr)}.")))

    vs = list(d["per_lag"])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(vs) + 2), 4.4))
    ax.set_yscale("log")
    s = [d["per_lag"][v][str(L)]["log10_test_mse"] for v in vs]
    mean = np.array([10 ** x["mean"] for x in s])
    lo = np.array([10 ** x["ci95_low"] for x in s])
    hi = np.array([10 ** x["ci95_high"] for x in s])
    xs = np.arange(len(vs))
    ax.bar(xs, mean, color=[STYLE[v][0] for v in vs], alpha=0.8)
    ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="k", capsize=4)
    for x, v in zip(xs, vs):
        seeds_mse = [r[lag_key("test_mse", L)] for r in runs[v]]
        ax.scatter(np.full(len(seeds_mse), x) + np.linspace(-0.15, 0.15, len(seeds_mse)), seeds_mse, s=10, c="k",
                   zorder=3, label="one seed" if x == 0 else None)
    for x, v, top in zip(xs, vs, hi):
        ax.text(x, top * 1.15, f"{_pct(d['success_rate'][v][str(L)])}", ha="center", fontsize=8)
    _ref_lines(ax, thr)
    ax.set_xticks(xs, vs, rotation=35, ha="right", fontsize=8)
    ax.set(ylabel="test MSE (log scale)", title=f"Lag {L}: test MSE per configuration (success rate above bars)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    files.append(save(fig, out_dir / "ablations.png", (
        f"Test MSE at lag {L} for every configuration: geometric mean over {n} seeds with 95% CI (Student t on "
        "log10 MSE), dots the individual seeds; the percentage over each bar is the share of seeds with test MSE below "
        f"{fmt(thr)}.")))
    return files
