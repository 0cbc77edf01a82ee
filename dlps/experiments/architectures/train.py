"""Training for the architectures experiment: each configuration trained with Adam on fresh adding-problem
batches per lag and seed, checkpointed on a fixed validation set, scored once on a fixed test set."""

from __future__ import annotations

import math
import time

import numpy as np

from dlps.experiments.architectures.spec import CONFIGS, SOLVED_ABS_ERR, lag_key, lr_of
from dlps.data.tasks import adding_problem


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


# Members per batched job: batching gains little beyond about five members of these small cells, and several
# jobs per kind keep the worker processes busy; a fixed number, so the split (and every bit of the results) does
# not depend on how many workers run the jobs.
MEMBERS_PER_JOB = 8


def groups(cfg: dict, variants: list[str]) -> list[tuple[list[str], list[int]]]:
    """The batched jobs: every variant of one cell kind over a contiguous chunk of the seeds, about
    MEMBERS_PER_JOB members each, kinds in order of their first variant."""
    kinds: dict[str, list[str]] = {}
    for v in variants:
        kinds.setdefault(CONFIGS[v][0], []).append(v)
    seeds = list(cfg["seeds"])
    out = []
    for vs in kinds.values():
        per = max(1, math.ceil(MEMBERS_PER_JOB / len(vs)))
        out += [(vs, seeds[i:i + per]) for i in range(0, len(seeds), per)]
    return out


class Member:
    """The one-model bookkeeping of a member: validation history, best checkpoint, early stop, timing share."""

    def __init__(self, cfg: dict, variant: str, seed: int, lag: int):
        self.cfg, self.variant, self.seed, self.lag = cfg, variant, seed, lag
        self.history, self.losses, self.best, self.best_state = [], [], math.inf, None
        self.first_success, self.below, self.done, self.steps, self.wall, self.cpu = None, 0, 0, 0, 0.0, 0.0

    def validated(self, step: int, val: float, state, solved: float = 1.0) -> bool:
        """Record a validation at `step` (state: a callable giving the current weights; solved: the fraction of
        validation sequences with |error| < SOLVED_ABS_ERR); whether to stop."""
        cfg = self.cfg
        self.history.append({"seed": self.seed, "lag": self.lag, "step": step,
                             "train_mse": float(np.mean(self.losses)), "val_mse": val})
        self.losses = []
        if val < self.best:
            self.best, self.best_state = val, state()
        self.below = self.below + 1 if val < cfg["success_mse"] else 0
        if self.below and self.first_success is None:
            self.first_success = step
        # stopping also needs the source's criterion (most validation sequences solved), so a stopped model is
        # not cut off before it can meet the claim judged on it; callers without the key stop on MSE alone
        self.done = self.done + 1 if self.below and solved >= cfg.get("stop_solved_frac", 0.0) else 0
        return bool(cfg["stop_after"] and self.done >= cfg["stop_after"])

    def row(self, test: float, solved: float) -> dict:
        cfg = self.cfg
        return {"test_mse": test, "log10_test_mse": math.log10(max(test, 1e-12)),
                "success": float(test < cfg["success_mse"]), "solved_frac": solved,
                "steps_to_success": self.first_success if self.first_success is not None else cfg["max_steps"],
                "params": effective_params(self.variant, cfg["hidden"]), "best_val_mse": self.best,
                "steps": self.steps, "ms_per_step": 1000 * self.wall / self.steps,
                "cpu_ms_per_step": 1000 * self.cpu / self.steps}


def seed_sets(n: int, lag: int, rngs: list, device: str):
    """One adding-problem set of n sequences per rng, stacked: x (S, n, lag, 2), y (S, n)."""
    import torch

    xs, ys = zip(*(adding_problem(n, lag, r) for r in rngs))
    return torch.from_numpy(np.stack(xs)).to(device), torch.from_numpy(np.stack(ys)).to(device)


def run_members(cfg: dict, variants: list[str], lag: int, seeds: list[int], rt, bar=None) -> list[tuple[dict, list]]:
    """Train every (variant, seed) of one cell kind at one lag as one batched model; (row, history) per member,
    variant-major. Each member is run_lag's one model: Adam on its seed's fresh batch each step (members of a
    seed share it), validation every eval_every steps, best-validation checkpoint, early stop, one test score.

    A finished member leaves the batch. ms_per_step and cpu_ms_per_step are per member-step: each batched step's
    time is split evenly over the members in it, and a member's share is averaged over its steps.
    """
    import torch

    from dlps.models.members import Adam, Members, drop, train_step

    device = rt.device
    rngs = [data_rngs(s, lag) for s in seeds]
    xv, yv = seed_sets(cfg["n_val"], lag, [r[1] for r in rngs], device)
    pairs = [(v, s) for v in variants for s in seeds]
    members = Members.of([build(v, cfg["hidden"], s).to(device) for v, s in pairs])
    opt = Adam(members, lr_of(cfg, variants[0]))  # Members holds one cell kind, so one rate: its kind's
    books = [Member(cfg, v, s, lag) for v, s in pairs]
    active = list(range(len(pairs)))  # books[active[j]] is member j of the batch
    for step in range(1, cfg["max_steps"] + 1):
        live = sorted({seeds.index(books[k].seed) for k in active})
        x, y = (torch.from_numpy(np.stack(a)).to(device)
                for a in zip(*(adding_problem(cfg["batch"], lag, rngs[i][0]) for i in live)))
        pick = torch.tensor([live.index(seeds.index(books[k].seed)) for k in active], device=device)
        t0, c0 = time.perf_counter(), time.process_time()
        losses = train_step(members, opt, x[pick], y[pick], cfg["clip"], rt.autocast).tolist()  # syncs
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        for k, loss in zip(active, losses):
            b = books[k]
            b.losses.append(loss)
            b.steps, b.wall, b.cpu = step, b.wall + wall / len(active), b.cpu + cpu / len(active)
        if bar is not None:
            bar.update(1, members=len(active), loss=float(np.mean(losses)))
        if step % cfg["eval_every"] and step != cfg["max_steps"]:
            continue
        at = torch.tensor([seeds.index(books[k].seed) for k in active], device=device)
        vals, solved = test_scores(members, xv[at], yv[at], SOLVED_ABS_ERR)
        stop = [books[k].validated(step, val, lambda j=j: members.state(j), sol) for j, (k, val, sol) in
                enumerate(zip(active, vals, solved))]
        active = drop(members, opt, active, stop)
        if not active:
            break
    best = Members.of([build(v, cfg["hidden"], s) for v, s in pairs], [b.best_state for b in books])
    xt, yt = seed_sets(cfg["n_test"], lag, [r[2] for r in rngs], device)
    at = torch.tensor([seeds.index(s) for _, s in pairs], device=device)
    tests, solved = test_scores(best, xt[at], yt[at], SOLVED_ABS_ERR)
    return [(b.row(t, s), b.history) for b, t, s in zip(books, tests, solved)]


def test_scores(members, x, y, tol: float, budget: int = 2 ** 24) -> tuple[list[float], list[float]]:
    """Each member's test MSE and the fraction of its sequences with |error| < tol (M members, x (M, N, T, D),
    y (M, N)), in chunks of sequences whose input projections stay under `budget` numbers (as members.mse)."""
    import torch

    m, n, t = x.shape[:3]
    chunk = max(1, budget // (m * t * members.weights["weight_ih"].shape[1]))
    sq, hit = x.new_zeros(m, dtype=torch.float64), x.new_zeros(m, dtype=torch.float64)
    with torch.no_grad():
        for i in range(0, n, chunk):
            err = members(x[:, i:i + chunk]) - y[:, i:i + chunk]
            sq += (err ** 2).sum(dim=1).double()
            hit += (err.abs() < tol).sum(dim=1).double()
    return (sq / n).tolist(), (hit / n).tolist()


def run_lag(cfg: dict, variant: str, lag: int, seed: int, rt) -> tuple[dict, list[dict]]:
    """Train one model at one lag with Adam on fresh batches each step; validate every eval_every steps.

    Training stops early once validation MSE has been below success_mse, with at least stop_solved_frac of the
    validation sequences solved (|error| < SOLVED_ABS_ERR), at stop_after consecutive evaluations (stop_after = 0:
    never). The test set is scored once, with the weights of the best validation evaluation.
    steps_to_success is the step of the first evaluation with validation MSE below success_mse, or max_steps.
    """
    return run_members(cfg, [variant], lag, [seed], rt)[0]


def train_group(cfg: dict, variants: list[str], seeds: list[int], ctx) -> dict[str, dict]:
    """Every seed of each configuration (all of one cell kind) at every lag, batched: per variant, per-seed rows
    (headline metrics at the longest lag, and each metric per lag as <metric>_lag<L>) and the validation curves."""
    from dlps import progress

    rt = ctx.runtime("fp32", key="architectures")  # fp32: tiny cells, nothing for a lower precision to gain
    longest = max(cfg["lags"])
    rows = {(v, s): {"seed": s} for v in variants for s in seeds}
    curves = {}
    for lag in sorted(cfg["lags"]):
        with progress.task(f"lag {lag}", total=cfg["max_steps"], unit="step") as bar:
            results = run_members(cfg, variants, lag, seeds, rt, bar)
        for (v, s), (row, hist) in zip(rows, results):
            rows[v, s] |= {lag_key(k, lag): x for k, x in row.items()} | (row if lag == longest else {})
            curves[v, s, lag] = hist
    lags = sorted(cfg["lags"])
    return {v: {"runs": [rows[v, s] for s in seeds],
                "history": [h for s in seeds for lag in lags for h in curves[v, s, lag]]} for v in variants}


def train(cfg: dict, variant: str, seeds: list[int], ctx) -> dict:
    """Every seed of one configuration at every lag (train_group with one variant)."""
    return train_group(cfg, [variant], seeds, ctx)[variant]
