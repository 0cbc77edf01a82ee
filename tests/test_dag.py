"""dvc.yaml is generated from the registry and current; dvc.lock holds only stages dvc.yaml defines; no train
stage depends on a judging key or on the list of the other variants."""

from pathlib import Path

import yaml

from dlps.experiments import NAMES
from dlps.experiments import load as load_experiment
from dlps.params import load
from dlps.tools import dag

ROOT = Path(__file__).resolve().parents[1]


def test_dvc_yaml_is_current():
    params = load(ROOT / "params.yaml")
    assert (ROOT / "dvc.yaml").read_text() == dag.render(params), "dvc.yaml is stale: run `python -m dlps.tools.dag`"


def test_imports_are_followed_into_functions(tmp_path):
    deps = dag.code_deps(["stages/evaluate.py", "dlps/experiments/overfitting/judge.py"])
    assert {"dlps/verdicts.py", "dlps/stats.py", "dlps/jobs/evaluate.py"} <= set(deps)
    assert "dlps/experiments/overfitting/train.py" not in deps  # judging never depends on training code
    assert not set(deps) & (dag.NOT_FOLLOWED - {"stages/evaluate.py"})


def test_no_train_stage_records_a_judging_key_or_the_variant_list():
    params = load(ROOT / "params.yaml")
    stages = dag.dag(params)["stages"]
    for name in NAMES:
        spec = load_experiment(name).spec
        keys = set(stages[f"train_{name}"]["params"])
        assert not keys & {f"{name}.{k}" for k in spec.judge_keys}, name
        if spec.variants_key and not spec.one_train_stage:
            assert f"{name}.{spec.variants_key}" not in keys, name
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    for stage, entry in lock.items():
        if stage.startswith("train_"):
            name = stage.split("@")[0][len("train_"):]
            recorded = set(entry.get("params", {}).get("params.yaml", {}))
            assert not recorded & {f"{name}.{k}" for k in load_experiment(name).spec.judge_keys}, stage


def test_lock_has_no_stale_entries():
    """Every dvc.lock entry is a stage that dvc.yaml defines for the current params."""
    params = load(ROOT / "params.yaml")
    defined = set()
    for stage, body in dag.dag(params)["stages"].items():
        if "matrix" not in body:
            defined.add(stage)
            continue
        (key, values), = body["matrix"].items()
        if isinstance(values, str):  # ${section.key}
            section, k = values[2:-1].split(".")
            values = params[section][k]
        defined |= {f"{stage}@{v}" for v in values}
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    assert set(lock) <= defined, f"stale dvc.lock entries: {sorted(set(lock) - defined)}"


def test_the_docs_name_the_files_every_train_stage_depends_on():
    """docs/adding-an-experiment.md tells a contributor which edits retrain the whole study; it must stay true."""
    import re

    stages = dag.dag(load(ROOT / "params.yaml"))["stages"]
    common = set.intersection(*(set(s["deps"]) for k, s in stages.items() if k.startswith("train_")))
    section = (ROOT / "docs/adding-an-experiment.md").read_text().split("## What an edit re-runs")[1].split("##")[0]
    named = set(re.findall(r"`([\w/]+\.py)`", section.split("retrains the whole study:")[1].split("(")[0]))
    assert named == common


def test_every_committed_figure_and_curve_is_a_declared_plot():
    """`dvc plots show/diff` shows every figure under plots/ and every curve file the plots stages write."""
    declared = {p if isinstance(p, str) else next(iter(p)) for p in dag.dag(load(ROOT / "params.yaml"))["plots"]}
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "plots").rglob("*") if p.suffix in (".png", ".csv")
             and p.parts[len(ROOT.parts) + 1] != "history"}
    assert files and files <= declared, sorted(files - declared)


def test_no_data_stage_output_is_tracked_by_git():
    """A newcomer's clone re-runs download@ and prepare@ (no DVC cache): a git-tracked output would be modified."""
    import subprocess

    stages = dag.dag(load(ROOT / "params.yaml"))["stages"]
    datasets = load(ROOT / "params.yaml")["data"]["datasets"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for s in ("download", "prepare") for o in stages[s]["outs"]]
    paths = [o.replace("${item.dataset}", d) for o in outs for d in datasets]
    tracked = subprocess.run(["git", "ls-files", "--", *paths], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == "", tracked
