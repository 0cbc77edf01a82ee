"""`dvc exp run -S key=value` changes exactly one line of params.yaml (DVC rewrites every list it re-parses)."""

import difflib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def leaves(d: dict, prefix: str = ""):
    for key, value in d.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def other(value) -> str:
    """A Hydra override value different from `value` (for a list: its last item changed)."""
    if isinstance(value, list):
        return "[" + ",".join([repr(v) if not isinstance(v, str) else v for v in value[:-1]] + [other(value[-1])]) + "]"
    if isinstance(value, bool):
        return str(not value).lower()
    if isinstance(value, (int, float)):
        return repr(value + 1)
    return "'" + value.replace("\n", "") + "x'"


def changed_lines(text: str, override: str, tmp_path: Path) -> list[str]:
    """The lines `dvc exp run -S <override>` changes in a params file holding `text`, by DVC's own code path."""
    from dvc.utils.hydra import apply_overrides

    path = tmp_path / "params.yaml"
    path.write_text(text)
    apply_overrides(str(path), [override])
    diff = difflib.unified_diff(text.splitlines(), path.read_text().splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.slow  # about 15 s: every key of the file, each through DVC's Hydra parser
def test_one_set_param_changes_one_line(tmp_path):
    pytest.importorskip("dvc")
    text = (ROOT / "params.yaml").read_text()
    bad = {}
    for key, value in leaves(yaml.safe_load(text)):
        lines = changed_lines(text, f"{key}={other(value)}", tmp_path)
        if len(lines) != 2:  # one line out, one line in
            bad[key] = lines[:6]
    assert not bad, f"`dvc exp run -S` rewrites more than one line of params.yaml: {bad}"


def test_readme_example_changes_its_items_only(tmp_path):
    pytest.importorskip("dvc")
    text = (ROOT / "params.yaml").read_text()
    lines = changed_lines(text, "dropout.p=[0.0,0.3,0.6]", tmp_path)
    assert sorted(lines) == ["+  - 0.3", "+  - 0.6", "-  - 0.2", "-  - 0.5"]
