"""The grid sweep: parsing, naming, git and DVC checks, skipping pushed points, a run on submitit's local executor."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sweepproject import cheap_target, exp_files, make_project, sh

from dlps.errors import UserError
from dlps.tools.sweep import (check_clean_and_pushed, check_dvc_remote, parse_grid, point_name, pushed_names,
                        split_values)

NOISE = "overfitting.noise_std"


def test_grid_is_the_cartesian_product_in_the_given_order():
    grid = parse_grid([f"{NOISE}=0.1,0.4", "overfitting.n_train=15,30,60"])
    assert len(grid) == 6
    assert grid[0] == ((NOISE, "0.1"), ("overfitting.n_train", "15"))
    assert grid[-1] == ((NOISE, "0.4"), ("overfitting.n_train", "60"))
    assert parse_grid(["overfitting.degrees=[1,2,15],[1,3]"]) == [(("overfitting.degrees", "[1,2,15]"),),
                                                                  (("overfitting.degrees", "[1,3]"),)]
    assert parse_grid(["params.yaml:a.b=1"]) == [(("params.yaml:a.b", "1"),)]
    assert parse_grid([f"{NOISE}=0.1,0.1"]) == [((NOISE, "0.1"),)]  # a repeated value is one point


def test_split_keeps_commas_inside_brackets_and_quotes():
    assert split_values("1, [2,3], 'a,b', {x: 1, y: 2}") == ["1", "[2,3]", "'a,b'", "{x: 1, y: 2}"]


@pytest.mark.parametrize("spec, words", [
    ("overfitting.noise_std", "expected KEY=VALUE"),
    ("=1,2", "expected KEY=VALUE"),
    ("a b=1", "expected KEY=VALUE"),
    ("overfitting.noise_std=0.1,", "empty value"),
])
def test_bad_grid_specs_say_what_is_wrong(spec, words):
    with pytest.raises(UserError, match=words):
        parse_grid([spec])


def test_a_key_twice_and_no_grid_are_refused():
    with pytest.raises(UserError, match="given twice"):
        parse_grid([f"{NOISE}=0.1", f"{NOISE}=0.2"])
    with pytest.raises(UserError, match="no grid"):
        parse_grid([])


def _valid_exp_ref(name: str) -> bool:
    return subprocess.run(["git", "check-ref-format", f"refs/exps/ab/cdef/{name}"]).returncode == 0


def test_names_are_deterministic_readable_and_valid_git_refs():
    p = ((NOISE, "0.1"), ("overfitting.n_train", "15"))
    assert point_name(p) == "sweep-overfitting.noise_std-0.1-overfitting.n_train-15" == point_name(tuple(p))
    odd = [((k, v),) for k, v in [("overfitting.degrees", "[1,2,15]"), ("overfitting.degrees", "[1 2 15]"),
                                  ("a", "x..y"), ("a", "1."), ("a", "x.lock"), ("a", "~^:?*\\"), ("a", "v" * 300)]]
    names = [point_name(p) for p in odd]
    assert len(set(names)) == len(names)  # characters lost in sanitising are made up for by the hash
    assert all(_valid_exp_ref(n) and len(n) <= 80 for n in names), names


def test_dirty_or_unpushed_head_is_refused_and_pushed_head_accepted(tmp_path):
    repo, env, _ = make_project(tmp_path)
    head = check_clean_and_pushed(repo, "origin")
    assert len(head) == 40
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text() + "\n# changed\n")
    with pytest.raises(UserError, match="uncommitted changes.*params.yaml"):
        check_clean_and_pushed(repo, "origin")
    sh(["git", "commit", "-qam", "local only"], repo, env)
    with pytest.raises(UserError, match="not on git remote 'origin'.*git push origin HEAD"):
        check_clean_and_pushed(repo, "origin")
    with pytest.raises(UserError, match="cannot read git remote 'nowhere'"):
        check_clean_and_pushed(repo, "nowhere")


def test_dvc_remote_must_be_visible_from_a_clone(tmp_path):
    repo, env, _ = make_project(tmp_path)
    assert check_dvc_remote(repo, None) == "store"
    sh(["dvc", "remote", "add", "--local", "mine", str(tmp_path / "x")], repo, env)
    with pytest.raises(UserError, match="'mine' is not in the project's"):
        check_dvc_remote(repo, "mine")
    sh(["dvc", "remote", "remove", "store"], repo, env)
    with pytest.raises(UserError, match="no DVC remote"):
        check_dvc_remote(repo, None)


def test_pushed_names_are_those_of_this_baseline_only(tmp_path):
    repo, env, _ = make_project(tmp_path)
    head = sh(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    other = "0" * 40
    for base, name in ((head, "sweep-a-1"), (head, "sweep-a-2"), (other, "sweep-a-3")):
        sh(["git", "update-ref", f"refs/exps/{base[:2]}/{base[2:]}/{name}", head], repo, env)
    sh(["git", "push", "-q", "origin", "refs/exps/*:refs/exps/*"], repo, env)
    assert pushed_names(repo, "origin", head) == {"sweep-a-1", "sweep-a-2"}


def test_cli_user_errors_are_one_line_and_exit_2(tmp_path):
    repo, env, _ = make_project(tmp_path)
    for args, words in ((["-S", "overfitting.noise_std"], "expected KEY=VALUE"),
                        (["-S", f"{NOISE}=0.1", "--executor", "pbs"], "allowed: local, slurm"),
                        (["-S", f"{NOISE}=0.1", "--git-remote", "upstream"], "git remote 'upstream' does not exist")):
        r = sh([sys.executable, "stages/sweep.py", *args], repo, env, ok=False)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and words in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_local_executor_runs_pushes_reports_failures_and_skips_what_is_pushed(tmp_path):
    repo, env, bare = make_project(tmp_path)
    sweep = [sys.executable, "stages/sweep.py", "--executor", "local", cheap_target(repo)]
    r = sh(sweep + ["-S", f"{NOISE}=0.1,0.4"], repo, env)
    names = [f"sweep-{NOISE}-0.1", f"sweep-{NOISE}-0.4"]
    for n in names:
        assert any(line.startswith(n) and "COMPLETED" in line for line in r.stdout.splitlines()), r.stdout
    assert f"dvc exp pull origin {' '.join(names)}" in r.stdout
    head = sh(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    assert pushed_names(repo, "origin", head) == set(names)
    assert sh(["git", "status", "--porcelain"], repo, env).stdout == ""  # the sweep leaves the work tree alone

    # again, with one more point that cannot run: the pushed two are skipped, the bad one says why
    r = sh(sweep + ["-S", f"{NOISE}=0.1,0.4,-1"], repo, env, ok=False)
    assert r.returncode == 1, r.stdout + r.stderr
    rows = {}
    for line in r.stdout.splitlines():  # the table's row comes before the failure's paragraph
        rows.setdefault(line.split(" ")[0], line)
    assert "SKIPPED" in rows[names[0]] and "SKIPPED" in rows[names[1]], r.stdout
    assert "FAILED" in rows[f"sweep-{NOISE}--1"]
    assert f"grid point {NOISE}=-1" in r.stdout and "error: overfitting.noise_std: got -1" in r.stdout

    # the pushed experiment carries the point's params and its metrics
    clone = tmp_path / "collector"
    sh(["git", "clone", "-q", str(bare), str(clone)], tmp_path, env)
    sh(["dvc", "exp", "pull", "origin", names[1]], clone, env)
    show = json.loads(sh(["dvc", "exp", "show", "--json"], clone, env).stdout)
    exps = {e["name"]: e["data"] for rev in show for group in (rev.get("experiments") or []) for e in group["revs"]}
    assert set(exps) == {names[1]}
    assert exps[names[1]]["params"]["params.yaml"]["data"]["overfitting"]["noise_std"] == 0.4
    assert exp_files(clone, env, names[1])[1]["variants"]["3"]["test_mse"]["n"] == 3
