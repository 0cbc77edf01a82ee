"""What one sweep job does on its node: clone the commit, run one grid point as a DVC experiment, push it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

TAIL_LINES = 25


@dataclass(frozen=True)
class PointJob:
    """Everything a job needs, picklable: submitit ships it to the node."""

    name: str                       # the experiment name (deterministic from the point)
    overrides: tuple[str, ...]      # `key=value` strings, each passed to `dvc exp run -S`
    clone_url: str                  # where to clone from and push the experiment to
    commit: str                     # the baseline commit every point runs on
    workdir: str                    # this point's clone (replaced if it exists)
    cache_dir: Optional[str]        # the submitting repo's DVC cache to share, or None to pull from the remote
    dvc_remote: Optional[str]       # DVC remote for `dvc exp push -r`; None: the project's default
    targets: tuple[str, ...] = ()   # stages to run (default: the whole pipeline)


class PointFailed(RuntimeError):
    """A step of a grid point failed; the message names the point, the command and its output's tail."""


def tool(name: str) -> str:
    """The executable beside this Python (the job's venv), else whatever PATH finds."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def step(job: PointJob, cmd: list[str], cwd: Path, env: dict) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, flush=True)  # into the job's log as well
    if r.returncode != 0:
        tail = "\n".join(r.stdout.rstrip().splitlines()[-TAIL_LINES:])
        point = " ".join(job.overrides)
        raise PointFailed(f"grid point {point} ({job.name}): `{' '.join(cmd)}` exited {r.returncode}:\n{tail}")
    return r.stdout


def run_point(job: PointJob) -> dict:
    """Run one grid point end to end; returns what was pushed, raises PointFailed saying which step failed."""
    work = Path(job.workdir)
    if work.exists():  # a re-run of a point that failed before: start from a clean clone
        shutil.rmtree(work)
    work.parent.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    # The stages must import this clone's `dlps`, not an editable install of the submitting checkout.
    env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
           "PYTHONPATH": str(work) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    git, dvc = tool("git"), tool("dvc")
    step(job, [git, "clone", "-q", "--no-checkout", job.clone_url, str(work)], work.parent, env)
    step(job, [git, "checkout", "-q", "--detach", job.commit], work, env)
    if job.cache_dir:
        # --local: the cache location must not end up in the experiment's committed .dvc/config
        step(job, [dvc, "cache", "dir", "--local", job.cache_dir], work, env)
    run = [dvc, "exp", "run", "-n", job.name]
    for o in job.overrides:
        run += ["-S", o]
    if not job.cache_dir:
        run.append("--pull")
    step(job, run + list(job.targets), work, env)
    push = [dvc, "exp", "push", "origin", job.name] + (["-r", job.dvc_remote] if job.dvc_remote else [])
    step(job, push, work, env)
    return {"name": job.name, "overrides": list(job.overrides)}
