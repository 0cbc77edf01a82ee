"""The plot job: an experiment's figures from its metrics, runs and histories, captions in figures.json, and its
plot-ready curves for DVC."""

from __future__ import annotations

from dlps.experiments import load
from dlps.io import atomic_dir, read_csv, read_json, write_json
from dlps.jobs.curves import write_curves
from dlps.jobs.runs import load_runs
from dlps.paths import figures_dir, history_file, metrics_file


def plot(params: dict, name: str) -> list[dict]:
    """Render the experiment's figures; records them in figures.json (the folder is replaced whole)."""
    exp, cfg = load(name), params[name]
    histories = ({v: read_csv(history_file(name, v)) if exp.spec.curves else [] for v in exp.spec.variants(cfg)})
    with atomic_dir(figures_dir(name)) as out_dir:
        figures = exp.figures.plot(cfg, read_json(metrics_file(name)), load_runs(params, name), histories, out_dir)
        write_curves(out_dir, exp.figures.plots, histories)
        write_json(out_dir / "figures.json", figures)
    return figures
