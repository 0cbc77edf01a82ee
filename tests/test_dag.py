"""dvc.yaml is generated from the registry and current; dvc.lock holds only stages dvc.yaml defines; no train
stage depends on a judging key or on the list of the other variants."""

from pathlib import Path

import yaml

from dlps.experiments import NAMES, part
from dlps.experiments.contract import get
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
        spec = part(name, "spec")
        keys = set(stages[f"train_{name}"]["params"])
        assert not keys & {f"{name}.{k}" for k in spec.JUDGE_KEYS}, name
        if spec.VARIANTS_KEY and not get(spec, "ONE_TRAIN_STAGE"):
            assert f"{name}.{spec.VARIANTS_KEY}" not in keys, name
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    for stage, entry in lock.items():
        if stage.startswith("train_"):
            name = stage.split("@")[0][len("train_"):]
            recorded = set(entry.get("params", {}).get("params.yaml", {}))
            assert not recorded & {f"{name}.{k}" for k in part(name, "spec").JUDGE_KEYS}, stage


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
