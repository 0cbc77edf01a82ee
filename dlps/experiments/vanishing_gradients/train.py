"""Training for the vanishing-gradients experiment: gradient profiles at init (a ρ sweep for the vanilla RNN), then
each cell trained at train_length and, from the same init, at matched_length, and measured again."""

from __future__ import annotations

import math

import numpy as np

from dlps.experiments.vanishing_gradients.spec import FIELDS, FORGET_BIAS, LAYER, configs, key

# ---- models -------------------------------------------------------------------------------------------------

def orthogonal(n: int, seed: int):
    """A Haar-random orthogonal n×n matrix (QR of a Gaussian, signs fixed), the same for a given seed."""
    import torch

    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def set_spectral_radius(model, rho: float, seed: int) -> None:
    """W_hh = ρ·Q with Q orthogonal: every eigenvalue and singular value then has modulus exactly ρ."""
    import torch

    with torch.no_grad():
        w = model.rnn.weight_hh_l0
        w.copy_(rho * orthogonal(w.shape[0], seed).to(w.dtype))


def build(cell: str, rho: float | None, hidden: int, seed: int):
    """The seed's SequenceRegressor (torch built-in layer, torch's default init, an LSTM's forget-gate bias raised
    by FORGET_BIAS[cell]); a vanilla RNN gets W_hh = ρ·Q. Under one seed every ρ shares W_ih, the biases, the head
    and Q (only the scale of W_hh differs), and lstm and lstm_fb1 share every draw (only the forget bias differs)."""
    import torch

    from dlps.models.cells import SequenceRegressor

    torch.manual_seed(seed)
    extra = {"forget_bias": FORGET_BIAS[cell]} if cell in FORGET_BIAS else {}
    model = SequenceRegressor(LAYER[cell], hidden, **extra)
    if cell == "rnn":
        set_spectral_radius(model, rho, seed)
    return model


def scratch_copy(model):
    """Float64 CPU copies of the model's cell (from-scratch, so every step's state is a tensor) and head."""
    import torch

    from dlps.models.cells import CELLS as SCRATCH, copy_from_builtin

    cell = SCRATCH[model_kind(model)](model.rnn.input_size, model.rnn.hidden_size)
    copy_from_builtin(cell, model.rnn)
    head = torch.nn.Linear(model.head.in_features, 1)
    head.load_state_dict(model.head.state_dict())
    return cell.double(), head.double()


def model_kind(model) -> str:
    """'rnn', 'lstm' or 'gru' for a SequenceRegressor built on a torch layer."""
    return {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}[type(model.rnn).__name__]


# ---- measurement --------------------------------------------------------------------------------------------

def unroll(cell, x) -> list[tuple[tuple, tuple, object]]:
    """Run the cell over x (B, T, D) one step at a time: per step, its input state (fresh leaves needing grad, h
    first), its output state and its projected input W_ih·x_t + b_ih (a leaf needing grad), so the gradient can be
    carried back one step at a time and read off at each input."""
    state = cell.init_state(x.shape[0], x)
    steps = []
    for xi in cell.input_proj(x).detach().unbind(1):  # the gradients wanted are the states' and inputs', not weights'
        before = tuple(s.detach().requires_grad_(True) for s in state)
        xi = xi.clone().requires_grad_(True)
        state = cell.step(xi, before)
        steps.append((before, state, xi))
    return steps


def _rescaled(grads: tuple, log2_scale):
    """Each example's gradient (every state part) divided by the power of two nearest its largest entry, and the
    exponents added to its running log2 scale. Dividing by a power of two changes no bit of a normal float."""
    import torch

    top = torch.stack([g.abs().amax(dim=1) for g in grads]).amax(dim=0)
    _, exponent = torch.frexp(top)
    exponent = torch.where(top > 0, exponent, 0).to(grads[0].dtype)
    return tuple(torch.ldexp(g, -exponent[:, None]) for g in grads), log2_scale + exponent


def _log10_batch_mean(log2_norms: list) -> np.ndarray:
    """log10 of the batch mean of each row's per-example norms, given as log2 (rows, B); all-zero rows at the
    smallest double."""
    import torch

    per_example = torch.stack(log2_norms) * math.log(2)
    log10_mean = (torch.logsumexp(per_example, dim=1) - math.log(per_example.shape[1])) / math.log(10)
    curve = log10_mean.numpy()
    curve[curve == -np.inf] = math.log10(np.finfo(np.float64).tiny)  # every example's gradient exactly zero
    return curve


def grad_norms(cell, head, x, y) -> tuple[np.ndarray, np.ndarray, list]:
    """log10 of the batch-mean ‖∂L_i/∂h_t‖ by distance d = T - t from the loss (d = 0..T), of the batch-mean
    ‖∂L_i/∂x_t‖ by distance k = T - t from the last input (k = 0..T-1), and the states h_0..h_T.

    L_i = (head(h_T) - y_i)² is each sequence's own loss; summing them keeps every example's gradient unscaled
    (examples do not interact, so ∂ΣL/∂h_t of example i is ∂L_i/∂h_t). The gradient is carried back one step at a
    time, each example's kept near 1 by a power-of-two scale whose exponents add up in log space: the product of T
    Jacobians may decay far below the smallest double, or into the subnormal range that a process flushing
    subnormals (flush_denormal) would zero, yet every value here is what an exact backward pass gives. The input's
    gradient is ∂L/∂(W_ih·x_t + b_ih) · W_ih, read in the same scale as the state's gradient it comes from.
    """
    import torch

    steps = unroll(cell, x)
    last = steps[-1][1]
    loss = ((head(last[0]).squeeze(-1) - y) ** 2).sum()
    # the loss reads h_T only: c_T's own gradient (an LSTM's) is zero, its share through h_T comes in the step
    grads = (torch.autograd.grad(loss, last[0])[0], *(torch.zeros_like(s) for s in last[1:]))
    grads, log2_scale = _rescaled(grads, torch.zeros(x.shape[0], dtype=torch.float64))
    log2_norms = [torch.log2(grads[0].norm(dim=1)) + log2_scale]  # per distance d, each example's log2 ‖∂L_i/∂h_t‖
    log2_x_norms = []  # per distance k, each example's log2 ‖∂L_i/∂x_t‖
    w_in = cell.weight_ih.detach()
    for before, after, xi in reversed(steps):
        *grads, g_xi = torch.autograd.grad(after, (*before, xi), grads, allow_unused=True)
        log2_x_norms.append(torch.log2((g_xi @ w_in).norm(dim=1)) + log2_scale)
        grads = tuple(torch.zeros_like(s) if g is None else g for g, s in zip(grads, before))
        grads, log2_scale = _rescaled(grads, log2_scale)
        log2_norms.append(torch.log2(grads[0].norm(dim=1)) + log2_scale)
    hs = [steps[0][0][0].detach()] + [after[0].detach() for _, after, _ in steps]
    return _log10_batch_mean(log2_norms), _log10_batch_mean(log2_x_norms), hs


def rate(log10_norms: np.ndarray, distances: np.ndarray) -> float:
    """Least-squares slope of ln‖∂L/∂h‖ against distance: the mean log growth per step back."""
    return float(np.polyfit(distances, log10_norms[distances] * math.log(10), 1)[0])


def tanh_rms(hs: list, steps: slice) -> float:
    """Root mean square of tanh′ = 1 - h² at a vanilla RNN's states h_1..h_T (sliced), over batch and units.

    With W_hh = ρ·Q (Q orthogonal), one step back multiplies ‖∂L/∂h‖ by exactly ρ·‖diag(tanh′)·g‖/‖g‖; for a
    gradient g not aligned with particular units that is about ρ times this RMS (the mean-field rate).
    """
    import torch

    return float(torch.stack(hs[1:])[steps].pow(2).neg().add(1).pow(2).mean().sqrt())


# the gate whose product over time is the fraction of its content a unit keeps: c' = f·c + ..., h' = (1 − z)·n + z·h
MEMORY_GATE = {"lstm": "forget", "gru": "update"}


def gate_path(cell, x, hs: list) -> float:
    """log10 of how much of its content the most persistent unit keeps over the whole sequence: the largest,
    over units, batch mean of ∏_t f_t (LSTM forget gate) or ∏_t z_t (GRU update gate); 0 is a perfect memory."""
    import torch
    import torch.nn.functional as F

    from dlps.models.cells import gate

    name = MEMORY_GATE[cell.kind]
    logs = 0.0
    with torch.no_grad():
        xi = cell.input_proj(x)
        for t in range(x.shape[1]):
            recur = F.linear(hs[t], cell.weight_hh, cell.bias_hh)
            logs = logs + torch.log(torch.sigmoid(gate(cell, xi[:, t], name) + gate(cell, recur, name)))
        per_unit = torch.logsumexp(logs, dim=0) - math.log(x.shape[0])
    return float(per_unit.max() / math.log(10))


def measure(model, data: tuple, early_steps: int) -> dict:
    """The gradient profile of one model on one batch, and the scalars every finding needs."""
    import torch

    cell, head = scratch_copy(model)
    x, y = (torch.from_numpy(a).double() for a in data)
    curve, x_curve, hs = grad_norms(cell, head, x, y)
    length = x.shape[1]
    d = np.arange(length + 1)
    out = {"curve": curve, "x_curve": x_curve, "log10_ratio": float(curve[length] - curve[0]),
           "x_log10_ratio": float(x_curve[length - 1] - x_curve[0]), "slope": rate(curve, d),
           "early_rate": rate(curve, d[length - early_steps:])}
    kind = model_kind(model)
    if kind == "rnn":
        out["first_slope"], out["second_slope"] = rate(curve, d[:length // 2 + 1]), rate(curve, d[length // 2:])
        rho = float(torch.linalg.eigvals(cell.weight_hh.detach()).abs().max())
        out["tanh_rms"] = tanh_rms(hs, slice(None))
        out["early_tanh_rms"] = tanh_rms(hs, slice(0, early_steps))
        out["predicted_rate"] = math.log(rho * out["tanh_rms"])
    else:
        out["gate_path"] = gate_path(cell, x, hs)
    return out


# ---- training -----------------------------------------------------------------------------------------------

def mse(model, data: tuple, device: str) -> float:
    """Mean squared error of the model's predictions on one (x, y) batch."""
    import torch

    x, y = (torch.from_numpy(a).to(device) for a in data)
    with torch.no_grad():
        return float(((model(x) - y) ** 2).mean())


def fit_all(models: list, cfg: dict, seeds: list[int], rt, length: int) -> list[tuple[int, bool]]:
    """Train each seed's model (one cell kind) with Adam on its own fresh adding-problem batches of `length` until
    its validation MSE is below target_mse (checked every eval_every steps) or max_steps are done, all at once as
    one batched model (dlps.models.members: each member follows its own one-model trajectory, on the from-scratch
    equations); the trained weights are written back into the models. Per model: the steps taken and whether the
    target was reached."""
    import torch

    from dlps.models.members import Adam, Members, drop, mse as members_mse, train_step
    from dlps.data.tasks import adding_problem

    device = rt.device
    streams = [np.random.default_rng((s, 1)) for s in seeds]
    xv, yv = (torch.from_numpy(np.stack(a)).to(device) for a in
              zip(*(adding_problem(cfg["batch"], length, np.random.default_rng((s, 2))) for s in seeds)))
    members = Members.of([m.to(device) for m in models])
    opt = Adam(members, cfg["lr"])
    out, active = [(cfg["max_steps"], False)] * len(models), list(range(len(models)))
    for step in range(1, cfg["max_steps"] + 1):
        x, y = (torch.from_numpy(np.stack(a)).to(device) for a in
                zip(*(adding_problem(cfg["train_batch"], length, streams[k]) for k in active)))
        train_step(members, opt, x, y, cfg["clip"], rt.autocast)
        if step % cfg["eval_every"]:
            continue
        at = torch.tensor(active, device=device)
        solved = (members_mse(members, xv[at], yv[at]) < cfg["target_mse"]).tolist()
        for j, k in enumerate(active):
            if solved[j]:
                members.copy_to(j, models[k])
                out[k] = (step, True)
        active = drop(members, opt, active, solved)
        if not active:
            break
    for j, k in enumerate(active):
        members.copy_to(j, models[k])
    return out


def fit(model, cfg: dict, seed: int, rt, length: int) -> tuple[int, bool]:
    """fit_all for one model: the steps taken and whether the target was reached."""
    return fit_all([model], cfg, [seed], rt, length)[0]


def probe(cfg: dict, seed: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed measurement batch of a seed and length, shared by every cell, ρ and phase."""
    from dlps.data.tasks import adding_problem

    return adding_problem(cfg["batch"], length, np.random.default_rng((seed, 0, length)))


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """For each seed: the gradient profile at init at every length (and ρ, for the RNN), then the same cell
    trained at train_length and, from the same init, at matched_length, each measured again on its probe batch."""
    import torch

    rt = ctx.runtime("fp32", key="vanishing_gradients")  # fp32 by design: the profiles are measured in float64
    threads = torch.get_num_threads()
    # The matmuls here are tiny (hidden ≤ a few dozen); extra intra-op threads only add synchronisation, which on a
    # busy 2-core machine made a GRU step up to 90x slower (and the float64 measurements always run on the CPU).
    torch.set_num_threads(1)
    try:
        return _train(cfg, variant, seeds, rt)
    finally:
        torch.set_num_threads(threads)


def trained_all(cfg: dict, variant: str, seeds: list[int], rt, length: int) -> list[tuple[dict, dict]]:
    """Each seed's cell (the RNN from ρ = train_rho) trained at `length` (all seeds batched), measured after training
    on its probe batch: per seed, the measurement and the scalars (log10_ratio, slope, steps, mse, solved,
    gate_path)."""
    rho = cfg["train_rho"] if variant == "rnn" else None
    models = [build(variant, rho, cfg["hidden"], seed) for seed in seeds]
    out = []
    for seed, model, (steps, solved) in zip(seeds, models, fit_all(models, cfg, seeds, rt, length)):
        data = probe(cfg, seed, length)
        after = measure(model, data, cfg["early_steps"])
        row = {"log10_ratio": after["log10_ratio"], "x_log10_ratio": after["x_log10_ratio"], "slope": after["slope"],
               "steps": steps,
               "mse": mse(model, data, rt.device), "solved": float(solved),
               **({"gate_path": after["gate_path"]} if LAYER[variant] != "rnn" else {})}
        out.append((after, row))
    return out


def trained(cfg: dict, variant: str, seed: int, rt, length: int) -> tuple[dict, dict]:
    """trained_all for one seed."""
    return trained_all(cfg, variant, [seed], rt, length)[0]


def _train(cfg: dict, variant: str, seeds: list[int], rt) -> dict:
    """train() without the thread handling: per-seed rows (METRICS first, then every sweep point) and curves."""
    train_rho = cfg["train_rho"] if variant == "rnn" else None
    runs, history = [], []
    long = trained_all(cfg, variant, seeds, rt, cfg["train_length"])
    matched_runs = trained_all(cfg, variant, seeds, rt, cfg["matched_length"])
    for seed, (after, row), (matched, mrow) in zip(seeds, long, matched_runs):
        sweep = {}
        for rho in configs(cfg, variant):
            for length in cfg["lengths"]:
                m = measure(build(variant, rho, cfg["hidden"], seed), probe(cfg, seed, length), cfg["early_steps"])
                sweep.update({f"{key(variant, rho, length)}_{f}": m[f] for f in FIELDS[variant]})
                history += curve_rows(seed, "init", variant, rho, m["curve"])
                if rho == train_rho and length == cfg["train_length"]:
                    history += curve_rows(seed, "init_x", variant, rho, m["x_curve"])
        history += curve_rows(seed, "trained", variant, train_rho, after["curve"])
        history += curve_rows(seed, "trained_x", variant, train_rho, after["x_curve"])
        short = cfg["matched_length"]
        init_short = measure(build(variant, train_rho, cfg["hidden"], seed), probe(cfg, seed, short),
                             cfg["early_steps"])
        history += curve_rows(seed, "matched_init", variant, train_rho, init_short["curve"])
        history += curve_rows(seed, "matched", variant, train_rho, matched["curve"])
        history += curve_rows(seed, "matched_init_x", variant, train_rho, init_short["x_curve"])
        history += curve_rows(seed, "matched_x", variant, train_rho, matched["x_curve"])
        before = key(variant, train_rho, cfg["train_length"])
        runs.append({"seed": seed, "init_log10_ratio": sweep[f"{before}_log10_ratio"],
                     "trained_log10_ratio": row["log10_ratio"], "init_slope": sweep[f"{before}_slope"],
                     "trained_slope": row["slope"], "steps": row["steps"], "trained_mse": row["mse"],
                     "trained_solved": row["solved"], "matched_init_log10_ratio": init_short["log10_ratio"],
                     "matched_log10_ratio": mrow["log10_ratio"], "matched_steps": mrow["steps"],
                     "matched_mse": mrow["mse"], "matched_solved": mrow["solved"],
                     "init_x_log10_ratio": sweep[f"{before}_x_log10_ratio"],
                     "trained_x_log10_ratio": row["x_log10_ratio"],
                     "matched_init_x_log10_ratio": init_short["x_log10_ratio"],
                     "matched_x_log10_ratio": mrow["x_log10_ratio"],
                     **({"trained_gate_path": row["gate_path"], "matched_gate_path": mrow["gate_path"]}
                        if variant != "rnn" else {}), **sweep})
    return {"runs": runs, "history": history}


def groups(cfg: dict, variants: list[str]) -> list[tuple[list[str], list[int]]]:
    """The jobs: one per cell, over every seed (its seeds train as one batched model)."""
    return [([v], list(cfg["seeds"])) for v in variants]


def train_group(cfg: dict, variants: list[str], seeds: list[int], ctx) -> dict[str, dict]:
    """train() for each of `variants`."""
    return {v: train(cfg, v, seeds, ctx) for v in variants}


def curve_rows(seed: int, phase: str, cell: str, rho: float | None, curve: np.ndarray) -> list[dict]:
    """History rows of one gradient profile (rho is empty for the gated cells); phases ending in _x hold ‖∂L/∂x_t‖
    by distance k = 0..T-1 from the last input, the others ‖∂L/∂h_t‖ by d = 0..T."""
    length = len(curve) - (0 if phase.endswith("_x") else 1)
    return [{"seed": seed, "phase": phase, "cell": cell, "rho": "" if rho is None else rho, "length": length,
             "distance": d, "log10_grad_norm": round(float(v), 6)} for d, v in enumerate(curve)]
