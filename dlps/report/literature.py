"""Set this run's numbers against the literature: each experiment's `literature.yaml` (dlps/experiments/<name>/)
lists published results (`kind: published`) and theory checks (`kind: theory`: constants and bounds that follow
from the task's definition, such as the constant predictor's error or the noise floor σ²). The two kinds are
judged alike but never counted together: a theory check that holds is not agreement with the literature.

The band rule uses intervals, never a bare point. Our value comes with an interval: the 95% interval of a summary
over seeds (widened by the binomial sampling of the test items when `sampling_n` names how many there are), the
matched interval of a finding's record (`finding`: e.g. an exact Clopper–Pearson interval for a success rate), or
the range over seeds of a list. Then
  - in band (published) / consistent (theory): the whole interval lies inside the band;
  - out of band / inconsistent: the whole interval lies outside it;
  - overlaps: the interval straddles an end of the band, so the data cannot tell;
  - inconclusive: our value has no interval (e.g. one seed);
  - not comparable: the row says so (`comparable: false`, with `why`), the params differ from what the row is
    written for (`requires`), or this run's metrics lack the value.
Text fields may name run values: {p:section.key} (params), {pct:section.key} (a params fraction as a percentage),
{m:dotted.path} (the experiment's metrics), {sgd_steps:section} (ceil(n_train / batch_size) × epochs) and
{seeds:section} (the seeds the run used, counted), so no number of this run is typed into a row."""

from __future__ import annotations

import math
import re

from scipy import stats

from dlps.fmt import fmt

KINDS = ("published", "theory")
VERDICTS = {"published": ("in band", "out of band", "overlaps", "inconclusive", "not comparable"),
            "theory": ("consistent", "inconsistent", "overlaps", "inconclusive", "not comparable")}
LEVEL = 0.95  # the level of our intervals that belong to no test (summaries over seeds), as in dlps.verdicts


def references(names) -> list[dict]:
    """Every experiment's literature rows, each tagged with its experiment (the folder names it)."""
    from dlps.experiments import load

    return [{"experiment": name, **row} for name in names for row in load(name).data("literature.yaml", [])]


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


def fill(text: str, params: dict, metrics: dict) -> str:
    """A row's text with {p:…}, {m:…} and {sgd_steps:…} replaced by this run's values."""
    def value(match: re.Match) -> str:
        kind, key = match.groups()
        try:
            if kind == "seeds":
                return seeds_text(metrics.get("seeds") or lookup(params, f"{key}.seeds"))
            if kind == "sgd_steps":
                cfg = params[key]
                return f"{math.ceil(cfg['n_train'] / cfg['batch_size']) * cfg['epochs']:,}"
            v = lookup(metrics if kind == "m" else params, key)
        except (KeyError, TypeError):
            return "n/a"  # a run without that value: the row then says what it lacks
        return f"{fmt(100 * v)}%" if kind == "pct" else fmt(v) if isinstance(v, float) else str(v)
    return re.sub(r"\{(p|pct|m|sgd_steps|seeds):([\w.]+)\}", value, " ".join(str(text).split()))


def seeds_text(seeds: list) -> str:
    """'3 training seeds (1000–1002)', or 'one training seed (1000)': the seeds the run used."""
    if len(seeds) == 1:
        return f"one training seed ({seeds[0]})"
    run = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{len(seeds)} training seeds ({f'{seeds[0]}–{seeds[-1]}' if run else ', '.join(map(str, seeds))})"


def _param_holds(params: dict, key: str, rule: list) -> bool:
    try:
        value = lookup(params, key)
    except KeyError:
        return False
    if len(rule) == 3 and rule[2] == "contains":
        return isinstance(value, list) and rule[0] in value
    value = max(value) if isinstance(value, list) else value
    return rule[0] <= value <= rule[1]


def band_text(band) -> str:
    low, high = band
    return f"≤ {fmt(high)}" if low is None else f"≥ {fmt(low)}" if high is None else f"{fmt(low)}–{fmt(high)}"


def _summary_interval(s: dict, n_items: int | None) -> tuple[float | None, float | None, str]:
    """The 95% interval of a mean over seeds; with n_items, its standard error also carries the binomial sampling
    of the n_items test items every seed is scored on (one seed: the exact Clopper–Pearson interval)."""
    n, mean = int(s.get("n", 1)), float(s["mean"])
    if n_items is None:
        return ((s["ci_low"], s["ci_high"], f"95% t interval over {n} seeds") if n >= 2 else
                (None, None, "one seed, no interval"))
    if n < 2:
        ci = stats.binomtest(round(mean * n_items), n_items).proportion_ci(LEVEL, method="exact")
        return ci.low, ci.high, f"exact 95% interval over {n_items:,} test items (one seed)"
    se = math.sqrt(s["std"] ** 2 / n + mean * (1 - mean) / n_items)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * se
    return mean - half, mean + half, f"95% t interval over {n} seeds plus the sampling of {n_items:,} test items"


def ours(ref: dict, metrics: dict) -> tuple[float, float | None, float | None, str]:
    """Our value, its interval (None: none) and how the interval was made, unscaled; KeyError when missing."""
    if ref.get("finding"):
        f = next((f for f in metrics.get("findings", []) if f["id"] == ref["finding"]), None)
        if f is None or f.get("effect") is None:
            raise KeyError(f"finding {ref['finding']}")
        return (f["effect"], f["ci_low"], f["ci_high"],
                f"the {100 * f.get('ci_level', LEVEL):g}% interval of finding {ref['finding']} ({f.get('test', '')})")
    value = lookup(metrics, ref["path"])
    if isinstance(value, list):
        xs = [float(x) for x in value]
        return sum(xs) / len(xs), min(xs), max(xs), f"range over {len(xs)} seeds"
    if isinstance(value, dict):
        n_items = (int(round(sum(float(lookup(metrics, p)) for p in ref["sampling_n"])))
                   if ref.get("sampling_n") else None)
        return (float(value["mean"]), *_summary_interval(value, n_items))
    return float(value), None, None, "a single value, no interval"


def judge(low: float | None, high: float | None, band, kind: str) -> str:
    """The interval rule of the module docstring."""
    inside, outside, overlap, none = VERDICTS[kind][:4]
    if low is None or high is None:
        return none
    lo_b, hi_b = (-math.inf if band[0] is None else band[0]), (math.inf if band[1] is None else band[1])
    if lo_b <= low and high <= hi_b:
        return inside
    if high < lo_b or low > hi_b:
        return outside
    return overlap


def check(params: dict, metrics: dict[str, dict], refs: list[dict] | None = None) -> list[dict]:
    """One row per reference: experiment, kind, quantity, ours and its interval (scaled), band, source, where in
    the source, the source's figure, verdict and why."""
    from dlps.experiments import NAMES

    rows = []
    for ref in references(NAMES) if refs is None else refs:
        exp, kind, m = ref["experiment"], ref["kind"], metrics.get(ref["experiment"], {})
        assert kind in KINDS, f"{exp}: kind must be one of {KINDS}, got {kind!r}"
        band, scale = ref.get("band"), ref.get("scale", 1)
        text = {k: fill(ref.get(k, ""), params, m) for k in ("quantity", "source", "where", "figure", "note", "why")}
        row = {"experiment": exp, "kind": kind, "quantity": text["quantity"], "ours": None, "interval": None,
               "band": band_text(band) if band else "none", "source": text["source"], "where": text["where"],
               "figure": text["figure"]}
        try:
            ref = ref | {"path": fill(ref.get("path", ""), params, m)}
            value, low, high, how = ours(ref, m)
        except (KeyError, TypeError, ValueError) as e:
            rows.append(row | {"verdict": "not comparable", "why": f"this run's metrics/{exp}.json has no {e}"})
            continue
        low, high = (None, None) if low is None else (low * scale, high * scale)
        row |= {"ours": value * scale, "interval": None if low is None else [low, high]}
        failed = [k for k, rule in ref.get("requires", {}).items() if not _param_holds(params, k, rule)]
        if ref.get("comparable", True) is False or failed or not band:
            why = text["why"]
            if failed:
                why = f"params differ from the setting the row is written for ({', '.join(failed)}): {why}"
            rows.append(row | {"verdict": "not comparable", "why": why})
            continue
        verdict = judge(low, high, band, kind)
        span = "" if low is None else f" [{fmt(low)}, {fmt(high)}]"
        rows.append(row | {"verdict": verdict, "why": f"ours {fmt(value * scale)}{span} ({how}) against "
                                                      f"{band_text(band)}: {verdict}. {text['note']}".strip()})
    return rows


def summary(rows: list[dict]) -> str:
    """One sentence: published rows by verdict, then theory checks apart."""
    def counts(kind: str) -> str:
        mine = [r["verdict"] for r in rows if r["kind"] == kind]
        return ", ".join(f"{mine.count(v)} {v}" for v in VERDICTS[kind] if mine.count(v)) or "none"
    return (f"Published results: {counts('published')}. Theory checks (constants and bounds that follow from the "
            f"task, not agreement with the literature): {counts('theory')}.")


def section(doc, rows: list[dict]) -> None:
    """The report's Literature section: published results and theory checks in two tables, with the band rule."""
    doc.heading(2, "Against the literature", "literature")
    doc.para("Each experiment's literature.yaml (dlps/experiments/<name>/) next to this run's values. A row is in band "
             "only when this run's whole interval lies in the band, out of band when it lies wholly outside, else "
             "it overlaps; 'not comparable' says why (a different data size, model or budget). " + summary(rows))
    for kind, title in (("published", "Published results"), ("theory", "Theory checks (constants and bounds)")):
        doc.heading(3, title)
        doc.table(["experiment", "quantity", "ours [interval]", "band", "verdict", "why", "source (where)", "figure"],
                  [[r["experiment"], r["quantity"], _ours(r), r["band"], r["verdict"], r["why"],
                    f"{r['source']} ({r['where']})" if r["where"] else r["source"], r["figure"]]
                   for r in rows if r["kind"] == kind])


def _ours(r: dict) -> str:
    if r["ours"] is None:
        return "n/a"
    lo_hi = r.get("interval")
    return fmt(r["ours"]) + (f" [{fmt(lo_hi[0])}, {fmt(lo_hi[1])}]" if lo_hi else "")
