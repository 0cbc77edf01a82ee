"""Process-level set-up that can change a stage's results: device, threads and deterministic kernels."""

from __future__ import annotations

import os

from dlps.errors import UserError


def pick_device(setting: str) -> str:
    """`auto` picks CUDA, then MPS, then CPU; an explicit device that is missing is an error."""
    import torch

    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if setting == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if available[d])
    if not available[setting]:
        raise UserError(f"device: got {setting!r} but it is not available here; allowed: auto or cpu")
    return setting


def set_threads(threads: int) -> int:
    """0 means one intra-op thread per core."""
    import torch

    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def deterministic() -> None:
    """Ask torch for deterministic kernels wherever it has them (it warns where it has none)."""
    import torch

    torch.use_deterministic_algorithms(True, warn_only=True)
