"""Number formatting shared by findings sentences (judging), figures and the report: a foundation, not report code."""

from __future__ import annotations

import math


def fmt(x: float, digits: int = 3) -> str:
    """A number with `digits` significant figures, switching to scientific notation when tiny or huge."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}g}"


def fmt_p(p: float) -> str:
    return "p < 1e-300" if p == 0 else f"p = {p:.2g}" if p >= 1e-3 else f"p = {p:.1e}"
