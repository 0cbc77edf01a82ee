"""A model family's throughput as its stage runs it: as many one-thread job processes at once as the stage's
`workers`, each training its own copy, measured together against the ceiling of all their threads."""

from __future__ import annotations


def _flops_per_s(model: str, args: tuple, threads: int, flush: bool, start) -> float:
    """One job's FLOP/s, timed once every job has built and warmed up its model (`start`, a shared barrier)."""
    import torch
    from threadpoolctl import threadpool_limits

    from dlps.runtime import flush_denormal
    from dlps.tools.bench_models import MODELS, measure

    flush_denormal(flush)  # as the stage's job processes do, before their threads start
    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        w = MODELS[model](*args)
        w.step()
        start.wait()
        return measure(w)["flops_per_s"]


def at_once(model: str, args: tuple, threads: int, jobs: int, flush: bool = False) -> list[float]:
    """FLOP/s of each of `jobs` copies of a workload timed at the same time, in spawned processes (as run_jobs),
    subnormals flushed or not as `flush` says."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dlps.malloc import keep_freed_memory

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(jobs)
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=keep_freed_memory) as pool:
            return list(pool.map(_flops_per_s, *zip(*[(model, args, threads, flush, start)] * jobs)))
