"""Per-seed columns of an experiment's runs, as float arrays: the judges' and figures' one way to read a metric."""

from __future__ import annotations

import numpy as np


def values(rows: list[dict], key: str) -> np.ndarray:
    """One field of every row (one run per seed)."""
    return np.array([r[key] for r in rows], dtype=float)


def col(runs: dict, variant: str, key: str) -> np.ndarray:
    """One field of every seed's run of a variant."""
    return values(runs[variant], key)
