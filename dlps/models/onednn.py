"""nn.Linear with its three GEMMs run by oneDNN instead of torch.mm's BLAS: a variant the bench measures, not yet
used in training (it changes the results' bytes, so it waits for the next protocol's run)."""

from __future__ import annotations

import types

import torch
from torch import nn


def onednn_gemm(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """a @ bᵀ (+ bias) through oneDNN; strided views are read in place, without a copy."""
    return torch.ops.mkldnn._linear_pointwise(a, b, bias, "none", [], "")


class _Linear(torch.autograd.Function):
    """y = x Wᵀ + b forward; dx = dy W, dW = dyᵀ x, db = Σ dy backward: each product one oneDNN GEMM."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return onednn_gemm(x, weight, bias)

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        x, weight = ctx.saved_tensors
        return onednn_gemm(dy, weight.t()), onednn_gemm(dy.t(), x.t()), dy.sum(0) if ctx.has_bias else None


def _forward(self: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 2 or x.device.type != "cpu" or x.dtype != torch.float32:
        return nn.functional.linear(x, self.weight, self.bias)
    return _Linear.apply(x, self.weight, self.bias)


def use_onednn_linears(model: nn.Module) -> nn.Module:
    """Route every nn.Linear of `model` (2-D fp32 CPU input) through oneDNN, in place: same weights, same values
    up to the order of the sums."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.forward = types.MethodType(_forward, m)
    return model
