"""Several SequenceRegressors of one cell kind trained as one batched model: stacked weights, torch.bmm over members.

Member k computes exactly what its own model computes (same equations, same gate layout from dlps.models.cells,
its own loss, gradient-norm clip and Adam state), so training M members at once follows the M one-model
trajectories; finished members are dropped from the batch with keep()."""

from __future__ import annotations

import torch

from dlps.models.cells import DISABLED, GATES, Recurrent, ablatable_gates

WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "head_weight", "head_bias")


def model_tensors(model) -> list[torch.Tensor]:
    """A SequenceRegressor's weights in WEIGHTS order, from the from-scratch cell or the built-in layer."""
    scratch = isinstance(model.rnn, Recurrent)
    rnn, suffix = (model.rnn.cell, "") if scratch else (model.rnn, "_l0")
    return [getattr(rnn, n + suffix) for n in WEIGHTS[:4]] + [model.head.weight, model.head.bias]


def model_kind(model) -> str:
    """'rnn', 'lstm' or 'gru' of a SequenceRegressor on either implementation."""
    if isinstance(model.rnn, Recurrent):
        return model.rnn.cell.kind
    return {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}[type(model.rnn).__name__]


def model_disabled(model) -> set[str]:
    """The gates a model's ablation fixes to their DISABLED constant (none for a built-in layer)."""
    cell = model.rnn.cell if isinstance(model.rnn, Recurrent) else None
    return {g for g in ablatable_gates(model_kind(model)) if cell is not None and not getattr(cell, f"{g}_gate")}


class Members:
    """M regressors of one kind: weights stacked on a leading member axis, forward on (M, B, T, D) inputs.

    weights[name] is (M, ...) of the one-model tensor `name`; off[gate] is an (M, 1, 1) bool mask of the members
    whose `gate` is disabled (present only for gates some member disables).
    """

    def __init__(self, kind: str, weights: dict[str, torch.Tensor], off: dict[str, torch.Tensor]):
        self.kind, self.weights, self.off = kind, weights, off
        for w in self.weights.values():
            w.requires_grad_(True)

    @classmethod
    def of(cls, models: list, states: list[list[torch.Tensor]] | None = None) -> "Members":
        """The members of `models` (one kind), with their current weights or, if given, states[k] (WEIGHTS
        order) for member k."""
        kinds = {model_kind(m) for m in models}
        if len(kinds) != 1:
            raise ValueError(f"members must share one cell kind, got {sorted(kinds)}")
        states = states or [[t.detach() for t in model_tensors(m)] for m in models]
        weights = {n: torch.stack([s[i] for s in states]).detach().clone() for i, n in enumerate(WEIGHTS)}
        disabled = [model_disabled(m) for m in models]
        device = weights["weight_ih"].device
        off = {g: torch.tensor([g in d for d in disabled], device=device).view(-1, 1, 1)
               for g in ablatable_gates(kinds.pop()) if any(g in d for d in disabled)}
        return cls(model_kind(models[0]), weights, off)

    def __len__(self) -> int:
        return self.weights["weight_ih"].shape[0]

    def state(self, k: int) -> list[torch.Tensor]:
        """Member k's weights (copies, WEIGHTS order)."""
        return [w[k].detach().clone() for w in self.weights.values()]

    def copy_to(self, k: int, model) -> None:
        """Write member k's weights into a SequenceRegressor (either implementation)."""
        with torch.no_grad():
            for dst, src in zip(model_tensors(model), self.weights.values()):
                dst.copy_(src[k])

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the members at `index` (a long tensor), in that order."""
        self.weights = {n: w.detach()[index].requires_grad_(True) for n, w in self.weights.items()}
        self.off = {g: m[index] for g, m in self.off.items()}

    def _gate(self, name: str, pre: torch.Tensor) -> torch.Tensor:
        """sigmoid(pre), or the DISABLED constant for the members that ablate this gate."""
        value = torch.sigmoid(pre)
        return torch.where(self.off[name], DISABLED[name], value) if name in self.off else value

    def _step(self, xi: torch.Tensor, rec: torch.Tensor, state: tuple) -> tuple:
        """One step of every member from input and recurrent projections (M, B, G*H), as the cells' step()."""
        names, n = GATES[self.kind], len(GATES[self.kind])
        if self.kind == "rnn":
            return (torch.tanh(xi + rec),)
        if self.kind == "lstm":
            pre = dict(zip(names, (xi + rec).chunk(n, dim=-1)))
            i, f, o = (self._gate(g, pre[g]) for g in ("input", "forget", "output"))
            c = f * state[1] + i * torch.tanh(pre["candidate"])
            return (o * torch.tanh(c), c)
        x, h = dict(zip(names, xi.chunk(n, dim=-1))), dict(zip(names, rec.chunk(n, dim=-1)))
        r = self._gate("reset", x["reset"] + h["reset"])
        z = self._gate("update", x["update"] + h["update"])
        cand = torch.tanh(x["candidate"] + r * h["candidate"])
        return ((1.0 - z) * cand + z * state[0],)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions (M, B) from inputs (M, B, T, D): member k's row is its model's output on x[k]."""
        w = self.weights
        m, b, t, d = x.shape
        xi = torch.baddbmm(w["bias_ih"].unsqueeze(1), x.reshape(m, b * t, d), w["weight_ih"].transpose(1, 2))
        h = x.new_zeros(m, b, w["weight_hh"].shape[2])
        state = (h, h) if self.kind == "lstm" else (h,)
        w_hh, b_hh = w["weight_hh"].transpose(1, 2), w["bias_hh"].unsqueeze(1)
        for xt in xi.view(m, b, t, -1).unbind(2):  # unbind: see Recurrent.forward
            state = self._step(xt, torch.baddbmm(b_hh, state[0], w_hh), state)
        return torch.baddbmm(w["head_bias"].unsqueeze(1), state[0], w["head_weight"].transpose(1, 2)).squeeze(-1)


def clip_grad_norms_(members: Members, max_norm: float) -> torch.Tensor:
    """torch.nn.utils.clip_grad_norm_ applied to each member on its own: every member's gradients are scaled by
    min(1, max_norm / (its total 2-norm + 1e-6)); returns the (M,) norms before clipping."""
    grads = [w.grad for w in members.weights.values()]
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads], dim=1)
    total = torch.linalg.vector_norm(norms, dim=1)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *[1] * (g.dim() - 1)))
    return total


class Adam:
    """torch.optim.Adam's update (its defaults; no weight decay or amsgrad), elementwise and so per member.

    Members only ever leave (keep()), never join, so every remaining member has taken the same number of steps."""

    def __init__(self, members: Members, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.lr, self.betas, self.eps, self.steps = lr, betas, eps, 0
        self.exp_avg = {n: torch.zeros_like(w) for n, w in members.weights.items()}
        self.exp_avg_sq = {n: torch.zeros_like(w) for n, w in members.weights.items()}

    def step(self, members: Members) -> None:
        """One update of every member from its gradients; then the gradients are cleared."""
        beta1, beta2 = self.betas
        self.steps += 1
        step_size = self.lr / (1 - beta1 ** self.steps)
        bias_correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        with torch.no_grad():
            for n, w in members.weights.items():
                m, v = self.exp_avg[n], self.exp_avg_sq[n]
                m.lerp_(w.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(w.grad, w.grad, value=1 - beta2)
                w.addcdiv_(m, (v.sqrt() / bias_correction2_sqrt).add_(self.eps), value=-step_size)
                w.grad = None

    def keep(self, index: torch.Tensor) -> None:
        """Keep the state of the members at `index` only (pair with Members.keep)."""
        self.exp_avg = {n: s[index] for n, s in self.exp_avg.items()}
        self.exp_avg_sq = {n: s[index] for n, s in self.exp_avg_sq.items()}


def drop(members: Members, opt: Adam, active: list, finished: list[bool]) -> list:
    """Take the finished members out of the batch and of the optimizer; return the entries of `active` (one per
    member, in member order) that remain."""
    if not any(finished):
        return active
    device = members.weights["weight_ih"].device
    index = torch.tensor([j for j, done in enumerate(finished) if not done], dtype=torch.long, device=device)
    members.keep(index)
    opt.keep(index)
    return [a for a, done in zip(active, finished) if not done]


def train_step(members: Members, opt: Adam, x: torch.Tensor, y: torch.Tensor, clip: float, autocast=None):
    """One Adam step of every member on its own batch (x (M, B, T, D), y (M, B)), each with its own mean-squared
    loss and clip; returns the (M,) losses."""
    import contextlib

    with autocast() if autocast else contextlib.nullcontext():
        losses = ((members(x) - y) ** 2).mean(dim=1)
    losses.sum().backward()  # a member's weights only reach its own loss, so each gets its own gradient
    clip_grad_norms_(members, clip)
    opt.step(members)
    return losses.detach()


def mse(members: Members, x: torch.Tensor, y: torch.Tensor, budget: int = 2 ** 24) -> torch.Tensor:
    """Each member's mean squared error (M,) on its own set (x (M, N, T, D), y (M, N)), in chunks of sequences
    whose input projections stay under `budget` numbers."""
    m, n, t = x.shape[:3]
    chunk = max(1, budget // (m * t * members.weights["weight_ih"].shape[1]))
    total = x.new_zeros(m, dtype=torch.float64)
    with torch.no_grad():
        for i in range(0, n, chunk):
            total += ((members(x[:, i:i + chunk]) - y[:, i:i + chunk]) ** 2).sum(dim=1).double()
    return total / n
