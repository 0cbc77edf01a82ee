"""Seeded classifier training over in-memory tensors: SGD/Adam, explicit L2, early stopping, eval-mode metrics,
and the per-seed driver of the image experiments. Device and precision come from a dlps.runtime.Runtime."""

from __future__ import annotations

import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlps import progress
from dlps.runtime import Runtime

Stats = tuple[torch.Tensor, torch.Tensor]


def _autocast(rt: Runtime | None):
    """The runtime's autocast context (on its device's type), or none at all in fp32."""
    return nullcontext() if rt is None else rt.autocast()


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run.

    l2 is λ in an explicit penalty λ/2·Σ‖W‖² over weight matrices and conv kernels (parameters
    with ≥ 2 dims; biases excluded), added to the mean minibatch cross-entropy. Its gradient is
    λW, so with SGD it equals weight_decay=λ applied to weights only; with Adam it is coupled L2
    regularisation (scaled by the adaptive denominators), not AdamW's decoupled decay.
    patience=None trains all `epochs`; otherwise training stops by `early_stop_epoch`'s rule.
    Precision is not here: it is the Runtime's (fit's and evaluate's `rt`).
    train_eval_size limits the eval-mode training metrics to the first that many examples.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    l2: float = 0.0
    patience: int | None = None
    min_delta: float = 0.0
    channels_last: bool = False
    eval_batch_size: int = 512
    train_eval_size: int | None = None


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def init_model(model: nn.Module, seed: int) -> nn.Module:
    """Seed everything, then re-initialise every submodule's parameters in module order.

    Models with the same parameter shapes therefore start from identical weights under one
    seed, whatever parameter-free modules (dropout) they contain.
    """
    seed_everything(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model


def _weights(model: nn.Module):
    return (p for p in model.parameters() if p.dim() >= 2)


def l2_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """λ/2·Σ‖W‖² over weight matrices and kernels (biases excluded), as a differentiable scalar."""
    return lam / 2 * sum(p.pow(2).sum() for p in _weights(model))


def weight_norm(model: nn.Module) -> float:
    """L2 norm of all weight matrices and kernels taken together, biases excluded."""
    with torch.no_grad():
        return math.sqrt(sum(p.pow(2).sum().item() for p in _weights(model)))


def _scale(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def input_stats(x: torch.Tensor, chunk: int = 4096) -> Stats:
    """Mean and std of x (uint8 scaled to [0, 1]): per channel for (N, C, H, W) input, else one scalar.

    Returned shaped to broadcast against a batch. Accumulated in float64 chunks so that a
    uint8 training set is never materialised as float all at once.
    """
    per_channel = x.dim() == 4
    dims = (0, 2, 3) if per_channel else tuple(range(x.dim()))
    total = total_sq = 0.0
    for i in range(0, len(x), chunk):
        xb = _scale(x[i : i + chunk]).double()
        total = total + xb.sum(dim=dims)
        total_sq = total_sq + xb.pow(2).sum(dim=dims)
    count = x.numel() // x.shape[1] if per_channel else x.numel()
    mean = total / count
    std = (total_sq / count - mean.pow(2)).clamp_min(1e-12).sqrt()
    shape = (1, -1, 1, 1) if per_channel else ()
    return mean.float().reshape(shape), std.float().reshape(shape)


def prepare(x: torch.Tensor, stats: Stats, channels_last: bool = False) -> torch.Tensor:
    """A float32 model input from a raw batch: uint8 scaled to [0, 1], then standardised with `stats`."""
    mean, std = stats
    out = (_scale(x) - mean) / std
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    stats: Stats,
    batch_size: int = 512,
    rt: Runtime | None = None,
    channels_last: bool = False,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` in eval mode on (x, y), forward passes under `rt`'s autocast
    (None: fp32); x, y and the model live on one device (rt.device). Restores the model's mode."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            xb, yb = prepare(x[i : i + batch_size], stats, channels_last), y[i : i + batch_size]
            with _autocast(rt):
                logits = model(xb).float()
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def _stop_epoch(val_losses: list[float], patience: int, min_delta: float) -> int | None:
    best, waited = math.inf, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best - min_delta:
            best, waited = loss, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return None


def early_stop_epoch(val_losses: list[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """Where patience-based early stopping ends a recorded validation-loss curve (1-based epochs).

    An epoch improves if its loss is below the best so far by more than `min_delta`; training
    stops once `patience` consecutive epochs have not improved. Returns (stop_epoch, best_epoch):
    stop_epoch is the last epoch trained (len(val_losses) if the rule never fires), best_epoch
    the epoch of lowest validation loss up to stop_epoch (non-finite losses never win), i.e. the
    weights to restore. The rule looks only backwards, so a run stopped live by `fit` is exactly
    the first stop_epoch epochs of the full run with the same seed.
    """
    stop = _stop_epoch(val_losses, patience, min_delta) or len(val_losses)
    return stop, _best_epoch(val_losses[:stop])


def _best_epoch(val_losses: list[float]) -> int:
    finite = np.nan_to_num(np.asarray(val_losses, dtype=float), nan=np.inf, posinf=np.inf)
    return 1 + int(np.argmin(finite))


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum or Adam over all parameters, as cfg.optimizer says."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {cfg.optimizer!r}")


def clone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached deep copy of the model's state_dict."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def fit(
    model: nn.Module,
    data: Mapping[str, torch.Tensor],
    cfg: TrainConfig | Mapping,
    seed: int,
    stats: Stats | None = None,
    log: Callable[[dict], None] | None = None,
    rt: Runtime | None = None,
    label: str = "fit",
) -> tuple[list[dict], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Train `model` on data["x_train"], data["y_train"], validating on data["x_val"], data["y_val"].

    Inputs are uint8 (or float) tensors normalised per batch with `stats` (default: the
    training set's `input_stats`); labels are int64. The model is re-initialised under `seed`
    (see `init_model`), and the minibatch order comes from its own generator seeded with
    `seed`, so runs sharing a seed share initial weights and data order even when dropout
    draws differ. Forward passes run under `rt`'s autocast (None: fp32); the model and the
    tensors must already be on rt.device. Each epoch appends a history row: epoch, train_loss and train_acc (eval
    mode, on the training data), val_loss, val_acc, train_loss_running (mean minibatch
    cross-entropy in train mode, during the epoch), train_time_s (the optimisation pass) and
    epoch_time_s (including evaluation). Training stops early by `early_stop_epoch`'s rule when
    cfg.patience is set, and after any epoch whose training loss is not finite.

    Returns (history, best_state, final_state): state_dict copies at the lowest validation
    loss and at the end. The model is left in its final state. Progress (per epoch) is shown as `label`.
    """
    cfg = cfg if isinstance(cfg, TrainConfig) else TrainConfig(**cfg)
    x_train, y_train, x_val, y_val = (data[k] for k in ("x_train", "y_train", "x_val", "y_val"))
    init_model(model, seed)
    stats = input_stats(x_train) if stats is None else stats
    channels_last = cfg.channels_last and x_train.dim() == 4
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    order = torch.Generator().manual_seed(seed)
    n = len(x_train)
    n_eval = n if cfg.train_eval_size is None else min(n, cfg.train_eval_size)
    eval_kw = dict(stats=stats, batch_size=cfg.eval_batch_size, rt=rt, channels_last=channels_last)

    history: list[dict] = []
    best_state, best_loss = None, math.inf
    with progress.task(label, total=cfg.epochs, unit="epoch") as bar:
        for epoch in range(1, cfg.epochs + 1):
            start = time.perf_counter()
            model.train()
            running = 0.0
            perm = torch.randperm(n, generator=order)
            for i in range(0, n, cfg.batch_size):
                idx = perm[i : i + cfg.batch_size].to(x_train.device)
                xb = prepare(x_train[idx], stats, channels_last)
                with _autocast(rt):
                    logits = model(xb)
                ce = F.cross_entropy(logits.float(), y_train[idx])
                loss = ce + l2_penalty(model, cfg.l2) if cfg.l2 > 0 else ce
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                running += ce.item() * len(idx)
            train_time = time.perf_counter() - start

            train_loss, train_acc = evaluate(model, x_train[:n_eval], y_train[:n_eval], **eval_kw)
            val_loss, val_acc = evaluate(model, x_val, y_val, **eval_kw)
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "train_loss_running": running / n,
                "train_time_s": train_time,
                "epoch_time_s": time.perf_counter() - start,
            }
            history.append(row)
            if log is not None:
                log(row)
            bar.update(1, loss=train_loss, val_loss=val_loss)
            # Same tie-breaking as _best_epoch: first strict minimum, non-finite never wins.
            if best_state is None or (math.isfinite(val_loss) and val_loss < best_loss):
                best_state, best_loss = clone_state(model), val_loss if math.isfinite(val_loss) else math.inf
            if not math.isfinite(row["train_loss_running"]):
                break
            if cfg.patience is not None and _stop_epoch([r["val_loss"] for r in history], cfg.patience, cfg.min_delta):
                break
    return history, best_state, clone_state(model)


def train_per_seed(ctx, dataset: str, cfg: dict, seeds: list[int], section: str, run_seed) -> dict:
    """Call `run_seed(data, seed)` on each seed's split of the prepared `dataset` (numpy arrays, read from
    ctx.data); gather the per-seed rows and history rows.

    This is the `train` of every image experiment: the seed fixes the split here and, inside `run_seed`, the
    initial weights and batch order, so variants compared under one seed are paired. `run_seed` moves what it
    needs to its Runtime's device.
    """
    from dlps.data import images

    arrays = images.load(ctx.data, dataset)
    runs, history = [], []
    for seed in seeds:
        run, rows = run_seed(images.split(arrays, cfg, seed, section), seed)
        runs.append(run)
        history += rows
    return {"runs": runs, "history": history}
