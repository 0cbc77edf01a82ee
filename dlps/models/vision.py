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
            layers += [nn.Conv2d(width, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            width = c
        side = image_size // 2 ** len(channels)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(width * side * side, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
