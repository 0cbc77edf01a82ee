"""Training for the architectures experiment: each configuration trained with Adam on fresh adding-problem
batches per lag and seed, checkpointed on a fixed validation set, scored once on a fixed test set."""

from __future__ import annotations

import math
import time

import numpy as np

from dlps.experiments.architectures.spec import CONFIGS, lag_key
from dlps.tasks import adding_problem


def build(variant: str, hidden: int, seed: int):
    """The seed's SequenceRegressor for a configuration, always on the from-scratch cells (builtin=False), so an
    ablation and its parent run the same code: every variant of one cell kind starts from the same weights under
    one seed (forget_bias aside, which is added to them)."""
    import torch

    from dlps.models.cells import SequenceRegressor

    kind, ablation = CONFIGS[variant]
    torch.manual_seed(seed)
    return SequenceRegressor(kind, hidden, builtin=False, **ablation)


def effective_params(variant: str, hidden: int, input_size: int = 2) -> int:
    """Trainable parameters that can affect the output: a disabled gate's rows of W_ih, W_hh, b_ih and b_hh
    (hidden × (input_size + hidden + 2) numbers per gate) get zero gradient and are not counted."""
    from dlps.models.cells import live_gates

    kind, ablation = CONFIGS[variant]
    per_gate = hidden * (input_size + hidden + 2)
    return len(live_gates(kind, ablation)) * per_gate + hidden + 1  # + the linear head


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


def run_lag(cfg: dict, variant: str, lag: int, seed: int, rt) -> tuple[dict, list[dict]]:
    """Train one model at one lag with Adam on fresh batches each step; validate every eval_every steps.

    Training stops early once validation MSE has been below success_mse at stop_after consecutive evaluations
    (stop_after = 0: never). The test set is scored once, with the weights of the best validation evaluation.
    steps_to_success is the step of the first evaluation with validation MSE below success_mse, or max_steps.
    """
    import torch

    device = rt.device
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
        with rt.autocast():
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
    """Every seed of one configuration at every lag: per-seed rows (headline metrics at the longest lag, and each
    metric per lag as <metric>_lag<L>) and the validation curves."""
    rt = ctx.runtime("fp32", key="architectures")  # fp32: tiny cells, nothing for a lower precision to gain
    longest = max(cfg["lags"])
    runs, history = [], []
    for seed in seeds:
        out = {"seed": seed}
        for lag in sorted(cfg["lags"]):
            row, rows = run_lag(cfg, variant, lag, seed, rt)
            out |= {lag_key(k, lag): v for k, v in row.items()}
            if lag == longest:
                out |= row
            history += rows
        runs.append(out)
    return {"runs": runs, "history": history}
