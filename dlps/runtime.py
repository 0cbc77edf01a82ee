"""The one process set-up that can change a stage's results: device, threads, deterministic kernels, precision,
subnormal flushing."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass

from dlps.errors import UserError

PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Runtime:
    """A resolved device and the precision its forward passes run in (fp32 = no autocast)."""

    device: str
    precision: str = "fp32"

    @property
    def device_type(self) -> str:
        return self.device.split(":")[0]

    def autocast(self):
        """Autocast on this device's type at this precision; a no-op context in fp32."""
        if self.precision == "fp32":
            return nullcontext()
        import torch

        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[self.precision]
        return torch.autocast(device_type=self.device_type, dtype=dtype)


def pick_device(setting: str) -> str:
    """`auto` picks CUDA, then MPS, then CPU; an explicit device that is missing is an error."""
    import torch

    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if setting == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if available[d])
    if not available[setting]:
        raise UserError(f"device: got {setting!r} but it is not available here; allowed: auto or cpu")
    return setting


def supports(device_type: str, precision: str) -> bool:
    """Whether autocast at `precision` runs natively on this machine's `device_type`."""
    import torch

    if precision == "fp32":
        return True
    if device_type == "cuda":
        return precision == "fp16" or torch.cuda.is_bf16_supported()
    if device_type == "cpu":
        # bf16 kernels exist everywhere but are emulated (and some oneDNN RNN primitives fail) without AVX512-BF16/AMX
        return precision == "bf16" and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return precision == "fp16"  # mps


def check_precision(device: str, precision: str, key: str) -> None:
    """A clear error, naming the params key, when the device cannot run the precision."""
    if precision not in PRECISIONS:
        raise UserError(f"{key}: got {precision!r}; allowed: one of {', '.join(PRECISIONS)}")
    device_type = device.split(":")[0]
    if not supports(device_type, precision):
        raise UserError(f"{key}: got {precision!r} but this {device_type} has no native {precision} support; "
                        f"allowed here: fp32 (set {key}: fp32, or run on a device that has it)")


def set_threads(threads: int) -> int:
    """0 means one intra-op thread per core."""
    import torch

    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


FLUSHING: bool | None = None  # whether this process flushes subnormals (set by flush_denormal; None: never set)


def flush_denormal(on: bool) -> bool:
    """Flush subnormal floats to zero (FTZ/DAZ) in this thread, and in the threads it starts after this call, or
    stop; returns whether they are now flushed (False where the CPU cannot). It is the x86 MXCSR register, so it
    covers NumPy's arithmetic in those threads too, not only torch's."""
    import torch

    global FLUSHING
    FLUSHING = torch.set_flush_denormal(on) and on
    return FLUSHING


def deterministic() -> None:
    """Deterministic kernels wherever torch has them, on the CPU and on CUDA (cuBLAS needs its workspace setting
    before its first use, cuDNN must not benchmark)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def setup(device_setting: str, threads: int, precision: str = "fp32", key: str = "precision",
          flush: bool | None = None) -> Runtime:
    """Subnormal flushing (unless None), threads, deterministic kernels, the device, and a check that it runs
    `precision` (named by params `key`)."""
    if flush is not None:  # first: the intra-op threads copy the setting when they start
        flush_denormal(flush)
    set_threads(threads)
    deterministic()
    device = pick_device(device_setting)
    check_precision(device, precision, key)
    return Runtime(device, precision)


def describe_device(device: str) -> dict:
    """What the report records about the device: its name, and on CUDA the driver and CUDA versions."""
    import platform

    import torch

    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        return {"device": device, "name": props.name, "cuda": torch.version.cuda,
                "driver": _nvidia_driver(), "memory_gib": round(props.total_memory / 2**30, 1)}
    return {"device": device, "name": platform.processor() or platform.machine()}


def _nvidia_driver() -> str:
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
