"""A stage's wall time and peak memory, recorded apart from its (deterministic) results."""

from __future__ import annotations

import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from dlps.io import write_json

_START = time.perf_counter()  # stages import this module first, so this is close to process start
_WORKERS = 0  # worker processes this stage ran at once (see note_workers)


def note_workers(n: int) -> None:
    """Record that this process ran up to n workers at once, so the stage's peak memory counts them."""
    global _WORKERS
    _WORKERS = max(_WORKERS, n)


def _max_rss_mib(who: int) -> float:
    """Peak resident memory (Linux reports KiB, macOS bytes) of this process, or of its largest waited-for child."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def peak_rss_mib() -> float:
    """Peak memory of the stage: its own, plus, if it ran workers, that many times the largest worker's
    (an upper bound: the workers' peaks need not coincide)."""
    own = _max_rss_mib(resource.RUSAGE_SELF)
    return own + _WORKERS * _max_rss_mib(resource.RUSAGE_CHILDREN) if _WORKERS else own


CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo_fields() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo ({} where there is none)."""
    fields: dict[str, str] = {}
    try:
        for line in CPUINFO.read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_info(fields: dict[str, str] | None = None) -> tuple[str, str]:
    """The CPU's model name and its instruction-set flags as /proc/cpuinfo lists them ("flags" on x86, "Features"
    on ARM); elsewhere platform.processor() and no flags. `fields`: /proc/cpuinfo's, if already read."""
    import platform

    fields = _cpuinfo_fields() if fields is None else fields
    model = fields.get("model name") or platform.processor() or "unknown CPU"
    return model, fields.get("flags") or fields.get("Features") or ""


def cpu_kind() -> str:
    """The CPU's model name, its generation and its widest vector extensions: machines of one name differ in these,
    and with them a run's speed and its bytes. A virtual machine may show only "AMD EPYC" for CPUs generations
    apart (their fp32 matmul ceilings differ about 2x), so the generation is x86's family and model, or ARM's
    implementer and part."""
    fields = _cpuinfo_fields()
    model, flags = cpu_info(fields)
    generation = [f"{label} {fields[key]}" for key, label in (("cpu family", "family"), ("model", "model"),
                                                              ("CPU implementer", "implementer"),
                                                              ("CPU part", "part")) if fields.get(key)]
    wide = [name for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_bf16", "BF16"),
                                    ("amx_tile", "AMX")) if flag in flags.split()]
    details = "; ".join(part for part in (" ".join(generation), ", ".join(wide)) if part)
    return f"{model} ({details})" if details else model


PACKAGES = ("dlps", "numpy", "scipy", "torch", "torchvision", "scikit-learn", "matplotlib", "pandas", "dvc", "typer",
            "pyyaml")  # what a stage's results can depend on, recorded with its times


def environment() -> dict:
    """The Python, platform and package versions this stage ran with, so a report built elsewhere can name them."""
    import platform
    from importlib import metadata

    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def device_used() -> str:
    """The accelerator this process computed on: a CUDA device only if torch initialised CUDA (name, driver and
    CUDA version, as the report shows them), else "cpu"."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return "cpu"
    from dlps.runtime import describe_device

    d = describe_device("cuda")
    return f"{d['name']} (driver {d['driver']}, CUDA {d['cuda']})"


def flushing() -> bool | None:
    """Whether this stage's training processes flush subnormals, as dlps.runtime set it in this process (each worker
    applies the same params); None where nothing set it (no torch training here)."""
    runtime = sys.modules.get("dlps.runtime")
    return None if runtime is None else runtime.FLUSHING


@contextmanager
def timed(path: Path, stage: str):
    """Record the stage's start (Unix time), wall time and peak memory in `path` (kept apart from results, which
    are deterministic, so that re-runs give bit-identical metrics)."""
    yield
    wall = time.perf_counter() - _START
    write_json(path, {"stage": stage, "started": round(time.time() - wall, 1), "wall_s": round(wall, 3),
                      "peak_rss_mib": round(peak_rss_mib(), 1), "workers": _WORKERS,
                      "device": device_used(), "cpu": cpu_kind(), "flush_denormal": flushing(), **environment()})
