"""Shared matplotlib helpers: a headless backend, CI bands, and saving figures with captions."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dlps.io import atomic_path  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
                     "axes.spines.right": False, "svg.hashsalt": "dlps", "savefig.bbox": "tight"})


def band(ax, xs, summaries: list[dict], label: str, **kw):
    """Plot the means with a shaded 95% CI; lower edges are clipped at a positive floor on log axes."""
    means = [s["mean"] for s in summaries]
    lo = [s["ci_low"] for s in summaries]
    hi = [s["ci_high"] for s in summaries]
    if ax.get_yscale() == "log" or kw.pop("log", False):
        floor = min(m for m in means if m > 0) / 10
        lo = [max(v, floor) for v in lo]
    (line,) = ax.plot(xs, means, label=label, **kw)
    ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    return line


def save(fig, path: Path, caption: str, alt: str | None = None) -> dict:
    """Write a PNG atomically (metadata stripped so identical figures are identical bytes) and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return {"file": path.name, "caption": caption, "alt": alt or caption}
