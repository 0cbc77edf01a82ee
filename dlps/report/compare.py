"""Side-by-side comparison of two DVC revisions or experiments: what params changed and what that did."""

from __future__ import annotations

import json
import subprocess

from dlps.errors import UserError
from dlps.report.doc import Doc
from dlps.fmt import fmt


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


def compare(a: str, b: str, keys: tuple[str, ...] = ("mean", "p_value")) -> Doc:
    """A report of params and metrics differences from revision `a` to `b` (git revisions or `dvc exp` names).

    Only metric leaves whose name ends in one of `keys` are listed, so the page shows effects, not every
    CI bound.
    """
    revs = (a,) if b == "workspace" else (a, b)
    params = _dvc_json("params", "diff", *revs, "--all")
    from dlps.experiments import NAMES
    from dlps.paths import headline_file, metrics_file

    files = [str(f(n)) for n in NAMES for f in (headline_file, metrics_file)]  # the full files are plain outs
    metrics = _dvc_json("metrics", "diff", *revs, "--all", "--targets", *files)
    changed_params = {f: {k: v for k, v in c.items() if v.get("old") != v.get("new")} for f, c in params.items()}
    wanted = {f: {k: v for k, v in c.items() if k.rsplit(".", 1)[-1] in keys and v.get("old") != v.get("new")}
              for f, c in metrics.items()}
    doc = Doc()
    doc.heading(1, f"dlps: {a} → {b}")
    doc.heading(2, "Params that differ", "params")
    rows = _rows(changed_params, numeric=False)
    doc.table(["param", "in " + a, "in " + b], rows) if rows else doc.para("No params differ.")
    doc.heading(2, "Metrics", "metrics")
    doc.para(f"Metric leaves ending in {', '.join(keys)}; the change is {b} minus {a}. Means are over seeds; "
             "see each revision's report for confidence intervals and findings.")
    rows = _rows(wanted, numeric=True)
    doc.table(["metric", "file", a, b, "change", "relative"], rows) if rows else doc.para("No metrics differ.")
    return doc
