"""FLOP counts of the study's models (multiply-adds × 2 of their matmuls and convolutions), for the roofline."""

from __future__ import annotations

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
N_IMAGE_TEST = 10_000  # MNIST, Fashion-MNIST and CIFAR-10 test sets


def mlp_forward(sizes: list[int]) -> int:
    """FLOPs of one example through an MLP with these layer widths."""
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def cnn_forward(channels: list[int], hidden: int, side: int = 32, in_channels: int = 3, classes: int = 10) -> int:
    """FLOPs of one image through the SmallCNN: 3×3 same-padded convs, each followed by a 2×2 max-pool."""
    total, c_in = 0, in_channels
    for c in channels:
        total += 2 * side * side * c_in * c * 9
        side, c_in = side // 2, c
    return total + mlp_forward([c_in * side * side, hidden, classes])


def recurrent_forward(kind: str, hidden: int, inputs: int, length: int) -> int:
    """FLOPs of one sequence through a recurrent cell (every gate row is computed, ablated or not)."""
    return 2 * GATES[kind] * hidden * (inputs + hidden) * length


def image_training(cfg: dict, runs: dict, forward: int, epochs_of, eval_train: int, tests: int) -> float:
    """An image classifier's training FLOPs over all its runs: per epoch, 3 × the forward pass on the training
    images and 1 × on the evaluated training and validation images; then `tests` passes over the test set."""
    per_epoch = (3 * cfg["n_train"] + eval_train + cfg["n_val"]) * forward
    return sum(epochs_of(r) * per_epoch + tests * N_IMAGE_TEST * forward for rows in runs.values() for r in rows)
