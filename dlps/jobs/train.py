"""The train job: every seed of one variant (or every variant), per-seed results and wall-clock values apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlps import progress
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
    torch: bool = True  # its jobs run torch (spec.torch): each of their processes gets the shared flush_denormal
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


def workers_for(cfg: dict, device: str = "cpu") -> int:
    """Processes that train jobs at once: the section's `workers`, else 1. workers 0 means one per core on the CPU
    and one on an accelerator (`device` from params.yaml; `auto` resolved here): processes would only share it."""
    import os

    n = cfg.get("workers", 1)
    if n:
        return n
    from dlps.runtime import pick_device

    return (os.cpu_count() or 1) if pick_device(device) == "cpu" else 1


def _train_job(name: str, variants: list[str], seeds: list[int], ctx: Context, job: tuple[int, int]) -> dict:
    """Job i of n: some variants over some seeds (one of each unless the experiment batches them), in this process or
    a worker."""
    from dlps.experiments import load

    ctx.set_up_process()
    label = f"{name} {'+'.join(variants)} seed{'s' * (len(seeds) > 1)} {','.join(map(str, seeds))}"
    with progress.task(label, total=len(variants) * len(seeds), unit="run", job=job) as bar:
        result = load(name).train.run(ctx.params[name], variants, seeds, ctx)
        bar.update(len(variants) * len(seeds))
    return result


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
    metrics, the wall-clock part of them, and (if any) per-epoch history. The jobs are independent (one per
    (variant, seed), or the experiment's own split into batched jobs), so running them in parallel workers gives the
    same bytes as running them in turn."""
    from dlps.experiments import load

    exp, cfg = load(name), params[name]
    variants = exp.spec.variants(cfg)
    if variant is not None and variant not in variants:
        raise ParamError(f"{name} variant: got {variant!r}; allowed: one of {', '.join(variants)} (from params.yaml)")
    variants = [variant] if variant is not None else variants
    ctx = Context(params, threads=cfg.get("threads", 0), torch=exp.spec.torch)
    ctx.set_up_process()  # in this process too: it may run jobs itself, and its timing record names the setting
    split = exp.train.jobs(cfg, variants)
    jobs = [(name, vs, ss, ctx, (i, len(split))) for i, (vs, ss) in enumerate(split, 1)]
    ids = [{"variants": vs, "seeds": ss} for vs, ss in split]
    job_cost = exp.cost.job_cost if exp.cost is not None else None
    costs = [sum(job_cost(cfg, v) for v in vs) * len(ss) for vs, ss in split] if job_cost else None
    records = for_stage(params, name, variant, exp.spec.torch)
    results = {v: {"runs": [], "history": []} for v in variants}
    for result in run_jobs(_train_job, jobs, workers_for(cfg, params["device"]), records, ids, costs):
        for v, r in result.items():
            results[v]["runs"] += r["runs"]
            results[v]["history"] += r["history"]
    for v, result in results.items():
        runs = [{k: x for k, x in row.items() if not exp.is_timing(k)} for row in result["runs"]]
        timings = [{k: x for k, x in row.items() if k == "seed" or exp.is_timing(k)} for row in result["runs"]]
        write_json(run_file(name, v), {"experiment": name, "variant": v, "runs": runs})
        write_json(run_timing_file(name, v), {"experiment": name, "variant": v, "runs": timings})
        if exp.spec.curves:
            write_csv(history_file(name, v), result["history"])
        else:  # no file at all: an empty CSV declared as a DVC output draws a warning on every run
            assert not result["history"], f"{name} writes history rows but its spec says CURVES = False"
    if records is not None:  # every output is written: the records were used, or are stale
        records.clear()
