"""The DVC workflow as the README documents it, in a temporary copy on tiny data: per-variant metrics, one line of
params.yaml per `-S`, a readable `exp show`, every figure declared, offline plots, and a clean tree after a newcomer's
`dvc repro`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from test_end_to_end import TINY, copy_project, run
from tinydata import make_mirror

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    """The project after `dvc repro` in a fresh git repo, its tiny params set the way `dvc exp run -S` writes them."""
    from dvc.utils.serialize import modify_yaml

    tmp = tmp_path_factory.mktemp("workflow")
    repo = copy_project(tmp / "repo")
    with modify_yaml(repo / "params.yaml") as params:
        for section, values in TINY.items():
            params[section].update(values)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(repo), "DLPS_MIRROR": str(make_mirror(tmp / "mirror")), "COLUMNS": "100",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    run(["git", "init", "-q"], repo, env)
    run(["dvc", "repro"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "tiny study, results and lock"], repo, env)
    return repo, env


def test_per_variant_test_metrics_are_dvc_metrics(workflow):
    repo, env = workflow
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], repo, env).stdout)
    files = next(iter(shown.values()))["data"]
    for name in ("dropout", "l2", "early_stopping", "sentiment"):
        variants = files[f"metrics/variants/{name}.json"]["data"]
        assert variants, name
        for v in variants.values():
            assert set(v) == {"test_acc", "ci_low", "ci_high", "ci_level", "n"}, (name, v)
            assert v["ci_low"] <= v["test_acc"] <= v["ci_high"] and v["ci_level"] == 0.95
    rates = yaml.safe_load((repo / "params.yaml").read_text())["dropout"]["p"]
    assert set(files["metrics/variants/dropout.json"]["data"]) == {f"p={p}" for p in rates}


def test_a_newcomers_repro_leaves_the_tree_clean_and_plots_render_offline(workflow, tmp_path):
    """A clone has the lock and results but no DVC cache: `dvc repro` re-runs the data stages only, and neither they
    nor `dvc plots show` leave a modified or untracked file; the page loads no script from the network."""
    repo, env = workflow
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path, env)
    env = {**env, "PYTHONPATH": str(clone)}
    ran = {line.split("'")[1] for line in run(["dvc", "repro"], clone, env).stdout.splitlines()
           if line.startswith("Running stage '")}
    assert ran and all(s.startswith(("download@", "prepare@")) for s in ran), ran
    run(["dvc", "plots", "show"], clone, env)
    assert run(["git", "status", "--porcelain"], clone, env).stdout == ""
    page = (clone / "dvc_plots/index.html").read_text()
    assert "<script src" not in page and "cdn." not in page and "vegaEmbed" in page
    declared = {p if isinstance(p, str) else next(iter(p)) for p in yaml.safe_load((clone / "dvc.yaml").read_text())
                ["plots"]}
    assert {p.relative_to(clone).as_posix() for p in (clone / "plots").rglob("*.png")} <= declared
    assert "plots/dropout/curves/val_loss.csv" in declared and "dropout: val_loss" in page


def test_set_param_changes_one_line_and_exp_show_fits_100_columns(workflow):
    repo, env = workflow
    run(["dvc", "exp", "run", "-S", "dropout.min_gain=0.02"], repo, env)
    numstat = run(["git", "diff", "--numstat", "params.yaml"], repo, env).stdout.split()
    assert numstat[:2] == ["1", "1"], numstat
    out = run(["dvc", "exp", "show", "--no-pager", "--drop", ".*", "--keep", "Experiment|p=.*test_acc$"], repo,
              env).stdout
    assert "p=0.0.test_acc" in out and max(len(line) for line in out.splitlines()) <= 100, out
