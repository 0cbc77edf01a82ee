"""Load params.yaml and validate the whole file (shared keys and every experiment's section) before any work."""

from __future__ import annotations

from pathlib import Path

import yaml

from dlps.schema import Bool, Choice, Float, Int, ListOf, ParamError, Section, Str

PARAMS_FILE = Path("params.yaml")

SHARED = {
    "device": Choice(("auto", "cpu", "cuda", "mps")),
    "threads": Int(0, 1024),
    "flush_denormal": Bool(),
    "data": Section({"datasets": ListOf(Choice(("mnist", "fashion_mnist", "cifar10", "imdb", "tinyshakespeare")),
                                        unique=True),
                     "mirror": Str(),
                     "retries": Int(0, 20),
                     "timeout_s": Float(0, lo_open=True)}),
}


def read_params(path: Path = PARAMS_FILE) -> dict:
    """Parse params.yaml; a missing or malformed file is a ParamError."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ParamError(f"{path}: not found; run from the project root, where params.yaml lives") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamError(f"{path}: malformed YAML{where}; fix the syntax (a `-S` override may have a typo)") from None
    if not isinstance(raw, dict):
        raise ParamError(f"{path}: got {raw!r}; allowed: a mapping of sections")
    return raw


def full_schema() -> Section:
    """The schema of the whole file: shared keys plus one section per registered experiment."""
    from dlps.experiments import load_all

    return Section({**SHARED, **{exp.name: exp.spec.schema for exp in load_all()}})


def load(path: Path = PARAMS_FILE) -> dict:
    """Read and validate the whole params file, then every experiment's cross-key rules; any problem raises
    ParamError before work starts."""
    from dlps.experiments import load_all

    params = full_schema().check("", read_params(path))
    for exp in load_all():
        if exp.spec.check is not None:
            exp.spec.check(params[exp.name])
    return params
