"""Plot-ready curves for DVC: per variant, the mean over seeds at each step with its interval, one row per point.

A history CSV stacks every seed in one series, so DVC's line plot of it runs back to the first step at each seed;
these files hold one series per variant (and per value of a grouping column, e.g. architectures' lag), which the
`band` template (.dvc/plots/band.json) overlays by variant with the interval shaded."""

from __future__ import annotations

from pathlib import Path

from dlps import stats
from dlps.io import write_csv


def curve_file(name: str, y: str) -> Path:
    """Where the plots stage writes the curve of `y` (inside its own output folder)."""
    return Path("plots") / name / "curves" / f"{y}.csv"


def curve_rows(histories: dict[str, list[dict]], x: str, y: str, by: str | None = None) -> list[dict]:
    """variant, x, mean y over seeds, ci_low, ci_high (Student-t, ci_level), n, at every x that all seeds of the series
    reached (where seeds stop early, the curve ends at the first stop); a variant whose rows lack x or y (sentiment's
    TF-IDF baselines have no epochs) has no curve."""
    out = []
    for variant, rows in histories.items():
        series: dict[str, dict] = {}
        for r in rows:
            if r.get(x, "") == "" or r.get(y, "") == "":
                continue
            label = variant if by is None else f"{variant} {by}={r[by]}"
            series.setdefault(label, {}).setdefault(r[x], []).append(r[y])
        for label, points in series.items():
            seeds = max(len(v) for v in points.values())
            for at in sorted(points):
                if len(points[at]) < seeds:  # a mean over fewer seeds would change whom it averages mid-curve
                    continue
                s = stats.summarize(points[at])
                out.append({"variant": label, x: at, y: s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                            "ci_level": stats.CONFIDENCE, "n": s["n"]})
    return out


def curve_specs(plots) -> list[dict]:
    """The curve definitions in a figures module's PLOTS ({"x", "y": one or a list, optional "by"}), one per y."""
    specs = []
    for item in plots:
        if isinstance(item, dict):
            d = item["history"]
            for y in ([d["y"]] if isinstance(d["y"], str) else d["y"]):
                specs.append({"x": d["x"], "y": y, "by": d.get("by")})
    return specs


def write_curves(out_dir: Path, plots, histories: dict[str, list[dict]]) -> None:
    """Write every declared curve into out_dir/curves/<y>.csv."""
    for c in curve_specs(plots):
        write_csv(Path(out_dir) / "curves" / f"{c['y']}.csv", curve_rows(histories, c["x"], c["y"], c["by"]))
