"""The train job: every seed of one variant (or every variant), per-seed results and wall-clock values apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlps.io import write_csv, write_json
from dlps.paths import PREPARED, history_file, run_file, run_timing_file
from dlps.schema import ParamError


@dataclass
class Context:
    """What a training job may need beyond its params section; torch is imported only if asked."""

    params: dict
    threads: int = 0  # an experiment's own `threads` (tiny models run best on one); 0 = the shared setting
    data: Path = PREPARED
    _runtimes: dict = field(default_factory=dict, repr=False)

    def runtime(self, precision: str = "fp32", key: str = "precision"):
        """The device set-up (threads, deterministic kernels, device, a precision the device has), made once."""
        if precision not in self._runtimes:
            from dlps.runtime import setup

            self._runtimes[precision] = setup(self.params["device"], self.threads or self.params["threads"],
                                              precision, key)
        return self._runtimes[precision]

    @property
    def device(self) -> str:
        """The torch device (fp32 set-up)."""
        return self.runtime().device


def is_timing(spec, key: str) -> bool:
    """Whether a per-seed key is wall-clock: a name in spec.TIMINGS, or one with a suffix (`_lag100`, `_p5`)."""
    return any(key == t or key.startswith(t + "_") for t in getattr(spec, "TIMINGS", ()))


def workers_for(cfg: dict) -> int:
    """Processes that train (variant, seed) jobs at once: the section's `workers` (0 = one per core), else 1."""
    import os

    return cfg.get("workers", 1) or os.cpu_count() or 1


def _train_job(name: str, variant: str, seed: int, ctx: Context) -> dict:
    """One seed of one variant (run in a worker process when the experiment has `workers`)."""
    from dlps.experiments import part

    return part(name, "train").train(ctx.params[name], variant, [seed], ctx)


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
    from dlps.experiments import part

    spec, trainer = part(name, "spec"), part(name, "train")
    cfg = params[name]
    if variant is not None and variant not in spec.variants(cfg):
        raise ParamError(f"{name} variant: got {variant!r}; allowed: one of {', '.join(spec.variants(cfg))} "
                         "(from params.yaml)")
    variants = [variant] if variant is not None else spec.variants(cfg)
    seeds = cfg["seeds"]
    ctx = Context(params, threads=cfg.get("threads", 0))
    workers = workers_for(cfg)
    if workers == 1:  # one call per variant: the experiment may share set-up across its seeds
        results = {v: trainer.train(cfg, v, seeds, ctx) for v in variants}
    else:
        jobs = [(name, v, s, ctx) for v in variants for s in seeds]
        done = iter(run_jobs(_train_job, jobs, workers))
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
        write_csv(history_file(name, v), result["history"])  # empty when the experiment has no curves
