"""Verdict preservation across the renaming of the judging records (docs/deviations.md): every finding of
metrics/<name>.json at an old revision (old schema: p_value, ci95_low/high, tost_p_value) against today's
metrics/<name>.json (each p under its test's key, decided_by, ci_low/high), ids mapped old → new. Verdict, raw
verdict, effect, interval, level, n, the deciding p, Holm's p, every other p, every part of an intersection and every
variant summary must be equal (float equality). `python -m dlps.tools.preserved f8a3a32`; exit 1 on a difference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dlps.experiments import NAMES
from dlps.tools.pilot import RENAMED_IDS
from dlps.verdicts import p_of
OLD_P = ("p_expected", "p_opposite", "tost_p_value")


def new_key(record: dict, old_key: str) -> str:
    """Where an old p key's value lives in a new record (an equivalence's p_expected was its TOST p)."""
    if "p_beyond" in record.get("tests", {}):
        return {"p_expected": "p_tost", "p_opposite": "p_beyond", "tost_p_value": "p_tost"}[old_key]
    return {"p_expected": "p_expected", "p_opposite": "p_opposite", "tost_p_value": "p_tost"}[old_key]


def differences(where: str, old: dict, new: dict) -> list[str]:
    """Each value of the old record that the new one does not hold unchanged."""
    pairs = [(k, old.get(k), new.get(k)) for k in ("verdict", "raw_verdict", "effect", "n", "ci_level", "alpha",
                                                   "p_adjusted") if k in old or k in new]
    pairs += [("ci_low", old.get("ci95_low"), new.get("ci_low")), ("ci_high", old.get("ci95_high"), new.get("ci_high")),
              ("p_value → decided_by", old.get("p_value"), p_of(new))]
    src = new
    olds = [k for k in OLD_P if old.get(k) is not None]
    if "parts" in new and olds:  # an old intersection carried the p's of its effect part, else of its worst part
        parts = new["parts"]
        worst = max(parts, key=lambda k: -1 if p_of(parts[k]) is None else p_of(parts[k]))
        sources = [parts[k] for k in (new.get("effect_part"), worst) if k in parts]
        src = next((s for s in sources if all(old[k] == s.get(new_key(s, k)) for k in olds)), sources[0])
    pairs += [(k, old[k], src.get(new_key(src, k))) for k in olds]
    out = [f"{where}.{k}: {a!r} != {b!r}" for k, a, b in pairs if a != b]
    out += ["old key survives" for k in ("p_value", "ci95_low", "tost_p_value") if k in new]
    for k, part in (old.get("parts") or {}).items():
        out += differences(f"{where}.parts[{k}]", part, new["parts"][k])
    return out


def check(rev: str, name: str) -> tuple[int, list[str]]:
    """(findings compared, differences) for one experiment."""
    done = subprocess.run(["git", "show", f"{rev}:metrics/{name}.json"], capture_output=True, text=True, check=True)
    old, new = json.loads(done.stdout), json.loads(Path(f"metrics/{name}.json").read_text())
    by_id, ids = {f["id"]: f for f in new["findings"]}, RENAMED_IDS.get(name, {})
    out = [] if len(old["findings"]) == len(new["findings"]) else [f"{name}: the number of findings changed"]
    for f in old["findings"]:
        nid = ids.get(f["id"], f["id"])
        out += differences(f"{name}/{f['id']}", f, by_id[nid]) if nid in by_id else [f"{name}/{f['id']}: no {nid}"]
    for v, metrics in old["variants"].items():
        for m, s in metrics.items():
            t = new["variants"][v][m]
            if (s["mean"], s["ci95_low"], s["ci95_high"]) != (t["mean"], t["ci_low"], t["ci_high"]):
                out.append(f"{name}.variants[{v}][{m}]")
    return len(old["findings"]), out


def main(rev: str) -> int:
    total, problems = 0, []
    for name in NAMES:
        n, diff = check(rev, name)
        total, problems = total + n, problems + diff
    print(f"{total} findings of {len(NAMES)} experiments against {rev}: {len(problems)} differences")
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "f8a3a32"))
