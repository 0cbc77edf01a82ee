"""The contract between the framework and an experiment: the parts its modules define, and the one way to read them."""

from __future__ import annotations

from dataclasses import dataclass
from types import FunctionType, ModuleType

from dlps.schema import Section

NoneType = type(None)


@dataclass(frozen=True)
class Part:
    """One attribute of one experiment module: its type, whether it is required, and its default if not."""

    module: str  # spec, train, judge, figures, cost, power
    name: str
    type: type | tuple[type, ...]
    meaning: str
    required: bool = True
    default: object = None
    default_from: str | None = None  # an optional part that defaults to another part of the same module


KEYS = tuple  # of str: per-seed keys, params keys, dataset names

PARTS = (
    Part("spec", "NAME", str, "the experiment's name: its folder, params section and stage names"),
    Part("spec", "SCHEMA", Section, "its params section's schema, with its own `seeds`"),
    Part("spec", "variants", FunctionType, "variants(cfg) -> [str]: what it trains, in order"),
    Part("spec", "VARIANTS_KEY", (str, NoneType), "the params key listing the variants (a DVC matrix), or None"),
    Part("spec", "JUDGE_KEYS", KEYS, "params keys only judging reads (α, margins, bars): never a train stage's param"),
    Part("spec", "METRICS", KEYS, "per-seed numbers summarised over seeds for every variant"),
    Part("spec", "DATASETS", KEYS, "prepared datasets it trains on (train stage deps)"),
    Part("spec", "TORCH", bool, "it uses the torch device set-up, so `device` and `threads` are train params"),
    Part("spec", "check", (FunctionType, NoneType), "check(cfg) raises ParamError on a rule across keys",
         required=False),
    Part("spec", "TIMINGS", KEYS, "per-seed wall-clock keys (and their `_<suffix>` forms), kept out of runs/",
         required=False, default=()),
    Part("spec", "TABLE_METRICS", KEYS, "the metrics the report's table shows", required=False,
         default_from="METRICS"),
    Part("spec", "FIGURE_DATASETS", KEYS, "prepared datasets its figures read (plots stage deps)", required=False,
         default=()),
    Part("spec", "ONE_TRAIN_STAGE", bool, "all variants train in one stage (their jobs may run in `workers` "
         "processes) instead of one stage per variant", required=False, default=False),
    Part("spec", "CURVES", bool, "train writes per-step or per-epoch history rows (plots/history/<name>/), drawn "
         "and listed as DVC plots; False: no history file at all", required=False, default=True),
    Part("spec", "TEST_SCORED", (str, NoneType), "when test data are scored, in words (its judge reports it)",
         required=False),
    Part("train", "train", FunctionType, "train(cfg, variant, seeds, ctx) -> {'runs': [per-seed dict], "
         "'history': [row]}"),
    Part("train", "groups", (FunctionType, NoneType), "groups(cfg, variants) -> [(variants, seeds)]: its own split "
         "into batched jobs (with train_group)", required=False),
    Part("train", "train_group", (FunctionType, NoneType), "train_group(cfg, variants, seeds, ctx) -> {variant: "
         "train's result}", required=False),
    Part("judge", "analyze", FunctionType, "analyze(cfg, runs, paired) -> {'comparisons', 'derived'}"),
    Part("judge", "findings", FunctionType, "findings(cfg, metrics, runs) -> [finding] (dlps.verdicts rules)"),
    Part("figures", "plot", FunctionType, "plot(cfg, metrics, runs, histories, out_dir) -> [figure]"),
    Part("figures", "PLOTS", (list, tuple), "DVC plot definitions: figure file names, or {'history': {'x', 'y'}} for "
         "per-step curves", required=False, default=()),
    Part("cost", "train_flops", FunctionType, "train_flops(cfg, runs) -> FLOPs of its training (the roofline)",
         required=False),
    Part("cost", "bench_workloads", FunctionType, "bench_workloads(cfg, threads) -> [(label, precision, threads, "
         "model, args)]: its models timed by the bench", required=False),
    Part("cost", "job_cost", (FunctionType, NoneType), "job_cost(cfg, variant) -> one (variant, seed) job's "
         "expected relative time: parallel workers start the costliest first", required=False),
    Part("cost", "precision_check", FunctionType, "precision_check(params) -> its fp32-vs-bf16 comparison, or None",
         required=False),
    Part("power", "plans", FunctionType, "plans(pilot) -> [dlps.tools.power.Plan]: its primaries' power "
         "calculations from the pilot's spread (docs/protocol.md)", required=False),
)


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
BY_NAME = {p.name: p for p in PARTS}  # part names are unique across the modules


def get(module, name: str):
    """A part of an experiment module, or its contract default; a part the contract does not list is a KeyError."""
    p = BY_NAME[name]
    if hasattr(module, name):
        return getattr(module, name)
    if p.required:
        raise AttributeError(f"{module!r} lacks {name}, which the experiment contract requires: {p.meaning}")
    return getattr(module, p.default_from) if p.default_from else p.default


def problems(module: ModuleType, kind: str) -> list[str]:
    """Where one of an experiment's modules (kind: spec, train, judge, figures, cost, power) breaks the contract: a required part
    missing, or a part of the wrong type."""
    found = []
    for p in PARTS:
        if p.module != kind:
            continue
        if not hasattr(module, p.name):
            if p.required:
                found.append(f"{module.__name__}.{p.name}: missing ({p.meaning})")
            continue
        value = getattr(module, p.name)
        if not isinstance(value, p.type) or (p.type is KEYS and not all(isinstance(v, str) for v in value)):
            found.append(f"{module.__name__}.{p.name}: got {type(value).__name__}, want {p.type}")
    if kind == "train" and hasattr(module, "groups") != hasattr(module, "train_group"):
        found.append(f"{module.__name__}: groups and train_group come together")
    return found
