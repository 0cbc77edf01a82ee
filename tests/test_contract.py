"""Every registered experiment keeps the contract (dlps/experiments/contract.py), consistently with params.yaml."""

import re
from pathlib import Path

import pytest

from dlps.experiments import NAMES, OPTIONAL_PARTS, PARTS, contract, has_part, part, train_stages
from dlps.params import SHARED, load
from dlps.tools import dag

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load(ROOT / "params.yaml")
STAGES = dag.dag(PARAMS)["stages"]


@pytest.mark.parametrize("name", NAMES)
def test_every_module_has_the_required_parts_with_their_types(name):
    kinds = [*PARTS, *(k for k in OPTIONAL_PARTS if has_part(name, k))]
    assert [p for which in kinds for p in contract.problems(part(name, which), which)] == []


@pytest.mark.parametrize("name", NAMES)
def test_plot_definitions_name_figures_or_history_columns(name):
    for it in contract.get(part(name, "figures"), "PLOTS"):
        if isinstance(it, str):
            assert it.endswith(".png"), it
            continue
        d = it["history"]
        assert {"x", "y"} <= set(d) <= {"x", "y", "by"}, it
        columns = {c for f in (ROOT / "plots/history" / name).glob("*.csv") for c in f.read_text().split("\n", 1)[0]
                   .split(",")}
        named = {d["x"], *([d["y"]] if isinstance(d["y"], str) else d["y"]), *([d["by"]] if "by" in d else [])}
        assert named <= columns, f"{name}: {sorted(named - columns)} not a history column"


@pytest.mark.parametrize("name", NAMES)
def test_spec_agrees_with_params_yaml(name):
    spec, cfg = part(name, "spec"), PARAMS[name]
    fields = set(spec.SCHEMA.fields)
    assert spec.NAME == name and "seeds" in fields
    assert set(spec.JUDGE_KEYS) <= fields, "a judging key the schema does not define"
    variants = spec.variants(cfg)
    assert variants and len(set(variants)) == len(variants)
    assert all(re.fullmatch(r"[\w.+-]+", v) for v in variants), "a variant names files and stages"
    if spec.VARIANTS_KEY is not None:
        assert spec.VARIANTS_KEY in fields and spec.VARIANTS_KEY not in spec.JUDGE_KEYS
        assert variants == [str(v) for v in cfg[spec.VARIANTS_KEY]], "the DVC matrix lists exactly the variants"
    assert set(contract.get(spec, "TABLE_METRICS")) <= set(spec.METRICS)
    known = set(SHARED["data"].fields["datasets"].item.options)
    for datasets in (spec.DATASETS, contract.get(spec, "FIGURE_DATASETS")):
        assert set(datasets) <= known & set(PARAMS["data"]["datasets"]), "a dataset params.yaml does not prepare"


@pytest.mark.parametrize("name", NAMES)
def test_train_stages_follow_the_spec(name):
    """The stage names the report and the GPU check look up are the ones the generated DAG defines."""
    spec, stage = part(name, "spec"), STAGES[f"train_{name}"]
    assert ("matrix" not in stage) == bool(contract.get(spec, "ONE_TRAIN_STAGE"))
    assert train_stages(PARAMS, name) == ([f"train_{name}"] if "matrix" not in stage else
                                          [f"train_{name}@{v}" for v in spec.variants(PARAMS[name])])


@pytest.mark.parametrize("name", NAMES)
def test_train_stages_depend_on_no_judging_or_figure_code(name):
    deps = dag.code_deps(["stages/train.py", f"dlps/experiments/{name}/spec.py", f"dlps/experiments/{name}/train.py"])
    own = {d for d in deps if d.startswith("dlps/experiments/")}
    assert own == {f"dlps/experiments/{name}/spec.py", f"dlps/experiments/{name}/train.py",
                   "dlps/experiments/contract.py"}, "a train stage reads only its spec and train code"


def test_no_module_outside_the_experiment_folders_lists_experiments():
    """Central tables are derived from the registry: no other module spells out three or more experiment names."""
    for path in sorted((ROOT / "dlps").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "dlps/experiments/__init__.py" or any(rel.startswith(f"dlps/experiments/{n}/") for n in NAMES):
            continue
        text = path.read_text()
        named = [n for n in NAMES if re.search(rf"[\"'](?:train_)?{n}[\"'/.@-]", text)]
        assert len(named) < 3, f"{rel} names {named}: derive the list from dlps.experiments instead"


def test_defaults_and_unknown_parts():
    spec = part("overfitting", "spec")
    assert contract.get(spec, "TIMINGS") == () and contract.get(spec, "ONE_TRAIN_STAGE") is False
    assert contract.get(spec, "TABLE_METRICS") == spec.METRICS
    with pytest.raises(KeyError):
        contract.get(spec, "WORKERS")
    with pytest.raises(AttributeError, match="requires"):
        contract.get(object(), "METRICS")


@pytest.mark.parametrize("name", NAMES)
def test_every_folder_has_its_required_data_files_and_they_parse(name):
    from dlps.experiments import folder_file, read_folder_yaml

    for f in contract.FILES:
        if f.required:
            assert folder_file(name, f.name).is_file(), f"{name} lacks {f.name}: {f.meaning}"
        if folder_file(name, f.name).is_file():
            assert read_folder_yaml(name, f.name) is not None, f"{name}/{f.name} is empty"


def test_the_package_top_level_holds_only_foundations():
    """dlps/ is laid out by role: at most about 15 modules at the top, the rest in data/, models/, experiments/,
    jobs/, report/ and tools/ (docs/design.md names what belongs where)."""
    top = sorted(p.name for p in (ROOT / "dlps").glob("*.py"))
    assert len(top) <= 15, f"dlps/ has {len(top)} top-level modules: {top}"
    packages = sorted(p.name for p in (ROOT / "dlps").iterdir() if (p / "__init__.py").is_file())
    assert packages == ["data", "experiments", "jobs", "models", "report", "tools"]
