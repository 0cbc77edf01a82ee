"""The generic stage jobs every experiment shares: train one variant, evaluate, plot; and where files live."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dlps import stats
from dlps.errors import UserError
from dlps.io import atomic_dir, read_csv, read_json, write_csv, write_json
from dlps.params import ParamError

PREPARED = Path("data/prepared")


def run_file(exp: str, variant: str) -> Path:
    return Path("metrics/runs") / exp / f"{variant}.json"


def history_file(exp: str, variant: str) -> Path:
    return Path("plots/history") / exp / f"{variant}.csv"


def metrics_file(exp: str) -> Path:
    return Path("metrics") / f"{exp}.json"


def figures_dir(exp: str) -> Path:
    return Path("plots") / exp


def timing_file(stage: str) -> Path:
    """The report reads every other stage's timing folder, so its own record lives with its outputs."""
    if stage == "report":
        return Path("report/timing.json")
    return Path("metrics/timing") / f"{stage.replace('@', '-')}.json"


def experiment(params: dict, name: str):
    """The experiment module, after its cross-key checks pass."""
    from dlps.experiments import REGISTRY

    if name not in REGISTRY:
        raise ParamError(f"experiment: got {name!r}; allowed: one of {', '.join(REGISTRY)}")
    module = REGISTRY[name]
    if hasattr(module, "check"):
        module.check(params[name])
    return module


def seeds_for(params: dict, name: str) -> list[int]:
    """An experiment's own `seeds` list if it has one, else the shared one."""
    return params[name].get("seeds", params["seeds"])


@dataclass
class Context:
    """What a training job may need beyond its params section; torch is imported only if asked."""

    params: dict
    threads: int = 0  # an experiment's own `threads` (tiny models run best on one); 0 = the shared setting
    data: Path = PREPARED

    @cached_property
    def device(self) -> str:
        from dlps.runtime import pick_device, set_threads

        set_threads(self.threads or self.params["threads"])
        return pick_device(self.params["device"])


def train(params: dict, name: str, variant: str) -> None:
    """Run every seed of one variant; write its per-seed metrics and (if any) per-epoch history."""
    exp = experiment(params, name)
    cfg = params[name]
    if variant not in exp.variants(cfg):
        raise ParamError(f"{name} variant: got {variant!r}; allowed: one of {', '.join(exp.variants(cfg))} "
                         "(from params.yaml)")
    seeds = seeds_for(params, name)
    result = exp.train(cfg, variant, seeds, Context(params, threads=cfg.get("threads", 0)))
    write_json(run_file(name, variant), {"experiment": name, "variant": variant, "runs": result["runs"]})
    write_csv(history_file(name, variant), result["history"])  # empty when the experiment has no curves


def load_runs(params: dict, name: str) -> dict[str, list[dict]]:
    """The per-seed rows of exactly the variants and seeds params lists (no folder globbing)."""
    exp = experiment(params, name)
    seeds = seeds_for(params, name)
    runs = {}
    for variant in exp.variants(params[name]):
        path = run_file(name, variant)
        if not path.is_file():
            raise UserError(f"{path}: missing; run `dvc repro` to train {name} variant {variant}")
        rows = read_json(path)["runs"]
        if [r["seed"] for r in rows] != seeds:
            raise UserError(f"{path}: holds seeds {[r['seed'] for r in rows]}, params list {seeds}; "
                             "it is stale: run `dvc repro`")
        runs[variant] = rows
    return runs


def aggregate(exp, cfg: dict, runs: dict[str, list[dict]]) -> dict:
    """Summaries over seeds per variant and metric, plus the experiment's comparisons (no files touched)."""

    def paired(a: str, b: str, metric: str, test: str = "t", alternative: str = "two-sided") -> dict:
        result = stats.paired_test([r[metric] for r in runs[a]], [r[metric] for r in runs[b]],
                                   test=test, alternative=alternative)
        return {"a": a, "b": b, "metric": metric, **result}

    summary = {v: {m: stats.summarize([r[m] for r in rows]) for m in exp.METRICS} for v, rows in runs.items()}
    analysis = exp.analyze(cfg, runs, paired)
    return {"seeds": [r["seed"] for r in next(iter(runs.values()))], "variants": summary,
            "comparisons": analysis["comparisons"], "derived": analysis["derived"]}


def evaluate(params: dict, name: str) -> dict:
    """Aggregate exactly the runs params list; writes metrics/<name>.json."""
    exp = experiment(params, name)
    metrics = {"experiment": name, **aggregate(exp, params[name], load_runs(params, name))}
    write_json(metrics_file(name), metrics)
    return metrics


def plot(params: dict, name: str) -> list[dict]:
    """Render the experiment's figures from its metrics and runs; records them in figures.json."""
    exp = experiment(params, name)
    histories = {v: read_csv(history_file(name, v)) for v in exp.variants(params[name])}
    with atomic_dir(figures_dir(name)) as out_dir:
        figures = exp.plot(params[name], read_json(metrics_file(name)), load_runs(params, name), histories, out_dir)
        write_json(out_dir / "figures.json", figures)
    return figures
