"""The allocator setting of the training processes, in the stage process and in the workers it spawns: a block
as large as a training step's biggest comes from the heap, where its memory stays in the process after free()."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from dlps.jobs.train import run_jobs

MIB = 64  # above the 32 MiB that glibc's adaptive threshold can reach: by default always a block mmap'd for it

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")


def _from_the_heap(mib: int = MIB) -> bool:
    """Whether a mib-MiB malloc() block lies in the heap (below the program break) rather than in a mapping of
    its own, which free() would hand back to the kernel."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = libc.sbrk.restype = ctypes.c_void_p
    libc.sbrk.argtypes, libc.free.argtypes = [ctypes.c_long], [ctypes.c_void_p]
    block = libc.malloc(mib << 20)
    inside = block < libc.sbrk(0)
    libc.free(block)
    return inside


def _in_fresh_process(keep: bool) -> bool:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_malloc; from dlps.malloc import "
            f"keep_freed_memory; {'keep_freed_memory(); ' if keep else ''}print(test_malloc._from_the_heap())")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip() == "True"


def test_a_step_sized_block_comes_from_the_heap():
    assert not _in_fresh_process(keep=False)  # glibc's default: mmap'd, and unmapped again on free
    assert _in_fresh_process(keep=True)


def test_spawned_workers_keep_freed_memory():
    assert run_jobs(_from_the_heap, [(MIB,), (MIB,)], workers=2) == [True, True]
