"""The one "effect [CI] (p, test; …)" clause every finding's sentence prints, written from its record's fields."""

from __future__ import annotations

from dlps.fmt import fmt, fmt_p
from dlps.verdicts import ci_label


def p_clause(rec: dict, keys: tuple[str, ...] | None = None) -> str:
    """Each p the record holds, with the test it belongs to: the expected side's (or equivalence's), the TOST's,
    and the deciding one wherever it is another; `keys` picks them instead."""
    tests = rec.get("tests", {})
    if keys is None:
        first = [k for k in ("p_expected", "p_tost", "p_all_parts") if k in tests][:1]
        keys = tuple(dict.fromkeys([*first, *(["p_tost"] if "p_tost" in tests else []), rec.get("decided_by")]))
    shown = [f"{tests[k]}, {fmt_p(rec[k])}" for k in keys if k in tests and rec.get(k) is not None]
    return "; ".join(shown) if shown else rec.get("test", "no test")


def estimate(rec: dict, *, scale: float = 1.0, unit: str = "", shift: float = 0.0, digits: int = 3,
             keys: tuple[str, ...] | None = None) -> str:
    """"effect unit [95% CI low, high] (each p with its test)": effect and interval read as scale × (x + shift)."""
    def num(x):
        return fmt(None if x is None else scale * (x + shift), digits)

    return (f"{num(rec['effect'])}{unit} [{ci_label(rec)} CI {num(rec['ci_low'])}, {num(rec['ci_high'])}]"
            f" ({p_clause(rec, keys)})")
