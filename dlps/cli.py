"""What every stage script shares: validated params, one-line errors, and a timing record (study stages)."""

from __future__ import annotations

import sys
from contextlib import contextmanager, nullcontext

from dlps.timing import timed  # first: its import time marks the stage's start


@contextmanager
def stage(name: str):
    """Validate params.yaml, yield it, record wall time and peak memory; known failures exit with one line."""
    from dlps.errors import UserError
    from dlps.malloc import keep_freed_memory
    from dlps.params import load
    from dlps.paths import timing_file

    keep_freed_memory()
    try:
        params = load()
        record = timing_file(name)
        with timed(record, name) if record else nullcontext():
            yield params
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
