"""Synthetic sequence tasks with known answers, generated from a NumPy rng as float32 NumPy arrays."""

from __future__ import annotations

import numpy as np

ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015).

    Returns inputs (n, length, 2) and targets (n,), float32 NumPy arrays (torch.from_numpy shares their memory).
    Channel 0 holds U[0, 1] values; channel 1 is a marker with exactly two 1s, one in the first half
    (positions [0, length // 2)) and one in the second half. The target is the sum of the two marked values.
    Always predicting 1, the target's mean, scores MSE = Var(u1 + u2) = 2/12 = 1/6 (ADDING_BASELINE_MSE).
    """
    if length < 2:
        raise ValueError(f"length must be at least 2, got {length}")
    half = length // 2
    values = rng.uniform(0.0, 1.0, size=(n, length))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    rows = np.arange(n)
    markers = np.zeros((n, length))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y
