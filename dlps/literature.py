"""Compare this run's numbers with published reference results (dlps/literature.yaml): in band, out of band, or
not comparable (and why)."""

from __future__ import annotations

from pathlib import Path

import yaml

from dlps.fmt import fmt

LITERATURE_FILE = Path(__file__).with_name("literature.yaml")
VERDICTS = ("in band", "out of band", "not comparable")


def lookup(tree, path: str):
    """The value at a dotted path (variant names such as '0.001' may hold dots: the longest matching key wins)."""
    parts, node = path.split("."), tree
    while parts:
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if isinstance(node, dict) and key in node:
                node, parts = node[key], parts[n:]
                break
        else:
            raise KeyError(path)
    return node


def _param_holds(params: dict, key: str, rule: list) -> bool:
    try:
        value = lookup(params, key)
    except KeyError:
        return False
    if len(rule) == 3 and rule[2] == "contains":
        return isinstance(value, list) and rule[0] in value
    value = max(value) if isinstance(value, list) else value
    return rule[0] <= value <= rule[1]


def _band_text(band: list) -> str:
    low, high = band
    if low is None:
        return f"≤ {fmt(high)}"
    if high is None:
        return f"≥ {fmt(low)}"
    return f"{fmt(low)}–{fmt(high)}"


def check(params: dict, metrics: dict[str, dict], path: Path = LITERATURE_FILE) -> list[dict]:
    """One row per reference: experiment, quantity, ours, band, source, verdict and why."""
    rows = []
    for ref in yaml.safe_load(path.read_text()):
        exp, band = ref["experiment"], ref["band"]
        row = {"experiment": exp, "quantity": ref["quantity"], "ours": None, "band": _band_text(band),
               "source": " ".join(ref["source"].split()), "verified": " ".join(ref.get("verified", "").split())}
        try:
            ours = float(lookup(metrics.get(exp, {}), ref["path"])) * ref.get("scale", 1)
        except (KeyError, TypeError, ValueError):
            rows.append(row | {"verdict": "not comparable",
                               "why": f"this run's metrics/{exp}.json has no {ref['path']}"})
            continue
        row["ours"] = ours
        failed = [k for k, rule in ref.get("requires", {}).items() if not _param_holds(params, k, rule)]
        if ref.get("comparable", True) is False or failed:
            why = " ".join(ref["why"].split())
            if failed:
                why = f"params differ from the reference setting ({', '.join(failed)}): {why}"
            rows.append(row | {"verdict": "not comparable", "why": why})
            continue
        low, high = band
        inside = (low is None or ours >= low) and (high is None or ours <= high)
        note = " ".join(ref.get("note", "").split())
        rows.append(row | {"verdict": "in band" if inside else "out of band",
                           "why": f"ours {fmt(ours)} vs {_band_text(band)}. {note}".strip()})
    return rows
