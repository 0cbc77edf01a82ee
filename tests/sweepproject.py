"""A tiny copy of the project in a temp git repo with a bare git remote and a folder DVC remote (for sweep tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from test_end_to_end import TINY, copy_project


def sh(cmd: list[str], cwd: Path, env: dict, ok: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def cheap_target(repo: Path) -> str:
    """The stage that evaluates `overfitting` (seconds, no datasets)."""
    return "evaluate_overfitting"


def make_project(tmp: Path) -> tuple[Path, dict, Path]:
    """(repo, env, bare git remote): HEAD committed and pushed, DVC remote `store` as the project default."""
    repo, bare = tmp / "repo", tmp / "remote.git"
    copy_project(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["overfitting"].update({**TINY["overfitting"], "seeds": [0, 1, 2]})
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(repo), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    sh(["git", "init", "-q", "--bare", "-b", "main", str(bare)], tmp, env)
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    sh(["git", "remote", "add", "origin", str(bare)], repo, env)
    sh(["dvc", "remote", "add", "-d", "store", str(tmp / "dvc-store")], repo, env)
    (repo / ".dvc/.gitignore").write_text("/config.local\n/tmp\n/cache\n")  # what `dvc init` writes
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-qm", "tiny"], repo, env)
    sh(["git", "push", "-q", "origin", "main"], repo, env)
    return repo, env, bare


def exp_files(clone: Path, env: dict, name: str) -> tuple[dict, dict]:
    """(params, metrics/overfitting.json) of experiment `name` as pulled into `clone`, read from its commit."""
    ref = sh(["git", "for-each-ref", "--format=%(refname)", f"refs/exps/*/*/{name}"], clone, env).stdout.strip()
    assert ref, f"experiment {name} was not pulled"
    params = yaml.safe_load(sh(["git", "show", f"{ref}:params.yaml"], clone, env).stdout)
    return params, json.loads(sh(["git", "show", f"{ref}:metrics/overfitting.json"], clone, env).stdout)
