"""Image classifiers for the training-practice experiments: an MLP and a small CNN, no normalisation layers."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """A ReLU multilayer perceptron on flattened input, with dropout after each hidden activation.

    With dropout_p == 0 the dropout slots are nn.Identity, so models that differ only in
    dropout_p have the same parameter names, shapes and (under one seed) initial weights.
    """

    def __init__(self, in_features: int, hidden: list[int], n_classes: int, dropout_p: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout_p) if dropout_p > 0 else nn.Identity()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class _MaxPool2x2(torch.autograd.Function):
    """2×2, stride-2 max pooling run in channels-last layout; output and gradient in the layouts nn.MaxPool2d gives."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        # nn.MaxPool2d's output layout: channels-last only for channels-last input, NCHW for any other strides
        channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        layout = torch.channels_last if channels_last else torch.contiguous_format
        xc = x.contiguous(memory_format=torch.channels_last)
        y, idx = torch.ops.aten.max_pool2d_with_indices(xc, [2, 2], [2, 2])
        ctx.save_for_backward(xc, idx)
        ctx.layout = layout
        return y.contiguous(memory_format=layout)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        xc, idx = ctx.saved_tensors
        g = torch.ops.aten.max_pool2d_with_indices_backward(grad.contiguous(memory_format=torch.channels_last), xc,
                                                             [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
        return g.contiguous(memory_format=ctx.layout)


class MaxPool2x2(nn.Module):
    """nn.MaxPool2d(2), bit for bit, faster on NCHW input: pooling does no arithmetic and ATen's kernels for both
    layouts keep the first maximum of each window, so values and gradients are the same, while its channels-last
    kernel vectorises over channels (the NCHW one was the CNN's slowest operator). The convolutions stay in the
    model's layout, so their rounding, and every result of a run, is unchanged."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _MaxPool2x2.apply(x)


class SmallCNN(nn.Module):
    """Conv3×3-ReLU-MaxPool2 stages, then a ReLU hidden layer and a linear classifier; no BatchNorm, no dropout.

    Sized for 3×32×32 (CIFAR) input by default: each stage halves the spatial size.
    """

    def __init__(
        self,
        n_classes: int = 10,
        channels: tuple[int, ...] = (32, 64),
        hidden: int = 256,
        in_channels: int = 3,
        image_size: int = 32,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for c in channels:
            layers += [nn.Conv2d(width, c, 3, padding=1), nn.ReLU(), MaxPool2x2()]
            width = c
        side = image_size // 2 ** len(channels)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(width * side * side, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
