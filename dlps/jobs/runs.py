"""Reading back exactly the per-seed runs that params list (never globbing folders)."""

from __future__ import annotations

from dlps.errors import UserError
from dlps.io import read_json
from dlps.paths import run_file, run_timing_file


def load_runs(params: dict, name: str) -> dict[str, list[dict]]:
    """The per-seed rows of exactly the variants and seeds params lists, with their wall-clock values merged back
    in; a missing or stale file names the fix."""
    from dlps.experiments import load

    seeds = params[name]["seeds"]
    runs = {}
    for variant in load(name).spec.variants(params[name]):
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
