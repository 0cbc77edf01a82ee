"""glibc's malloc set to keep the memory a training step frees, so the next step does not fault it in again."""

from __future__ import annotations

import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt() parameter numbers (glibc's malloc.h)

# Every training step frees and re-allocates tensors of the same sizes (an LSTM's gate workspace over a batch of
# reviews, a CNN's activations). glibc serves a block above its mmap threshold with a fresh mmap and unmaps it on
# free, so the kernel zero-fills the next step's block page by page again. The threshold adapts to the blocks
# freed, but torch asks for 64-byte-aligned blocks, which glibc requests a little larger than the block just freed,
# so it never catches up; and a free heap top above the trim threshold is handed back as well. Fixed thresholds
# above a step's blocks keep that memory in the process. Where a block lies changes how fast a step runs, never
# what it computes.
MMAP_THRESHOLD = 256 << 20
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Raise this process's mmap and trim thresholds; False (and nothing changed) where the C library is not
    glibc. Called at the start of every stage process and of every worker process it spawns."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl, or no mallopt
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
