"""Where every stage's files live (one place, so stages and the report agree)."""

from __future__ import annotations

from pathlib import Path

PREPARED = Path("data/prepared")


def run_file(exp: str, variant: str) -> Path:
    return Path("metrics/runs") / exp / f"{variant}.json"


def history_file(exp: str, variant: str) -> Path:
    return Path("plots/history") / exp / f"{variant}.csv"


def metrics_file(exp: str) -> Path:
    return Path("metrics") / f"{exp}.json"


def variants_file(exp: str) -> Path:
    """Each variant's main test metric over seeds: what `dvc exp show` lines up next to the params changed."""
    return Path("metrics/variants") / f"{exp}.json"


def headline_file(exp: str) -> Path:
    """The primary findings' five numbers: what `dvc exp show` and `dvc metrics diff` show."""
    return Path("metrics/headline") / f"{exp}.json"


def figures_dir(exp: str) -> Path:
    return Path("plots") / exp


def run_timing_file(exp: str, variant: str) -> Path:
    """The wall-clock values of a variant's per-seed rows (exp.TIMINGS), kept apart so runs/ stays bit-identical."""
    return Path("metrics/timing/runs") / exp / f"{variant}.json"


def timing_file(stage: str) -> Path | None:
    """The report reads the study's timing folder, so its own record lives with its outputs. The data stages keep
    none: their time is the network's or the mirror's, nothing reads it, and a newcomer's clone re-runs them, so a
    git-tracked record would leave every fresh clone's tree modified (and a DVC-cached one its dvc.lock)."""
    if stage == "report":
        return Path("report/timing.json")
    if stage.split("@")[0] in ("download", "prepare"):
        return None
    return Path("metrics/timing") / f"{stage.replace('@', '-')}.json"


def claims_file() -> Path:
    return Path("metrics/claims.json")
