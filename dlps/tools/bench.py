"""Measure this machine's matmul ceilings and each model family's training throughput against them (the models and
their sizes from each experiment's cost.py)."""

from __future__ import annotations

import subprocess
import sys

from dlps.tools.bench_jobs import at_once
from dlps.tools.bench_models import MODELS, median_time, measure_flushing
from dlps.tools.bench_precision import precision_check
from dlps.tools.bench_profile import HALF, explain, table_lines


def gemm_rates(dtype_name: str, n: int = 2048) -> dict[str, float]:
    """FLOP/s of an n×n matmul in the given dtype (2n³ FLOPs) through each GEMM library torch has here, median of
    repeats, at the current thread count: the BLAS behind torch.mm, and oneDNN (behind torch's convolutions and
    fused LSTM) where its product agrees with torch.mm's."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    rates = {"torch.mm": 2 * n ** 3 / median_time(lambda: a @ b)}
    try:
        from dlps.models.onednn import onednn_gemm  # a @ bᵀ: the same 2n³ FLOPs

        if torch.allclose(onednn_gemm(a, b).float(), (a @ b.T).float(), rtol=1e-2, atol=1e-2 * n ** 0.5):
            rates["oneDNN"] = 2 * n ** 3 / median_time(lambda: onednn_gemm(a, b))
    except (AttributeError, RuntimeError):  # a torch built without oneDNN, or a CPU it does not serve
        pass
    return rates


def matmul_ceiling(rates: dict[str, float]) -> float:
    """The ceiling is the fastest library's rate: a BLAS may leave vector units idle (MKL runs its AVX2 code on
    AMD CPUs), and a ceiling below what the machine does would inflate every share of it."""
    return max(rates.values())


def dvc_overhead() -> dict:
    """`dvc repro` with nothing to do (measured only when `dvc status` finds the pipeline up to date, so the bench
    never runs a stage), and the start-up cost of a stage process (Python + dlps + torch)."""
    def timed(cmd):
        return median_time(lambda: subprocess.run(cmd, capture_output=True, check=False), repeats=3, warmup=0)

    clean = subprocess.run(["dvc", "status", "--quiet"], capture_output=True, check=False).returncode == 0
    return {"dvc_repro_noop_s": timed(["dvc", "repro"]) if clean else None,
            "import_dlps_pipeline_s": timed([sys.executable, "-c", "import dlps.cli, dlps.jobs.train"]),
            "import_torch_s": timed([sys.executable, "-c", "import torch"])}


def costs() -> list:
    """(name, cost module) of every experiment that has a cost.py, in report order."""
    from dlps.experiments import load_all

    return [(exp.name, exp.cost) for exp in load_all() if exp.cost is not None]


def workloads(params: dict, threads: int) -> list[tuple]:
    """(name, precision, threads, model, args, jobs) for each model family, from the experiments' bench_workloads
    at their params: the thread count each experiment's jobs use (its `threads`, else the shared count), its
    precision, and how many jobs its stage runs at once (its `workers`); model names a builder in MODELS."""
    from dlps.jobs.train import workers_for

    rows = []
    for name, cost in costs():
        listed = cost.bench_workloads
        jobs = workers_for(params[name], params.get("device", "cpu"))
        rows += [(*row, jobs) for row in (listed(params[name], threads) if listed else [])]
    return rows


def flushing_row(both: dict[bool, dict], stages: bool) -> dict:
    """A family's samples/s with subnormals flushed and kept, the faster, and which the stages use."""
    flushed, kept = (both[on]["samples_per_s"] for on in (True, False))
    return {"samples_per_s_flushed": flushed, "samples_per_s_kept": kept, "speedup_flushed": flushed / kept,
            "faster": "flushed" if flushed > kept else "kept", "stages": "flushed" if stages else "kept"}


def run(params: dict, threads: int, check_precision: bool = True) -> dict:
    """Every measurement, in one run, so the ratios are taken under the same conditions. Each workload is
    compared with the matmul ceiling at its own precision and thread count, as its stage runs it (subnormals
    flushed or kept as params' flush_denormal says), and timed the other way too."""
    import torch
    from threadpoolctl import threadpool_limits

    from dlps.malloc import keep_freed_memory
    from dlps.runtime import flush_denormal

    flush = bool(params.get("flush_denormal", False))
    keep_freed_memory()  # as in every stage process
    rates, ceilings, rows = {}, {}, []  # ceilings: each (precision, threads)'s fastest rate
    for name, dtype, n, model, args, jobs in workloads(params, threads):
        for k in {n, n * jobs}:
            if (dtype, k) not in rates:
                torch.set_num_threads(k)
                with threadpool_limits(k):
                    rates[dtype, k] = gemm_rates(dtype)
                ceilings[dtype, k] = matmul_ceiling(rates[dtype, k])
        torch.set_num_threads(n)
        with threadpool_limits(n):  # NumPy's BLAS too
            both = measure_flushing(lambda: MODELS[model](*args))
            flush_denormal(flush)  # the profile and the variants as the stages run
            result = both[flush]
            row = {"workload": name, "precision": dtype, "threads": n, **result,
                   "ceiling_flops_per_s": ceilings[dtype, n],
                   "fraction_of_ceiling": result["flops_per_s"] / ceilings[dtype, n],
                   "flush_denormal": flushing_row(both, flush)}
            if row["fraction_of_ceiling"] < HALF:
                row |= explain(model, args, row)
        if jobs > 1:  # as the stage runs it: its jobs at once, against the ceiling of all their threads
            together = sum(at_once(model, args, n, jobs, flush))
            row["at_once"] = {"jobs": jobs, "flops_per_s": together, "ceiling_flops_per_s": ceilings[dtype, n * jobs],
                              "fraction_of_ceiling": together / ceilings[dtype, n * jobs]}
        rows.append(row)
    torch.set_num_threads(threads)
    from dlps.runtime import supports

    for dtype in ("fp32", "bf16"):  # an emulated bf16 matmul measures nothing useful and takes minutes
        if (dtype, threads) not in rates and supports("cpu", dtype):
            rates[dtype, threads] = gemm_rates(dtype)
            ceilings[dtype, threads] = matmul_ceiling(rates[dtype, threads])
    from dlps.timing import cpu_kind

    def named(d):
        return {f"{p}, {n} thread{'s' * (n > 1)}": v for (p, n), v in sorted(d.items())}

    return {"cpu": cpu_kind(), "threads": threads, "flush_denormal": flush,
            "matmul_ceiling_flops_per_s": named(ceilings),
            "matmul_flops_per_s_by_library": named(rates),
            "workloads": rows, "overhead": dvc_overhead(), "precision": precision_check(params) if check_precision else None}


def flushing_lines(rows: list[dict]) -> list[str]:
    """Each family with subnormals flushed to zero and kept (params' flush_denormal picks for the stages)."""
    lines = ["", "Subnormal floats flushed to zero or kept (`flush_denormal`; the rows above are as the stages run):",
             "", "| workload | samples/s flushed | samples/s kept | flushed ÷ kept | faster | the stages |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        f = r.get("flush_denormal")
        if f:
            lines.append(f"| {r['workload']} | {f['samples_per_s_flushed']:.0f} | {f['samples_per_s_kept']:.0f} | "
                         f"×{f['speedup_flushed']:.2f} | {f['faster']} | {f['stages']} |")
    return lines


def table(result: dict) -> str:
    """The benchmark as a Markdown table."""
    libraries = result["matmul_flops_per_s_by_library"]

    def by_library(key):
        return " (" + ", ".join(f"{lib} {r / 1e9:.1f}" for lib, r in libraries[key].items()) + ")"

    ceil = ", ".join(f"{k} {v / 1e9:.1f}{by_library(k)}" for k, v in result["matmul_ceiling_flops_per_s"].items())
    lines = [f"Matmul ceilings (GFLOP/s; each the fastest GEMM library's): {ceil}", "",
             "| workload | precision | threads | samples/s | GFLOP/s | fraction of its ceiling | "
             "as its stage runs it: jobs at once, fraction of the ceiling of their threads |",
             "|---|---|---|---|---|---|---|"]
    for r in result["workloads"]:
        a = r.get("at_once")
        stage = f"{a['jobs']}, {100 * a['fraction_of_ceiling']:.0f}%" if a else "1 (the fraction before)"
        lines.append(f"| {r['workload']} | {r['precision']} | {r['threads']} | {r['samples_per_s']:.0f} | "
                     f"{r['flops_per_s'] / 1e9:.1f} | {100 * r['fraction_of_ceiling']:.0f}% | {stage} |")
    lines += flushing_lines(result["workloads"])
    lines += table_lines(result["workloads"])
    o = result["overhead"]
    noop = ("not measured (the pipeline is not up to date: run `dvc repro` first)" if o["dvc_repro_noop_s"] is None
            else f"{o['dvc_repro_noop_s']:.2f} s")
    lines += ["", f"`dvc repro` with nothing to do: {noop}; importing dlps for a stage: "
                  f"{o['import_dlps_pipeline_s']:.2f} s; importing torch: {o['import_torch_s']:.2f} s (medians)."]
    if result.get("precision"):
        from dlps.report.repro import precision_text

        lines += ["", precision_text(result["precision"])]
    return "\n".join(lines) + "\n"
