"""Every registered experiment keeps the contract (dlps/experiments/contract.py), consistently with params.yaml."""

import re
from pathlib import Path

import pytest

from dlps.experiments import NAMES, contract, load
from dlps.params import SHARED
from dlps.params import load as load_params
from dlps.tools import dag

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load_params(ROOT / "params.yaml")
STAGES = dag.dag(PARAMS)["stages"]


@pytest.mark.parametrize("name", NAMES)
def test_every_module_has_the_required_parts_with_their_types(name):
    from dlps.experiments import _module

    modules = {k: _module(name, k) for k in contract.MODULES}
    assert [p for k, m in modules.items() if m is not None for p in contract.problems(m, k)] == []
    exp = load(name)
    assert (exp.train, exp.judge, exp.figures) and exp.spec.name == name  # every part reads, defaults filled in


@pytest.mark.parametrize("name", NAMES)
def test_plot_definitions_name_figures_or_history_columns(name):
    for it in load(name).figures.plots:
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
    spec, cfg = load(name).spec, PARAMS[name]
    fields = set(spec.schema.fields)
    assert spec.name == name and "seeds" in fields
    assert set(spec.judge_keys) <= fields, "a judging key the schema does not define"
    variants = spec.variants(cfg)
    assert variants and len(set(variants)) == len(variants)
    assert all(re.fullmatch(r"[\w.+-]+", v) for v in variants), "a variant names files and stages"
    if spec.variants_key is not None:
        assert spec.variants_key in fields and spec.variants_key not in spec.judge_keys
        assert variants == [str(v) for v in cfg[spec.variants_key]], "the DVC matrix lists exactly the variants"
    assert set(spec.table_metrics) <= set(spec.metrics)
    known = set(SHARED["data"].fields["datasets"].item.options)
    for datasets in (spec.datasets, spec.figure_datasets):
        assert set(datasets) <= known & set(PARAMS["data"]["datasets"]), "a dataset params.yaml does not prepare"


@pytest.mark.parametrize("name", NAMES)
def test_train_stages_follow_the_spec(name):
    """The stage names the report and the GPU check look up are the ones the generated DAG defines."""
    exp, stage = load(name), STAGES[f"train_{name}"]
    assert ("matrix" not in stage) == exp.spec.one_train_stage
    assert exp.train_stages(PARAMS) == ([f"train_{name}"] if "matrix" not in stage else
                                        [f"train_{name}@{v}" for v in exp.spec.variants(PARAMS[name])])


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


def test_no_experiment_module_imports_the_jobs():
    """The jobs call the experiments, never the reverse (imports inside functions count)."""
    import ast

    for path in sorted((ROOT / "dlps/experiments").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not [n for n in names if n == "dlps.jobs" or n.startswith("dlps.jobs.")], path.relative_to(ROOT)


def test_defaults_and_unknown_parts():
    from types import SimpleNamespace

    from dlps.schema import ParamError

    exp = load("overfitting")
    assert exp.spec.timings == () and exp.spec.one_train_stage is False and exp.train.groups is None
    assert exp.spec.table_metrics == exp.spec.metrics
    with pytest.raises(ParamError, match="allowed: one of"):
        load("overfit")
    with pytest.raises(contract.ContractError, match="requires"):
        contract.read_part(contract.Judge, SimpleNamespace(__name__="toy.judge", analyze=lambda: None))


def test_only_the_loader_reads_experiment_modules_by_name():
    """Every caller goes through dlps.experiments.load, whose fields an editor can follow: no other module imports
    an experiment's part by a string name."""
    for path in sorted((ROOT / "dlps").rglob("*.py")) + sorted((ROOT / "stages").glob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("dlps/experiments/__init__.py", "dlps/experiments/contract.py"):
            continue
        text = path.read_text()
        assert "import_module(" not in text and not re.search(r"\bpart\(\w+, *[\"']", text), rel


def test_a_job_runs_through_the_experiments_train_or_its_batched_group():
    from types import SimpleNamespace

    calls = []
    one = contract.Train(train=lambda cfg, v, seeds, ctx: calls.append((v, seeds)) or {"runs": [], "history": []})
    assert one.jobs({"seeds": [7, 8]}, ["a", "b"]) == [(["a"], [7]), (["a"], [8]), (["b"], [7]), (["b"], [8])]
    assert set(one.run({}, ["a"], [7], SimpleNamespace())) == {"a"} and calls == [("a", [7])]
    batched = contract.Train(train=None, groups=lambda cfg, vs: [(vs, cfg["seeds"])],
                             train_group=lambda cfg, vs, ss, ctx: {v: ss for v in vs})
    assert batched.jobs({"seeds": [1, 2]}, ["a", "b"]) == [(["a", "b"], [1, 2])]
    assert batched.run({}, ["a", "b"], [1, 2], None) == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("name", NAMES)
def test_every_folder_has_its_required_data_files_and_they_parse(name):
    exp = load(name)
    for f in contract.FILES:
        if f.required:
            assert (exp.folder / f.name).is_file(), f"{name} lacks {f.name}: {f.meaning}"
        if (exp.folder / f.name).is_file():
            assert exp.data(f.name) is not None, f"{name}/{f.name} is empty"


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
    # 1,057 lines after the rewrite (issue 32); protocol v2 added 15 findings (checks, monitors, arms): ~20 lines each
    assert sum(len(p.read_text().splitlines()) for p in judges) <= 1350


@pytest.mark.parametrize("name", NAMES)
def test_each_experiment_has_its_tests_under_tests_experiments(name):
    assert (ROOT / f"tests/experiments/test_{name}.py").is_file()
    assert not [p.name for p in (ROOT / "tests").glob(f"test_{name}*.py")], "an experiment's tests sit in tests/experiments/"
