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
def test_plot_definitions_name_files_or_history_columns(name):
    for it in contract.get(part(name, "figures"), "PLOTS"):
        assert (isinstance(it, str) and it.endswith(".png")) or set(it["history"]) == {"x", "y"}, it


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


def _numeric_tokens(key: str) -> list[str]:
    """The '_'-separated words of an id or key that are numbers (a params value spelled into a name)."""
    return [t for t in key.split("_") if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", t)]


@pytest.mark.parametrize("name", NAMES)
def test_finding_ids_and_comparison_keys_name_roles_not_values(name, metrics_dir=ROOT / "metrics"):
    """`dvc metrics diff` lines keys up across runs only if a changed params value does not rename them: the values
    live in the record (`compared`, a comparison's a/b), never in its id or key."""
    path = metrics_dir / f"{name}.json"
    if not path.is_file():
        pytest.skip("no committed metrics in this checkout")
    import json

    m = json.loads(path.read_text())
    keys = [f["id"] for f in m["findings"]] + list(m["comparisons"])
    assert [k for k in keys if _numeric_tokens(k)] == []


@pytest.mark.parametrize("name", NAMES)
def test_records_carry_each_p_under_its_test_and_no_interval_level_in_a_key(name):
    """Every finding names the test that decided it; no key says 95 (intervals are at ci_level); no p_value whose
    meaning changes with the verdict."""
    import json

    path = ROOT / "metrics" / f"{name}.json"
    if not path.is_file():
        pytest.skip("no committed metrics in this checkout")
    text = path.read_text()
    assert "ci95" not in text
    for f in json.loads(text)["findings"]:
        assert "p_value" not in f and (f["decided_by"] is None or f["test"] == f["tests"][f["decided_by"]]), f["id"]
        assert all(f.get(k) is not None for k in f["tests"]), f["id"]


def test_judges_are_rule_calls_within_their_line_budget():
    """A finding's words are its record plus a short `says` per verdict, so no judge writes a per-verdict dict."""
    judges = sorted((ROOT / "dlps/experiments").glob("*/judge.py"))
    assert [p.parent.name for p in judges if '"inconclusive":' in p.read_text()] == []
    assert sum(len(p.read_text().splitlines()) for p in judges) <= 1100
