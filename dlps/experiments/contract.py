"""The contract between the framework and an experiment: each part its modules define, typed, with its default."""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from functools import cached_property
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Callable

from dlps.schema import Section

NoneType = type(None)
KEYS = tuple  # of str: per-seed keys, params keys, dataset names
FOLDERS = Path(__file__).parent


def _attr(attr: str, kind, meaning: str, default=MISSING, default_from: str | None = None):
    """A field read from the module attribute `attr`; without a default (or `default_from`, another attribute of the
    same module) the module must define it."""
    return field(default=None if default_from else default,
                 metadata={"attr": attr, "type": kind, "meaning": meaning, "default_from": default_from})


class ContractError(AttributeError):
    """An experiment module lacks a part the contract requires, or has one of the wrong type."""


def read_part(cls, module: ModuleType):
    """An instance of the part class `cls` from `module`'s attributes, defaults filled in."""
    values = {}
    for f in dataclasses.fields(cls):
        attr, default_from = f.metadata["attr"], f.metadata["default_from"]
        if hasattr(module, attr):
            values[f.name] = getattr(module, attr)
        elif default_from:
            values[f.name] = getattr(module, default_from)
        elif f.default is MISSING:
            raise ContractError(f"{module.__name__} lacks {attr}, which the experiment contract requires: "
                                f"{f.metadata['meaning']}")
    return cls(**values)


@dataclass(frozen=True)
class Spec:
    """spec.py: what the experiment is. A train stage depends on it."""

    name: str = _attr("NAME", str, "the experiment's name: its folder, params section and stage names")
    schema: Section = _attr("SCHEMA", Section, "its params section's schema, with its own `seeds`")
    variants: Callable = _attr("variants", FunctionType, "variants(cfg) -> [str]: what it trains, in order")
    variants_key: str | None = _attr("VARIANTS_KEY", (str, NoneType),
                                     "the params key listing the variants (a DVC matrix), or None")
    judge_keys: tuple = _attr("JUDGE_KEYS", KEYS,
                              "params keys only judging reads (α, margins, bars): never a train stage's param")
    metrics: tuple = _attr("METRICS", KEYS, "per-seed numbers summarised over seeds for every variant")
    datasets: tuple = _attr("DATASETS", KEYS, "prepared datasets it trains on (train stage deps)")
    torch: bool = _attr("TORCH", bool, "it uses the torch device set-up, so `device`, `threads` and "
                        "`flush_denormal` are train params")
    check: Callable | None = _attr("check", (FunctionType, NoneType),
                                   "check(cfg) raises ParamError on a rule across keys", None)
    timings: tuple = _attr("TIMINGS", KEYS, "per-seed wall-clock keys (and their `_<suffix>` forms), kept out of "
                           "runs/", ())
    table_metrics: tuple = _attr("TABLE_METRICS", KEYS, "the metrics the report's table shows",
                                 default_from="METRICS")
    figure_datasets: tuple = _attr("FIGURE_DATASETS", KEYS, "prepared datasets its figures read (plots stage deps)",
                                   ())
    one_train_stage: bool = _attr("ONE_TRAIN_STAGE", bool, "all variants train in one stage (their jobs may run in "
                                  "`workers` processes) instead of one stage per variant", False)
    curves: bool = _attr("CURVES", bool, "train writes per-step or per-epoch history rows (plots/history/<name>/), "
                         "drawn and listed as DVC plots; False: no history file at all", True)
    test_scored: str | None = _attr("TEST_SCORED", (str, NoneType),
                                    "when test data are scored, in words (its judge reports it)", None)


@dataclass(frozen=True)
class Train:
    """train.py: how its jobs train. A train stage depends on it. Every job is some variants over some seeds."""

    train: Callable = _attr("train", FunctionType, "train(cfg, variant, seeds, ctx) -> {'runs': [per-seed dict], "
                            "'history': [row]}")
    groups: Callable | None = _attr("groups", (FunctionType, NoneType), "groups(cfg, variants) -> [(variants, "
                                    "seeds)]: its own split into batched jobs (with train_group); default: one job "
                                    "per (variant, seed)", None)
    train_group: Callable | None = _attr("train_group", (FunctionType, NoneType), "train_group(cfg, variants, "
                                         "seeds, ctx) -> {variant: train's result}; default: train per variant",
                                         None)

    def jobs(self, cfg: dict, variants: list[str]) -> list[tuple[list[str], list[int]]]:
        """The experiment's split of (variants × seeds) into jobs: its own groups, else one job per (variant, seed)."""
        if self.groups is not None:
            return [(list(vs), list(ss)) for vs, ss in self.groups(cfg, variants)]
        return [([v], [s]) for v in variants for s in cfg["seeds"]]

    def run(self, cfg: dict, variants: list[str], seeds: list[int], ctx) -> dict[str, dict]:
        """One job: {variant: {'runs', 'history'}}, through train_group where the experiment batches variants."""
        if self.train_group is not None:
            return self.train_group(cfg, variants, seeds, ctx)
        return {v: self.train(cfg, v, seeds, ctx) for v in variants}


@dataclass(frozen=True)
class Judge:
    """judge.py: its comparisons and findings (dlps.verdicts rules, fixed before the data are seen)."""

    analyze: Callable = _attr("analyze", FunctionType, "analyze(cfg, runs, paired) -> {'comparisons', 'derived'}")
    findings: Callable = _attr("findings", FunctionType,
                               "findings(cfg, metrics, runs) -> [finding] (dlps.verdicts rules)")


@dataclass(frozen=True)
class Figures:
    """figures.py: its figures, and the DVC plot definitions over them."""

    plot: Callable = _attr("plot", FunctionType, "plot(cfg, metrics, runs, histories, out_dir) -> [figure]")
    plots: tuple = _attr("PLOTS", (list, tuple), "DVC plot definitions: figure file names, or {'history': {'x', "
                         "'y', optional 'by'}} for per-variant curves (mean over seeds with a band)", ())


@dataclass(frozen=True)
class Cost:
    """cost.py (optional): its training cost, read by the tools and by the job scheduler."""

    train_flops: Callable | None = _attr("train_flops", (FunctionType, NoneType),
                                         "train_flops(cfg, runs) -> FLOPs of its training (the roofline)", None)
    bench_workloads: Callable | None = _attr("bench_workloads", (FunctionType, NoneType), "bench_workloads(cfg, "
                                             "threads) -> [(label, precision, threads, model, args)]: its models "
                                             "timed by the bench", None)
    job_cost: Callable | None = _attr("job_cost", (FunctionType, NoneType), "job_cost(cfg, variant) -> one "
                                      "(variant, seed) job's expected relative time: parallel workers start the "
                                      "costliest first", None)
    precision_reference: Callable | None = _attr("precision_reference", (FunctionType, NoneType),
                                                 "precision_reference(cfg) -> {'variant', 'fp32': params overrides of "
                                                 "the fp32 reference, 'metrics'} the bench trains in fp32 and in its "
                                                 "precision, or None", None)


@dataclass(frozen=True)
class Power:
    """power.py (optional): its primaries' power plans (dlps.tools.power simulates each rule; evaluate re-runs them
    with the run's own spread, so an evaluate stage depends on it)."""

    plans: Callable = _attr("plans", FunctionType, "plans(source) -> one dict per primary with a p: finding, rule, "
                            "test ('t' | 'tost' | 'sign'), sds (one per part, all required), effect (the smallest "
                            "effect of interest or margin) or q (sign), at, sd; optional extra_var (shared, not shrunk "
                            "by seeds) and extra_df (its degrees of freedom: Welch–Satterthwaite). "
                            "`source.col(variant, key)`, `.runs(variant)`, `.has(variant)`, `.sd(x)` read per-seed rows")


@dataclass(frozen=True)
class File:
    """One data file of an experiment folder, read by the report, the docs or the tests (never by a train stage)."""

    name: str
    meaning: str
    required: bool = True


FILES = (
    File("writeup.yaml", "report prose: title, question, setup, key_figure, try {command, question, compare}; "
         "optional headline (the primary the summary leads with), headline_meaning, headline_unit"),
    File("literature.yaml", "published results and theory checks its findings are set against (the report's "
         "Literature table)", required=False),
    File("tiny.yaml", "params overrides that make its stages run in seconds (the end-to-end tests)", required=False),
)
MODULES = {"spec": Spec, "train": Train, "judge": Judge, "figures": Figures, "cost": Cost, "power": Power}
OPTIONAL = ("cost", "power")


@dataclass(frozen=True)
class Experiment:
    """One experiment: its spec, read at once, and its other parts, each imported on first use (a train stage
    imports, and so depends on, only its spec and train code)."""

    name: str
    spec: Spec
    module: Callable[[str], ModuleType | None] = field(repr=False)  # the loader's import of one of its modules

    @property
    def folder(self) -> Path:
        return FOLDERS / self.name

    @cached_property
    def train(self) -> Train:
        return read_part(Train, self.module("train"))

    @cached_property
    def judge(self) -> Judge:
        return read_part(Judge, self.module("judge"))

    @cached_property
    def figures(self) -> Figures:
        return read_part(Figures, self.module("figures"))

    @cached_property
    def cost(self) -> Cost | None:
        module = self.module("cost")
        return None if module is None else read_part(Cost, module)

    @cached_property
    def power(self) -> Power | None:
        module = self.module("power")
        return None if module is None else read_part(Power, module)

    def data(self, filename: str, default=None):
        """The parsed data file of its folder (one of FILES), or `default` if it has none."""
        import yaml

        path = self.folder / filename
        return yaml.safe_load(path.read_text()) if path.is_file() else default

    def train_stages(self, params: dict) -> list[str]:
        """The DVC stages that train it: one for all variants (one_train_stage), else one per variant (a matrix)."""
        if self.spec.one_train_stage:
            return [f"train_{self.name}"]
        return [f"train_{self.name}@{v}" for v in self.spec.variants(params[self.name])]

    def is_timing(self, key: str) -> bool:
        """Whether a per-seed key is wall-clock: a name in its timings, or one with a suffix (`_lag100`, `_p5`)."""
        return any(key == t or key.startswith(t + "_") for t in self.spec.timings)


def parts(cls) -> list[dataclasses.Field]:
    """The fields of a part class, each with its module attribute, type and meaning in `metadata`."""
    return list(dataclasses.fields(cls))


def problems(module: ModuleType, kind: str) -> list[str]:
    """Where one of an experiment's modules (kind: a key of MODULES) breaks the contract: a required part missing,
    or a part of the wrong type."""
    found = []
    for f in parts(MODULES[kind]):
        attr, want = f.metadata["attr"], f.metadata["type"]
        if not hasattr(module, attr):
            if f.default is MISSING and not f.metadata["default_from"]:
                found.append(f"{module.__name__}.{attr}: missing ({f.metadata['meaning']})")
            continue
        value = getattr(module, attr)
        if not isinstance(value, want) or (want is KEYS and not all(isinstance(v, str) for v in value)):
            found.append(f"{module.__name__}.{attr}: got {type(value).__name__}, want {want}")
    if kind == "train" and hasattr(module, "groups") != hasattr(module, "train_group"):
        found.append(f"{module.__name__}: groups and train_group come together")
    return found
