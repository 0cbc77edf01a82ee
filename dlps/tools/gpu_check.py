"""The GPU check: train and judge the torch experiments on another device (no DVC needed), time them against the
committed CPU run and compare their verdicts with the CPU run's, one record per experiment under metrics/gpu/."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path


def torch_experiments() -> list[str]:
    """The experiments whose spec says TORCH, in report order."""
    from dlps.experiments import load_all

    return [exp.name for exp in load_all() if exp.spec.torch]


@contextlib.contextmanager
def _scratch(prepared: Path):
    """Work in a temporary folder whose data/prepared is the real one, so the committed metrics stay untouched."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="dlps-gpu-") as tmp:
        (Path(tmp) / "data").mkdir()
        (Path(tmp) / "data" / "prepared").symlink_to(prepared.resolve(), target_is_directory=True)
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(here)


def missing_data(name: str, prepared: Path) -> list[str]:
    """The prepared datasets an experiment needs that are not here."""
    from dlps.experiments import load

    return [d for d in load(name).spec.datasets if not (prepared / d).is_dir()]


def cpu_seconds(params: dict, name: str, timing: Path) -> float | None:
    """The committed CPU run's wall time for the experiment's train stages, from metrics/timing."""
    from dlps.experiments import load
    from dlps.io import read_json

    files = [timing / f"{s.replace('@', '-')}.json" for s in load(name).train_stages(params)]
    return sum(read_json(f)["wall_s"] for f in files) if all(f.is_file() for f in files) else None


def check_one(params: dict, name: str, device: str, committed: Path, timing: Path, prepared: Path) -> dict:
    """Train and judge one experiment on `device` at the given params; its verdicts beside the CPU run's."""
    from dlps.io import read_json
    from dlps.jobs.evaluate import evaluate
    from dlps.jobs.train import train
    from dlps.runtime import describe_device

    params = {**params, "device": device}
    gaps = missing_data(name, prepared)
    if gaps:
        return {"experiment": name, "skipped": f"prepared data missing: {', '.join(gaps)} (copy data/prepared/"
                                               f"{gaps[0]} here, or run `dvc repro prepare@{gaps[0]}`)"}
    with _scratch(prepared):
        start = time.perf_counter()
        train(params, name)
        wall = time.perf_counter() - start
        metrics = evaluate(params, name)
    cpu_file = committed / f"{name}.json"
    cpu = {f["id"]: f["verdict"] for f in read_json(cpu_file).get("findings", [])} if cpu_file.is_file() else {}
    verdicts = {f["id"]: {"primary": f["primary"], "gpu": f["verdict"], "cpu": cpu.get(f["id"])}
                for f in metrics["findings"]}
    cpu_s = cpu_seconds(params, name, timing)
    return {"experiment": name, "device": describe_device(device), "train_wall_s": round(wall, 1),
            "cpu_train_wall_s": cpu_s, "speedup": round(cpu_s / wall, 2) if cpu_s else None,
            "verdicts": verdicts, "same_verdicts": all(v["gpu"] == v["cpu"] for v in verdicts.values())}


def run(params: dict, names: list[str], device: str, out: Path, committed: Path = Path("metrics"),
        prepared: Path = Path("data/prepared")) -> list[dict]:
    """check_one for each experiment, each record written to out/<experiment>.json as soon as it is done."""
    from dlps.io import write_json

    records = []
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} on {device} ...", flush=True)
        rec = check_one(params, name, device, committed.resolve(), (committed / "timing").resolve(),
                        prepared.resolve())
        write_json(out / f"{name}.json", rec)
        print(f"[{i}/{len(names)}] {name}: " + (rec.get("skipped") or
              f"{rec['train_wall_s']} s (CPU run {rec['cpu_train_wall_s']} s), same verdicts: {rec['same_verdicts']}"),
              flush=True)
        records.append(rec)
    return records
