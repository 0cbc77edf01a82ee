"""Progress of training on stderr: a live bar on a terminal, else one line per finished task; DLPS_PROGRESS=0 silences.

    with progress.task("dropout p=0.2 seed 3", total=100, unit="epoch", job=(2, 5)) as bar:
        bar.update(1, loss=0.123)   # advance one epoch; show the current loss (any named numbers)

A task opened inside another (per-epoch inside per-job) inherits its job number; on a terminal it is one more row
of the live display; when done, the innermost task prints the job's line (one line per job, not one per level):

    [2/5] dropout p=0.2 seed 3: 100/100 epoch, loss 0.123, 41.2s

Lines, not a bar, also in worker processes (several live bars would garble one terminal) and where stderr is not
a terminal (`dvc repro` logs). DLPS_PROGRESS=lines forces lines. Never stdout, and nothing a stage writes depends
on it: dlps.tools.dag does not make it a stage dependency.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

_stack: list["Bar"] = []  # the open tasks of this process, outermost first
_live: Progress | None = None  # the live display while any task is open in bar mode


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def eta(elapsed: float, done: float, total: float | None) -> float | None:
    """Seconds left at the mean rate so far, or None before the first step or without a total."""
    return None if not done or total is None else elapsed / done * max(total - done, 0)


def mode(console: Console) -> str:
    """"off", "lines" or "bar", from DLPS_PROGRESS, the process (a worker or not) and the console."""
    env = os.environ.get("DLPS_PROGRESS", "").lower()
    if env in ("0", "off", "false", "no"):
        return "off"
    if env == "lines" or multiprocessing.parent_process() is not None or not console.is_terminal:
        return "lines"
    return "bar"


class Bar:
    """One open task: `update` advances it and records the latest metrics (loss, ...) to show."""

    def __init__(self, label: str, total: float | None, unit: str, job: tuple[int, int] | None,
                 console: Console, mode: str):
        self.label, self.total, self.unit, self.job = label, total, unit, job
        self.console, self.mode = console, mode
        self.done, self.metrics, self.start = 0.0, {}, time.perf_counter()
        self.children = 0  # nested tasks opened: a parent with children leaves the line to them
        self.id: TaskID | None = None

    @property
    def title(self) -> str:
        return f"[{self.job[0]}/{self.job[1]}] {self.label}" if self.job else self.label

    def update(self, advance: float = 1, **metrics: float) -> None:
        """Advance by `advance` units and show `metrics` (e.g. loss=0.12) as the current values."""
        self.done += advance
        self.metrics.update({k: float(v) for k, v in metrics.items()})
        if self.id is not None and _live is not None:
            left = eta(time.perf_counter() - self.start, self.done, self.total)
            _live.update(self.id, completed=self.done, info=_fmt(self.metrics),
                         eta="" if left is None else f"eta {_clock(left)}")

    def line(self) -> str:
        """The one-line summary: what, how far, the last metrics, the time taken."""
        far = f"{self.done:g}/{self.total:g}" if self.total is not None else f"{self.done:g}"
        parts = [f"{far} {self.unit}", _fmt(self.metrics), f"{time.perf_counter() - self.start:.1f}s"]
        return f"{self.title}: " + ", ".join(p for p in parts if p)


def _columns():
    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("{task.fields[eta]}"))


@contextmanager
def task(label: str, total: float | None = None, unit: str = "step", job: tuple[int, int] | None = None,
         console: Console | None = None) -> Iterator[Bar]:
    """Show progress of `label` (`total` `unit`s, job i of n) while the block runs; yield its Bar.

    Nested tasks inherit the enclosing job number and console; `console` (default: stderr) is for tests."""
    global _live
    parent = _stack[-1] if _stack else None
    console = parent.console if parent else console or Console(stderr=True)
    bar = Bar(label, total, unit, job or (parent.job if parent else None), console,
              parent.mode if parent else mode(console))
    if parent:
        parent.children += 1
    if bar.mode == "bar":
        if _live is None:
            _live = Progress(*_columns(), console=console, transient=True)
            _live.start()
        bar.id = _live.add_task(bar.title, total=total, unit=unit, info="", eta="")
    _stack.append(bar)
    try:
        yield bar
    finally:
        _stack.pop()
        if bar.id is not None and _live is not None:
            _live.remove_task(bar.id)
        if not _stack and _live is not None:
            _live.stop()
            _live = None
        if bar.mode != "off" and not bar.children:  # on a terminal too: the finished jobs stay above the bar
            console.print(bar.line(), markup=False, highlight=False, soft_wrap=True)
