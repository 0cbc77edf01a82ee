"""The train job: every seed of one variant (or every variant), per-seed results and wall-clock values apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlps import progress
from dlps.experiments.contract import get
from dlps.io import write_csv, write_json
from dlps.jobs.records import for_stage
from dlps.paths import PREPARED, history_file, run_file, run_timing_file
from dlps.schema import ParamError


@dataclass
class Context:
    """What a training job may need beyond its params section; torch is imported only if asked."""

    params: dict
    threads: int = 0  # an experiment's own `threads` (tiny models run best on one); 0 = the shared setting
    data: Path = PREPARED
    torch: bool = True  # its jobs run torch (spec.TORCH): each of their processes gets the shared flush_denormal
    _runtimes: dict = field(default_factory=dict, repr=False)

    def set_up_process(self) -> None:
        """What every process that runs this stage's jobs sets before any of them, whatever the job: a worker that
        trained a torch model and then fits a NumPy/scikit-learn baseline must not differ from one that did not."""
        if self.flush is not None:
            from dlps.runtime import flush_denormal

            flush_denormal(self.flush)

    @property
    def flush(self) -> bool | None:
        """params' flush_denormal for a torch experiment; None (leave the process as it is) otherwise, and in the
        partial params of tests."""
        return self.params.get("flush_denormal") if self.torch else None

    def runtime(self, precision: str = "fp32", key: str = "precision"):
        """The device set-up (subnormal flushing, threads, deterministic kernels, device, a precision the device
        has), made once."""
        if precision not in self._runtimes:
            from dlps.runtime import setup

            self._runtimes[precision] = setup(self.params["device"], self.threads or self.params["threads"],
                                              precision, key, self.flush)
        return self._runtimes[precision]

    @property
    def device(self) -> str:
        """The torch device (fp32 set-up)."""
        return self.runtime().device


def is_timing(spec, key: str) -> bool:
    """Whether a per-seed key is wall-clock: a name in spec.TIMINGS, or one with a suffix (`_lag100`, `_p5`)."""
    return any(key == t or key.startswith(t + "_") for t in get(spec, "TIMINGS"))


def workers_for(cfg: dict, device: str = "cpu") -> int:
    """Processes that train jobs at once: the section's `workers`, else 1. workers 0 means one per core on the CPU
    and one on an accelerator (`device` from params.yaml; `auto` resolved here): processes would only share it."""
    import os

    n = cfg.get("workers", 1)
    if n:
        return n
    from dlps.runtime import pick_device

    return (os.cpu_count() or 1) if pick_device(device) == "cpu" else 1


def _train_job(name: str, variant: str, seed: int, ctx: Context, job: tuple[int, int] | None = None) -> dict:
    """One seed of one variant, job i of n (run in a worker process when the experiment has `workers`)."""
    from dlps.experiments import part

    ctx.set_up_process()
    with progress.task(f"{name} {variant} seed {seed}", total=1, unit="seed", job=job) as bar:
        result = part(name, "train").train(ctx.params[name], variant, [seed], ctx)
        bar.update(1)
    return result


def _train_variant(trainer, name: str, cfg: dict, variant: str, ctx: Context, job: tuple[int, int]) -> dict:
    """Every seed of one variant in this process, job i of n."""
    with progress.task(f"{name} {variant}", total=len(cfg["seeds"]), unit="seed", job=job) as bar:
        result = trainer.train(cfg, variant, cfg["seeds"], ctx)
        bar.update(len(cfg["seeds"]))
    return result


def _train_group(name: str, variants: list[str], seeds: list[int], ctx: Context, job: tuple[int, int]) -> dict:
    """Some variants over some seeds as one job (an experiment that batches them defines groups/train_group)."""
    from dlps.experiments import part

    ctx.set_up_process()
    label = f"{name} {'+'.join(variants)} seeds {','.join(map(str, seeds))}"
    with progress.task(label, total=len(variants) * len(seeds), unit="run", job=job) as bar:
        result = part(name, "train").train_group(ctx.params[name], variants, seeds, ctx)
        bar.update(len(variants) * len(seeds))
    return result


def _grouped(trainer, name: str, cfg: dict, variants: list[str], ctx: Context, workers: int, records=None) -> dict:
    """Every variant's results from the experiment's own job split, seeds in the order of its groups."""
    groups = trainer.groups(cfg, variants)
    jobs = [(name, vs, ss, ctx, (i, len(groups))) for i, (vs, ss) in enumerate(groups, 1)]
    ids = [{"variants": list(vs), "seeds": list(ss)} for vs, ss in groups]
    results = {v: {"runs": [], "history": []} for v in variants}
    for part_result in run_jobs(_train_group, jobs, workers, records, ids):
        for v, r in part_result.items():
            results[v]["runs"] += r["runs"]
            results[v]["history"] += r["history"]
    return results


def run_jobs(fn, jobs: list[tuple], workers: int, records=None, ids: list[dict] | None = None,
             costs: list[float] | None = None) -> list:
    """fn(*job) for every job, results in job order: in this process, or in `workers` fresh (spawned) processes.
    With `records` (dlps.jobs.records.Records) and `ids` (job i's arguments that decide its result, as JSON), a job
    an interrupted run finished is not run again, and each job's result is kept the moment it finishes. With
    `costs` (job i's expected relative time), the costliest jobs start first, so no worker is left running one
    long job after the others have finished; a job's result never depends on when it runs.

    Spawned, not forked: a forked child would inherit torch's thread pools in an undefined state."""
    results: list = [None] * len(jobs)
    todo = list(range(len(jobs)))
    if costs is not None:
        todo.sort(key=lambda i: -costs[i])  # stable: equal costs keep job order
    if len(jobs) <= 1:  # nothing to resume: a killed one-job stage has finished nothing
        records = None
    if records is not None:
        ids = [{"fn": fn.__name__, **job_id} for job_id in ids]
        todo = [i for i in todo if not _reuse(records, ids[i], results, i)]
        records.report(len(jobs))

    def finished(i: int, result) -> None:
        results[i] = result
        if records is not None:
            records.save(ids[i], result)

    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            finished(i, fn(*jobs[i]))
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from dlps.malloc import keep_freed_memory
    from dlps.timing import note_workers

    workers = min(workers, len(todo))
    note_workers(workers)
    error = None
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=keep_freed_memory) as pool:
        futures = {pool.submit(fn, *jobs[i]): i for i in todo}
        for f in as_completed(futures):  # kept as they finish, not in order: a kill loses only unfinished jobs
            try:
                result = f.result()
            except BaseException as e:  # noqa: BLE001 - re-raised below, once the running jobs are kept
                if error is None:
                    error = e
                    for other in futures:
                        other.cancel()
                continue
            finished(futures[f], result)
    if error is not None:
        raise error
    return results


def _reuse(records, job_id: dict, results: list, i: int) -> bool:
    found, result = records.load(job_id)
    if found:
        results[i] = result
    return found


def train(params: dict, name: str, variant: str | None = None) -> None:
    """Run every seed of one variant (or of every variant, when none is named); write each variant's per-seed
    metrics, the wall-clock part of them, and (if any) per-epoch history. Seeds are independent jobs (or, for an
    experiment with groups(), its own fixed split into batched jobs), so running them in parallel workers gives the
    same bytes as running them in turn."""
    from dlps.experiments import has_part, part

    spec, trainer = part(name, "spec"), part(name, "train")
    cfg = params[name]
    if variant is not None and variant not in spec.variants(cfg):
        raise ParamError(f"{name} variant: got {variant!r}; allowed: one of {', '.join(spec.variants(cfg))} "
                         "(from params.yaml)")
    variants = [variant] if variant is not None else spec.variants(cfg)
    seeds = cfg["seeds"]
    ctx = Context(params, threads=cfg.get("threads", 0), torch=spec.TORCH)
    ctx.set_up_process()  # in this process too: it may run jobs itself, and its timing record names the setting
    workers = workers_for(cfg, params["device"])
    records = for_stage(params, name, variant, spec.TORCH)
    if get(trainer, "groups") is not None:  # the experiment batches several models per job and says how to split them
        results = _grouped(trainer, name, cfg, variants, ctx, workers, records)
    elif workers == 1:  # one call per variant: the experiment may share set-up across its seeds
        jobs = [(trainer, name, cfg, v, ctx, (i, len(variants))) for i, v in enumerate(variants, 1)]
        ids = [{"variants": [v], "seeds": list(seeds)} for v in variants]
        results = dict(zip(variants, run_jobs(_train_variant, jobs, 1, records, ids)))
    else:
        pairs = [(v, s) for v in variants for s in seeds]
        jobs = [(name, v, s, ctx, (i, len(pairs))) for i, (v, s) in enumerate(pairs, 1)]
        ids = [{"variants": [v], "seeds": [s]} for v, s in pairs]
        cost = get(part(name, "cost"), "job_cost") if has_part(name, "cost") else None
        done = iter(run_jobs(_train_job, jobs, workers, records, ids, cost and [cost(cfg, v) for v, _ in pairs]))
        results = {}
        for v in variants:
            parts = [next(done) for _ in seeds]
            results[v] = {"runs": [r for p in parts for r in p["runs"]],
                          "history": [h for p in parts for h in p["history"]]}
    for v, result in results.items():
        runs = [{k: x for k, x in row.items() if not is_timing(spec, k)} for row in result["runs"]]
        timings = [{k: x for k, x in row.items() if k == "seed" or is_timing(spec, k)} for row in result["runs"]]
        write_json(run_file(name, v), {"experiment": name, "variant": v, "runs": runs})
        write_json(run_timing_file(name, v), {"experiment": name, "variant": v, "runs": timings})
        if get(spec, "CURVES"):
            write_csv(history_file(name, v), result["history"])
        else:  # no file at all: an empty CSV declared as a DVC output draws a warning on every run
            assert not result["history"], f"{name} writes history rows but its spec says CURVES = False"
    if records is not None:  # every output is written: the records were used, or are stale
        records.clear()
