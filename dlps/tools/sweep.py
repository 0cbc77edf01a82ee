"""A parameter grid as DVC experiments, one submitit job per point (locally or on SLURM), pushed to a git remote."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from dlps.errors import UserError
from dlps.tools.sweep_job import PointJob, run_point, tool

KEY = re.compile(r"^\+?(?:[\w.\-/]+:)?[A-Za-z_][\w.\-\[\]]*$")  # [file:]key, as `dvc exp run -S` takes it
MAX_NAME = 80


def split_values(text: str) -> list[str]:
    """Split on the commas that are not inside brackets or quotes: `1,[2,3],'a,b'` -> 3 values."""
    values, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(cur)
            cur = ""
            continue
        cur += ch
    values.append(cur)
    return [v.strip() for v in values]


def parse_grid(specs: Sequence[str]) -> list[tuple[tuple[str, str], ...]]:
    """`-S key=v1,v2` specs -> every point of their cartesian product, each a tuple of (key, value) in given order."""
    if not specs:
        raise UserError("no grid given; pass at least one -S 'section.key=value1,value2'")
    axes: list[tuple[str, list[str]]] = []
    for spec in specs:
        key, eq, values = spec.partition("=")
        key = key.strip()
        if not eq or not KEY.match(key):
            raise UserError(f"grid spec {spec!r}: expected KEY=VALUE[,VALUE...] "
                            f"such as 'overfitting.noise_std=0.1,0.4'")
        vals = split_values(values)
        if any(v == "" for v in vals):
            raise UserError(f"grid spec {spec!r}: an empty value; remove the stray comma or quote the value")
        if key in (k for k, _ in axes):
            raise UserError(f"grid spec {spec!r}: {key} is given twice; list all its values in one -S")
        axes.append((key, list(dict.fromkeys(vals))))
    return [tuple(zip([k for k, _ in axes], combo)) for combo in itertools.product(*(v for _, v in axes))]


def point_name(point: tuple[tuple[str, str], ...], prefix: str = "sweep") -> str:
    """A deterministic experiment name, safe as a git ref; a hash of the point is added where characters were lost."""
    raw = "-".join(f"{k}-{v}" for k, v in point)
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", raw)).strip("._-")
    safe = re.sub(r"\.lock$", "_lock", safe)  # git refuses ref names ending in .lock
    name = f"{prefix}-{safe}"
    if safe != raw or len(name) > MAX_NAME:
        digest = hashlib.sha1(repr(point).encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME - 9].rstrip('._-')}-{digest}"
    return name


def overrides(point: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(f"{k}={v}" for k, v in point)


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


def remote_url(repo: Path, remote: str) -> str:
    r = git(repo, "remote", "get-url", remote)
    if r.returncode != 0:
        raise UserError(f"git remote {remote!r} does not exist; add it (`git remote add {remote} URL`) or pass "
                        f"--git-remote NAME (see `git remote -v`)")
    url = r.stdout.strip()
    local = (repo / url) if not re.match(r"^[\w+.-]+://|^[^/]+@[^/]+:", url) else None
    return str(local.resolve()) if local is not None and local.exists() else url


def remote_refs(repo: Path, remote: str, *patterns: str) -> dict[str, str]:
    """ref -> sha on the remote, read with `git ls-remote` (so it is current, not the last fetch)."""
    r = git(repo, "ls-remote", remote, *patterns)
    if r.returncode != 0:
        raise UserError(f"cannot read git remote {remote!r}: {(r.stderr.strip().splitlines() or [''])[-1]}; "
                        f"check its URL and access (`git ls-remote {remote}`)")
    return {ref: sha for sha, ref in (line.split("\t") for line in r.stdout.splitlines() if "\t" in line)}


def check_clean_and_pushed(repo: Path, remote: str) -> str:
    """The HEAD commit, if the work tree is clean and the commit is on the remote; otherwise a UserError."""
    dirty = git(repo, "status", "--porcelain").stdout.splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise UserError(f"the work tree has uncommitted changes ({shown}); the jobs run the committed HEAD, so "
                        f"commit (and push) or stash them first")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    shas = set(remote_refs(repo, remote, "refs/heads/*", "refs/tags/*").values())
    if head not in shas and not any(git(repo, "merge-base", "--is-ancestor", head, s).returncode == 0 for s in shas):
        raise UserError(f"commit {head[:12]} is not on git remote {remote!r}; the jobs clone it from there: "
                        f"`git push {remote} HEAD` first")
    return head


def pushed_names(repo: Path, remote: str, baseline: str) -> set[str]:
    """Experiment names already on the remote for this baseline (DVC keeps them as refs/exps/ab/cdef.../NAME)."""
    prefix = f"refs/exps/{baseline[:2]}/{baseline[2:]}/"
    return {ref[len(prefix):] for ref in remote_refs(repo, remote, "refs/exps/*") if ref.startswith(prefix)}


def dvc_out(repo: Path, *args: str) -> str:
    r = subprocess.run([tool("dvc"), *args], cwd=repo, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def check_dvc_remote(repo: Path, name: Optional[str]) -> Optional[str]:
    """The DVC remote the jobs push to, checked to be visible from a fresh clone (not only in .dvc/config.local)."""
    visible = set()
    for level in ("--project", "--global", "--system"):
        visible |= {line.split()[0] for line in dvc_out(repo, "remote", "list", level).splitlines() if line.strip()}
    if name is None:
        name = dvc_out(repo, "remote", "default", "--project") or dvc_out(repo, "remote", "default") or None
        if name is None:
            raise UserError("no DVC remote to push the experiments' data to; add one to the project "
                            "(`dvc remote add -d NAME URL`, commit .dvc/config, push) or pass --dvc-remote NAME")
    if name not in visible:
        raise UserError(f"DVC remote {name!r} is not in the project's, global or system config, so the jobs' clones "
                        f"cannot see it; `dvc remote add --project {name} URL`, commit and push, or pass another "
                        f"--dvc-remote")
    return name


@dataclass
class Outcome:
    """One grid point's fate, for the summary table."""

    name: str
    point: tuple[tuple[str, str], ...]
    job_id: str = "-"
    state: str = "PENDING"
    why: str = ""
    job: object = field(default=None, repr=False)


def make_executor(kind: str, folder: Path, partition: Optional[str], gpus: int, time_min: int, cpus: int,
                  n_points: int):
    import submitit

    ex = submitit.AutoExecutor(folder=folder, cluster=kind)
    params = {"timeout_min": time_min, "cpus_per_task": cpus, "nodes": 1, "tasks_per_node": 1, "name": "dlps-sweep"}
    if kind == "slurm":
        params["slurm_array_parallelism"] = n_points
        if gpus:
            params["gpus_per_node"] = gpus
        if partition:
            params["slurm_partition"] = partition
    elif gpus:
        params["gpus_per_node"] = gpus
    ex.update_parameters(**params)
    return ex


def submit(ex, jobs: list[PointJob]) -> list:
    """Submit the points as one job array; a refusal by sbatch becomes a UserError quoting it."""
    from submitit.core.utils import FailedJobError, FailedSubmissionError

    try:
        return ex.map_array(run_point, jobs)
    except (FailedJobError, FailedSubmissionError) as e:
        why = (str(e).strip().splitlines() or [""])[-1]
        raise UserError(f"the scheduler refused the jobs: {why}; check --partition, --gpus, --cpus and --time-min "
                        f"against `sinfo`") from None


def failure_text(job) -> str:
    """The last lines of what a job raised, else of its stderr: enough to say why without opening the log."""
    try:
        exc = job.exception()
    except Exception as e:  # no result at all (killed, timed out): submitit says so and quotes the log
        exc = e
    text = str(exc) if exc else (job.stderr() or "")
    lines = [line for line in text.rstrip().splitlines() if line.strip()]
    # our PointFailed message starts with "grid point"; show from there when it is in a traceback
    start = next((i for i in range(len(lines) - 1, -1, -1) if "grid point " in lines[i]), max(0, len(lines) - 15))
    return "\n".join(lines[start:][-30:])


def wait_all(outcomes: list[Outcome], deadline_s: float, poll_s: float = 2.0) -> None:
    """Wait until every job has a result or the deadline passes (SLURM without accounting cannot report a kill)."""
    running = [o for o in outcomes if o.job is not None]
    end = time.monotonic() + deadline_s
    while running and time.monotonic() < end:
        running = [o for o in running if not o.job.done()]
        if running:
            time.sleep(poll_s)
    for o in outcomes:
        if o.job is None:
            continue
        if o.job.done():
            ok = o.job.exception() is None if o.job.paths.result_pickle.exists() else False
            o.state = "COMPLETED" if ok else "FAILED"
        else:
            o.state = "NO_RESULT"
        if o.state != "COMPLETED":
            o.why = failure_text(o.job) if o.job.done() else (
                f"no result within {deadline_s / 60:.0f} min; log: {o.job.paths.stderr}")


def summary(outcomes: list[Outcome], remote: str) -> str:
    """The table of point -> job id -> state, the failures' reasons, and how to collect the results."""
    w = max([len(o.name) for o in outcomes] + [10])
    lines = [f"{'experiment':<{w}}  {'job':<12}  {'state':<10}  point", "-" * (w + 40)]
    lines += [f"{o.name:<{w}}  {o.job_id:<12}  {o.state:<10}  {' '.join(overrides(o.point))}" for o in outcomes]
    for o in outcomes:
        if o.why:
            lines += ["", f"{o.name} ({' '.join(overrides(o.point))}) failed:", o.why]
    if any(o.state == "SUBMITTED" for o in outcomes):
        lines += ["", "not waited for: watch the jobs with `squeue -u $USER`; each point is on the remote once pushed "
                      f"(`dvc exp list {remote} --names-only`). Running this command again while they run submits "
                      "them again."]
    done = [o.name for o in outcomes if o.state in ("COMPLETED", "SKIPPED")]
    if done:
        lines += ["", "collect the results (in any clone of this repo):",
                  f"  dvc exp pull {remote} {' '.join(done)}",
                  "  dvc exp show                      # params and metrics side by side",
                  f"  dvc metrics diff {done[0]} {done[-1]}",
                  f"  python stages/compare.py {done[0]} {done[-1]}"]
    return "\n".join(lines)


def sweep(specs: Sequence[str], *, executor: str = "local", partition: Optional[str] = None, gpus: int = 0,
          time_min: int = 60, cpus: int = 2, git_remote: str = "origin", dvc_remote: Optional[str] = None,
          targets: Sequence[str] = (), share_cache: bool = True, workdir: Optional[Path] = None,
          repo: Path = Path("."), wait: bool = True, echo=print) -> list[Outcome]:
    """Submit the grid's missing points, wait for them (unless `wait` is False) and return every point's outcome."""
    if executor not in ("local", "slurm"):
        raise UserError(f"--executor {executor!r}: allowed: local, slurm")
    if executor == "slurm" and not shutil.which("sbatch"):
        raise UserError("--executor slurm: `sbatch` is not on PATH; run this on the cluster's login node "
                        "(or use --executor local)")
    points = parse_grid(specs)
    top = git(Path(repo), "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"{Path(repo).resolve()} is not inside a git repository; run the sweep from the project")
    root = Path(top.stdout.strip())
    url = remote_url(root, git_remote)
    head = check_clean_and_pushed(root, git_remote)
    remote = check_dvc_remote(root, dvc_remote)
    names = [point_name(p) for p in points]
    if len(set(names)) != len(names):
        raise UserError("two grid points map to the same experiment name; make the values differ in more than "
                        "punctuation")
    already = pushed_names(root, git_remote, head)
    base = Path(workdir).resolve() if workdir else root / ".dvc" / "tmp" / "sweep"  # .dvc/tmp is git-ignored
    base = base / head[:12]
    cache = dvc_out(root, "cache", "dir") if share_cache else None
    if share_cache and not cache:
        raise UserError("`dvc cache dir` failed here, so there is no cache to share; fix the DVC set-up "
                        "(`dvc doctor`) or pass --no-share-cache to pull from the DVC remote")
    outcomes = [Outcome(n, p, state="SKIPPED" if n in already else "PENDING") for n, p in zip(names, points)]
    todo = [o for o in outcomes if o.state == "PENDING"]
    if todo:
        jobs = submit(make_executor(executor, base / "logs", partition, gpus, time_min, cpus, len(todo)),
                      [PointJob(o.name, overrides(o.point), url, head, str(base / o.name), cache, remote,
                                tuple(targets)) for o in todo])
        for o, j in zip(todo, jobs):
            o.job, o.job_id, o.state = j, str(j.job_id), "SUBMITTED"
        echo(f"submitted {len(todo)} job(s) ({executor}); logs under {base / 'logs'}; "
             f"{len(outcomes) - len(todo)} point(s) already on {git_remote}")
        if wait:
            wait_all(outcomes, deadline_s=time_min * 60 + 600)
    else:
        echo(f"every point of the grid is already on {git_remote}; nothing to submit")
    return outcomes
