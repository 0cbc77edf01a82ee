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


def run_timing_file(exp: str, variant: str) -> Path:
    """The wall-clock values of a variant's per-seed rows (exp.TIMINGS), kept apart so runs/ stays bit-identical."""
    return Path("metrics/timing/runs") / exp / f"{variant}.json"


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
        """The torch device; asking for it also sets the thread count and torch's deterministic kernels."""
        from dlps.runtime import deterministic, pick_device, set_threads

        set_threads(self.threads or self.params["threads"])
        deterministic()
        return pick_device(self.params["device"])


def is_timing(exp, key: str) -> bool:
    """Whether a per-seed key is wall-clock: a name in exp.TIMINGS, or one with a suffix (`_lag100`, `_p5`)."""
    return any(key == t or key.startswith(t + "_") for t in getattr(exp, "TIMINGS", ()))


def workers_for(cfg: dict) -> int:
    """Processes that train (variant, seed) jobs at once: the section's `workers` (0 = one per core), else 1."""
    import os

    return cfg.get("workers", 1) or os.cpu_count() or 1


def train_stages(params: dict, name: str) -> list[str]:
    """The DVC stages that train an experiment: one per variant, or one for all when it has `workers`."""
    if "workers" in params[name]:
        return [f"train_{name}"]
    return [f"train_{name}@{v}" for v in experiment(params, name).variants(params[name])]


def _train_job(name: str, variant: str, seed: int, ctx: Context) -> dict:
    """One seed of one variant (run in a worker process when the experiment has `workers`)."""
    exp = experiment(ctx.params, name)
    return exp.train(ctx.params[name], variant, [seed], ctx)


def run_jobs(fn, jobs: list[tuple], workers: int) -> list:
    """fn(*job) for every job, results in job order: in this process, or in `workers` fresh (spawned) processes.

    Spawned, not forked: a forked child would inherit torch's thread pools in an undefined state."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(*job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dlps.timing import note_workers

    workers = min(workers, len(jobs))
    note_workers(workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(fn, *job) for job in jobs]
        return [f.result() for f in futures]


def train(params: dict, name: str, variant: str | None = None) -> None:
    """Run every seed of one variant (or of every variant, when none is named); write each variant's per-seed
    metrics, the wall-clock part of them, and (if any) per-epoch history. Seeds are independent jobs, so running
    them in parallel workers gives the same bytes as running them in turn."""
    exp = experiment(params, name)
    cfg = params[name]
    if variant is not None and variant not in exp.variants(cfg):
        raise ParamError(f"{name} variant: got {variant!r}; allowed: one of {', '.join(exp.variants(cfg))} "
                         "(from params.yaml)")
    variants = [variant] if variant is not None else exp.variants(cfg)
    seeds = seeds_for(params, name)
    ctx = Context(params, threads=cfg.get("threads", 0))
    workers = workers_for(cfg)
    if workers == 1:  # one call per variant: the experiment may share set-up across its seeds
        results = {v: exp.train(cfg, v, seeds, ctx) for v in variants}
    else:
        jobs = [(name, v, s, ctx) for v in variants for s in seeds]
        done = iter(run_jobs(_train_job, jobs, workers))
        results = {}
        for v in variants:
            parts = [next(done) for _ in seeds]
            results[v] = {"runs": [r for p in parts for r in p["runs"]],
                          "history": [h for p in parts for h in p["history"]]}
    for v, result in results.items():
        runs = [{k: x for k, x in row.items() if not is_timing(exp, k)} for row in result["runs"]]
        timings = [{k: x for k, x in row.items() if k == "seed" or is_timing(exp, k)} for row in result["runs"]]
        write_json(run_file(name, v), {"experiment": name, "variant": v, "runs": runs})
        write_json(run_timing_file(name, v), {"experiment": name, "variant": v, "runs": timings})
        write_csv(history_file(name, v), result["history"])  # empty when the experiment has no curves


def load_runs(params: dict, name: str) -> dict[str, list[dict]]:
    """The per-seed rows of exactly the variants and seeds params lists (no folder globbing), with their
    wall-clock values merged back in."""
    exp = experiment(params, name)
    seeds = seeds_for(params, name)
    runs = {}
    for variant in exp.variants(params[name]):
        held = []
        for path in (run_file(name, variant), run_timing_file(name, variant)):
            if not path.is_file():
                raise UserError(f"{path}: missing; run `dvc repro` to train {name} variant {variant}")
            rows = read_json(path)["runs"]
            if [r["seed"] for r in rows] != seeds:
                raise UserError(f"{path}: holds seeds {[r['seed'] for r in rows]}, params list {seeds}; "
                                 "it is stale: run `dvc repro`")
            held.append(rows)
        runs[variant] = [row | timing for row, timing in zip(*held)]
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
