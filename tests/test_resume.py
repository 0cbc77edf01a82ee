"""A killed train stage resumes: finished jobs are kept, a re-run trains only the rest, and its bytes are unchanged."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_end_to_end import TINY, copy_project, run
from tinydata import make_mirror

from dlps.jobs.records import FileHashes, Records, decode, encode, same, stage_key
from dlps.jobs.train import run_jobs

KEY = {"params": {"dropout.lr": 0.05, "dropout.seeds": [0, 1]}, "code": {"a.py": "1"}, "data": {}, "machine": {}}
RESULT = {"runs": [{"seed": 0, "test_acc": 0.1 + 0.2, "n": 3, "ok": True, "none": None}],
          "history": [{"epoch": 1, "loss": float("nan"), "neg0": -0.0, "big": 1e308}]}


def _store(tmp_path, key=KEY) -> Records:
    return Records("train_dropout@0.2", key, root=tmp_path)


def test_results_round_trip_exactly():
    odd = {"t": (1, 2.5), 3: "int key", "f32": np.float32(0.1), "i64": np.int64(7), "arr": np.arange(3.0),
           "nested": [[{"x": float("inf")}]]}
    for x in (RESULT, odd):
        back = decode(json.loads(json.dumps(encode(x))))
        assert same(back, x)
    assert not same([0.0], [-0.0]) and not same([1], [1.0]) and not same(np.float32(1), np.float64(1))


def test_a_record_is_reused_under_the_same_key(tmp_path):
    job = {"fn": "_train_job", "variants": ["0.2"], "seeds": [0]}
    _store(tmp_path).save(job, RESULT)
    store = _store(tmp_path)
    found, result = store.load(job)
    assert found and same(result, RESULT) and store.reused == 1
    store.clear()
    assert not (tmp_path / "train_dropout@0.2").exists()


def test_a_stale_record_is_not_reused(tmp_path, capsys):
    job = {"fn": "_train_job", "variants": ["0.2"], "seeds": [0]}
    _store(tmp_path).save(job, RESULT)
    changed = {**KEY, "params": {**KEY["params"], "dropout.lr": 0.1}}
    store = _store(tmp_path, changed)
    assert store.load(job) == (False, None)
    store.report(1)
    err = capsys.readouterr().err
    assert "stale" in err and "dropout.lr" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupt_record_is_not_reused(tmp_path, capsys, damage):
    job = {"fn": "_train_job", "variants": ["0.2"], "seeds": [0]}
    _store(tmp_path).save(job, RESULT)
    [path] = (tmp_path / "train_dropout@0.2").iterdir()
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:-7], "flip": data[:-3] + bytes([data[-3] ^ 1]) + data[-2:],
                      "garbage": b"\xff\xfe not a record", "empty": b""}[damage])
    assert _store(tmp_path).load(job) == (False, None)
    err = capsys.readouterr().err
    assert "corrupt" in err and len(err.strip().splitlines()) == 1


def test_the_key_follows_code_and_data_content(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "data/d").mkdir(parents=True)
    (tmp_path / "data/d/x.npy").write_bytes(b"abc")
    entry = {"params": ["s.lr", "device"], "deps": ["code.py", "data/d"]}
    params = {"s": {"lr": 0.1}, "device": "cpu"}
    first = stage_key(params, entry, None, torch_used=False)
    assert stage_key(params, entry, None, torch_used=False) == first
    (tmp_path / "data/d/x.npy").write_bytes(b"abd")  # same size, new content
    assert stage_key(params, entry, None, torch_used=False)["data"] != first["data"]
    (tmp_path / "code.py").write_text("x = 2\n")
    assert stage_key(params, entry, None, torch_used=False)["code"] != first["code"]
    assert FileHashes().cache  # cached between runs, by size, mtime and inode


def _square(x: int, calls: list) -> dict:
    calls.append(x)
    return {"x": x * x}


def test_run_jobs_skips_kept_jobs_and_keeps_job_order(tmp_path, capsys):
    jobs_ids = [{"variants": ["v"], "seeds": [s]} for s in range(4)]
    calls: list = []
    store = _store(tmp_path)
    for i in (0, 2):  # an interrupted run finished jobs 0 and 2
        store.save({"fn": "_square", **jobs_ids[i]}, {"x": i * i})
    out = run_jobs(_square, [(i, calls) for i in range(4)], 1, _store(tmp_path), jobs_ids)
    assert out == [{"x": 0}, {"x": 1}, {"x": 4}, {"x": 9}] and calls == [1, 3]
    assert "2 of 4 jobs reused from an interrupted run" in capsys.readouterr().err


def test_run_jobs_starts_the_costliest_jobs_first_and_keeps_job_order():
    calls: list = []
    out = run_jobs(_square, [(i, calls) for i in range(4)], 1, costs=[1.0, 3.0, 1.0, 8.0])
    assert calls == [3, 1, 0, 2] and out == [{"x": 0}, {"x": 1}, {"x": 4}, {"x": 9}]


# --- a real stage, killed part-way ------------------------------------------------------------------------------

SEEDS = [0, 1, 2, 3, 4, 5]
STAGE = "train_dropout@0.2"
OUTS = ["metrics/runs/dropout/0.2.json", "plots/history/dropout/0.2.csv"]  # timing/ files hold wall-clock values
RECORDS = Path(".dvc/tmp/dlps-jobs") / STAGE
JOB_LINE = re.compile(r"^\[\d+/6\] dropout p=0\.2 seed (\d+):", re.M)


@pytest.fixture(scope="module")
def dropout_repo(tmp_path_factory):
    """The project in a fresh git repo: dropout shrunk to six seeds of about a second each, on two workers."""
    tmp = tmp_path_factory.mktemp("resume")
    repo = copy_project(tmp / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["datasets"] = ["mnist"]
    params["dropout"].update({**TINY["dropout"], "seeds": SEEDS, "p": [0.0, 0.2], "epochs": 30, "workers": 2})
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(repo), "DLPS_MIRROR": str(make_mirror(tmp / "mirror")), "DLPS_PROGRESS": "lines"}
    run(["git", "init", "-q"], repo, env)
    run(["dvc", "repro", STAGE], repo, env)  # uninterrupted: the reference bytes
    return repo, env, {o: (repo / o).read_bytes() for o in OUTS}


def _kept_seeds(repo: Path) -> set[int]:
    return {json.loads(p.read_bytes().partition(b"\n")[2])["job"]["seeds"][0]
            for p in (repo / RECORDS).glob("*.json")}


@pytest.mark.slow
def test_a_killed_stage_trains_only_its_unfinished_jobs_and_ends_byte_identical(dropout_repo):
    repo, env, reference = dropout_repo
    assert not (repo / RECORDS).exists()  # a finished stage leaves no records
    proc = subprocess.Popen(["dvc", "repro", "-f", "-s", STAGE], cwd=repo, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _kept_seeds(repo) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the stage and its workers, as a power loss would
    proc.wait()
    kept = _kept_seeds(repo)
    assert kept and len(kept) < len(SEEDS), f"killed too late or too early: {len(kept)} jobs kept"
    assert not (repo / OUTS[0]).exists()  # the stage did not finish

    log = run(["dvc", "repro", STAGE], repo, env)
    out = log.stdout + log.stderr
    assert {int(s) for s in JOB_LINE.findall(out)} == set(SEEDS) - kept, out[-3000:]
    assert f"{STAGE}: {len(kept)} of {len(SEEDS)} jobs reused from an interrupted run" in out
    assert "not kept" not in out and "corrupt" not in out and "stale" not in out
    assert {o: (repo / o).read_bytes() for o in OUTS} == reference
    assert not (repo / RECORDS).exists()


@pytest.mark.slow
def test_one_process_gives_the_same_bytes(dropout_repo):
    """workers: 1 trains every seed in one call (no job records): the same bytes as the two-worker runs."""
    repo, env, reference = dropout_repo
    params_file = repo / "params.yaml"
    original = params_file.read_text()
    params = yaml.safe_load(original)
    params["dropout"]["workers"] = 1
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        run(["dvc", "repro", "-f", "-s", STAGE], repo, env)  # workers is no stage param: forced
        assert {o: (repo / o).read_bytes() for o in OUTS} == reference
    finally:
        params_file.write_text(original)
