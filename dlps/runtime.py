"""Process-level set-up for a stage: device, threads, seeding, and wall time / peak memory records."""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from dlps.io import write_json

_START = time.perf_counter()  # stages import this module first, so this is close to process start


def pick_device(setting: str) -> str:
    """`auto` picks CUDA, then MPS, then CPU; an explicit device that is missing is an error."""
    import torch

    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if setting == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if available[d])
    if not available[setting]:
        raise RuntimeError(f"device: got {setting!r} but it is not available here; use auto or cpu")
    return setting


def set_threads(threads: int) -> int:
    """0 means one intra-op thread per core."""
    import torch

    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels where it has them."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@contextmanager
def timed(path: Path, stage: str):
    """Record the stage's wall time and peak memory in `path` (kept apart from results, which are
    deterministic, so that re-runs give bit-identical metrics)."""
    yield
    write_json(path, {"stage": stage, "wall_s": round(time.perf_counter() - _START, 3),
                      "peak_rss_mib": round(peak_rss_mib(), 1)})
