"""The plot job: an experiment's figures from its metrics, runs and histories, captions in figures.json, and its
plot-ready curves for DVC."""

from __future__ import annotations

from dlps.experiments.contract import get
from dlps.io import atomic_dir, read_csv, read_json, write_json
from dlps.jobs.curves import write_curves
from dlps.jobs.runs import load_runs
from dlps.paths import figures_dir, history_file, metrics_file


def plot(params: dict, name: str) -> list[dict]:
    """Render the experiment's figures; records them in figures.json (the folder is replaced whole)."""
    from dlps.experiments import part

    cfg, spec = params[name], part(name, "spec")
    histories = ({v: read_csv(history_file(name, v)) for v in spec.variants(cfg)} if get(spec, "CURVES")
                 else {v: [] for v in spec.variants(cfg)})
    with atomic_dir(figures_dir(name)) as out_dir:
        module = part(name, "figures")
        figures = module.plot(cfg, read_json(metrics_file(name)), load_runs(params, name), histories, out_dir)
        write_curves(out_dir, get(module, "PLOTS"), histories)
        write_json(out_dir / "figures.json", figures)
    return figures
