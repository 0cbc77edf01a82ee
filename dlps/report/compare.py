"""Side-by-side comparison of two DVC revisions or experiments: verdicts that changed first, then what params
changed and what else that did."""

from __future__ import annotations

import json
import subprocess

from dlps.errors import UserError
from dlps.fmt import fmt
from dlps.report.doc import Doc

KEYS = ("mean", "effect", "p_value", "neg_log10_p_adjusted")  # the other metric leaves worth a row


def _dvc_json(*args: str) -> dict:
    r = subprocess.run(["dvc", *args, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        raise UserError(f"`dvc {' '.join(args)}` failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}; "
                        "check the revision or experiment names (`dvc exp show`)")
    return json.loads(r.stdout or "{}")


def _rows(diff: dict, numeric: bool) -> list[list]:
    rows = []
    for file, changes in sorted(diff.items()):
        for key, c in sorted(changes.items()):
            old, new = c.get("old"), c.get("new")
            change = c.get("diff")
            if numeric:
                rel = (f"{100 * change / abs(old):+.1f}%" if isinstance(change, (int, float)) and old
                       and isinstance(old, (int, float)) else "")
                rows.append([key, file, fmt(old) if isinstance(old, float) else old,
                             fmt(new) if isinstance(new, float) else new,
                             (fmt(change) if isinstance(change, float) else change) or "", rel])
            else:
                rows.append([key, json.dumps(old), json.dumps(new)])
    return rows


def _p(record: dict) -> str:
    """The deciding test's key and its p, read back from the headline's −log10 p."""
    key = record.get("decided_by")
    x = record.get(f"neg_log10_{key}") if key else None
    return f"{key}, p = {10 ** -x:.2g}" if x is not None else str(key or "no test")


def verdict_changes(headline_diff: dict) -> list[dict]:
    """From `dvc metrics diff --all --json` over the headline files: each finding whose verdict differs, with its
    old and new headline records (deciding test, its −log10 p, effect and interval)."""
    out = []
    for file, changes in sorted(headline_diff.items()):
        exp = file.rsplit("/", 1)[-1].removesuffix(".json")
        side = {"old": {}, "new": {}}
        for key, c in changes.items():
            fid, _, leaf = key.rpartition(".")
            for s in side:
                side[s].setdefault(fid, {})[leaf] = c.get(s)
        for fid, new in side["new"].items():
            old = side["old"].get(fid, {})
            if old.get("verdict") != new.get("verdict"):
                out.append({"finding": f"{exp}/{fid}", "old": old, "new": new})
    return out


def _change_row(c: dict) -> list:
    old, new = c["old"], c["new"]
    interval = f"[{fmt(new['ci_low'])}, {fmt(new['ci_high'])}]" if new.get("ci_low") is not None else ""
    return [c["finding"], f"{old.get('verdict') or 'absent'} → {new.get('verdict') or 'absent'}", _p(old), _p(new),
            f"{fmt(old.get('effect'))} → {fmt(new.get('effect'))}", interval]


def compare(a: str, b: str, keys: tuple[str, ...] = KEYS) -> Doc:
    """A report of verdict changes, then params and metrics differences, from revision `a` to `b` (git revisions
    or `dvc exp` names). Below the verdicts only metric leaves whose name ends in one of `keys` are listed."""
    revs = (a,) if b == "workspace" else (a, b)
    params = _dvc_json("params", "diff", *revs, "--all")
    from dlps.experiments import NAMES
    from dlps.paths import headline_file, metrics_file

    heads = [str(headline_file(n)) for n in NAMES]
    files = heads + [str(metrics_file(n)) for n in NAMES]  # the full files are plain outs
    metrics = _dvc_json("metrics", "diff", *revs, "--all", "--targets", *files)
    changes = verdict_changes({f: c for f, c in metrics.items() if f in heads})
    changed_params = {f: {k: v for k, v in c.items() if v.get("old") != v.get("new")} for f, c in params.items()}
    wanted = {f: {k: v for k, v in c.items() if k.rsplit(".", 1)[-1] in keys and v.get("old") != v.get("new")}
              for f, c in metrics.items()}
    doc = Doc()
    doc.heading(1, f"dlps: {a} → {b}")
    doc.heading(2, "Verdicts that changed", "verdicts")
    doc.table(["finding", "verdict", f"deciding test in {a}", f"deciding test in {b}", "effect",
               f"interval in {b}"], [_change_row(c) for c in changes]) if changes else doc.para("No verdict changed.")
    doc.heading(2, "Params that differ", "params")
    rows = _rows(changed_params, numeric=False)
    doc.table(["param", "in " + a, "in " + b], rows) if rows else doc.para("No params differ.")
    doc.heading(2, "Metrics", "metrics")
    doc.para(f"Metric leaves ending in {', '.join(keys)}; the change is {b} minus {a}. Means are over seeds; the "
             "headline's p's are −log10 p (higher: smaller p); see each revision's report for intervals and findings.")
    rows = _rows(wanted, numeric=True)
    doc.table(["metric", "file", a, b, "change", "relative"], rows) if rows else doc.para("No metrics differ.")
    return doc
