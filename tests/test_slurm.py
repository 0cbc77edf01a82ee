"""A real single-node SLURM on loopback runs a two-point grid through `stages/sweep.py`; a fresh clone pulls both."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sweepproject import cheap_target, exp_files, make_project, sh

pytestmark = pytest.mark.slow

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "scancel")
NOISE = "overfitting.noise_std"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, n: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else f"({path} is empty)"


def slurm_conf(d: Path, sock: Path) -> str:
    host = socket.gethostname().split(".")[0]  # slurmctld only starts on a host named in SlurmctldHost
    return f"""\
ClusterName=dlpstest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="module")
def slurm():
    """SLURM_CONF of a running one-node cluster (munged, slurmctld, slurmd), stopped afterwards; skips saying why."""
    missing = [d for d in DAEMONS if not shutil.which(d, path=os.environ["PATH"] + ":/usr/sbin:/sbin")]
    if missing:
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): apt-get install -y slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("starting slurmd and munged needs root (the test runs them as root and munge)")
    # munged refuses folders other users can write to, and the munge user must reach its files: not pytest's 0700 tmp
    d = Path(tempfile.mkdtemp(prefix="dlps-slurm-"))
    d.chmod(0o755)
    mdir = d / "munge"
    mdir.mkdir()
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    key, sock = mdir / "munge.key", mdir / "munge.sock"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    shutil.chown(mdir, "munge", "munge")
    shutil.chown(key, "munge", "munge")
    conf = d / "slurm.conf"
    conf.write_text(slurm_conf(d, sock))
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": os.environ["PATH"] + ":/usr/sbin:/sbin"}
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["munged", "-F", "--force", f"--socket={sock}", f"--key-file={key}", f"--pid-file={mdir}/munged.pid",
             f"--log-file={mdir}/munged.log", f"--seed-file={mdir}/munged.seed"],
            user="munge", group="munge", stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        for _ in range(50):
            if sock.exists():
                break
            time.sleep(0.1)
        else:
            pytest.skip(f"munged did not start:\n{tail(mdir / 'munged.log')}")
        procs.append(subprocess.Popen(["slurmctld", "-D", "-f", str(conf)], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(conf)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        state = ""
        for _ in range(60):
            r = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=env, capture_output=True, text=True)
            state = (r.stdout + r.stderr).strip()
            if state == "idle":
                break
            time.sleep(0.5)
        else:
            pytest.skip(f"SLURM did not come up (sinfo: {state!r}):\nslurmctld: {tail(d / 'slurmctld.log')}\n"
                        f"slurmd: {tail(d / 'slurmd.log')}")
        yield env
    finally:
        subprocess.run(["scancel", "--full", "--user", "root"], env=env, capture_output=True)  # our cluster only
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(d, ignore_errors=True)


def test_a_grid_runs_on_slurm_and_a_fresh_clone_pulls_it(slurm, tmp_path):
    repo, env, bare = make_project(tmp_path)
    env = {**env, **slurm}
    # --no-share-cache: the jobs get data through the DVC remote only, as on a cluster without a shared cache
    r = sh([sys.executable, "stages/sweep.py", "--executor", "slurm", "--cpus", "1", "--time-min", "10",
            "--no-share-cache", "-S", f"{NOISE}=0.1,0.4", cheap_target(repo)], repo, env, ok=False)
    assert r.returncode == 0, r.stdout + r.stderr
    names = [f"sweep-{NOISE}-0.1", f"sweep-{NOISE}-0.4"]
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("sweep-")]
    assert [row[0] for row in rows] == names and all(row[2] == "COMPLETED" for row in rows), r.stdout
    assert all(row[1].split("_")[0].isdigit() and "_" in row[1] for row in rows)  # SLURM array job ids

    clone = tmp_path / "collector"
    sh(["git", "clone", "-q", str(bare), str(clone)], tmp_path, env)
    env_clone = {**env, "PYTHONPATH": str(clone)}
    sh(["dvc", "exp", "pull", "origin", *names], clone, env_clone)
    (p_low, m_low), (p_high, m_high) = (exp_files(clone, env_clone, n) for n in names)
    assert (p_low["overfitting"]["noise_std"], p_high["overfitting"]["noise_std"]) == (0.1, 0.4)
    # the test MSE of the well-specified degree-3 fit is about the noise variance: 0.01 vs 0.16
    low, high = (m["variants"]["3"]["test_mse"]["mean"] for m in (m_low, m_high))
    assert low < 0.05 < 0.1 < high, (low, high)
    diff = json.loads(sh(["dvc", "metrics", "diff", "--json", *names], clone, env_clone).stdout)
    assert any(changes for changes in diff.values()), diff  # the compare commands work on the pulled experiments


def test_a_refused_submission_is_one_clear_error(slurm, tmp_path):
    repo, env, _ = make_project(tmp_path)
    r = sh([sys.executable, "stages/sweep.py", "--executor", "slurm", "--partition", "nosuch", "-S", f"{NOISE}=0.1",
            cheap_target(repo)], repo, {**env, **slurm}, ok=False)
    last = r.stderr.strip().splitlines()[-1]  # sbatch's own lines come before it (submitit passes them on)
    assert r.returncode == 2 and last.startswith("error: the scheduler refused the jobs:"), r.stdout + r.stderr
    assert "Invalid partition" in last and "Traceback" not in r.stderr, r.stderr
