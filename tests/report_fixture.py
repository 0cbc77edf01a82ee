"""A fake project for the report tests: metrics, findings, claims, figures, the protocol and the pilot, following
the data contract."""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from pathlib import Path
from types import SimpleNamespace

import yaml

from dlps.experiments import NAMES, load
from dlps.verdicts import holm

ROOT = Path(__file__).resolve().parents[1]


def png(width: int = 160, height: int = 110) -> bytes:
    """A valid RGB PNG (a gradient), small and without any plotting library."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def stat(mean: float, n: int = 3) -> dict:
    return {"mean": mean, "std": 0.01, "ci_low": mean - 0.02, "ci_high": mean + 0.02, "median": mean, "n": n}


T_EXPECTED, T_OPPOSITE = "one-sided paired t-test (> 0)", "one-sided paired t-test, opposite direction (< 0)"


def finding(fid: str, verdict: str, primary: bool, **kw) -> dict:
    base = {"id": fid, "primary": primary, "claim": f"The {fid} effect is positive and larger than the spread between seeds would explain in every variant.", "verdict": verdict,
            "rule": "one-sided paired t-test of a − b > 0 at α = 0.05; refuted if the opposite one-sided test is "
                    "significant", "alpha": 0.05, "effect": 0.0135, "ci_low": 0.004, "ci_high": 0.023, "n": 3,
            "p_expected": 0.012, "p_opposite": 0.988, "decided_by": "p_expected", "test": T_EXPECTED,
            "tests": {"p_expected": T_EXPECTED, "p_opposite": T_OPPOSITE}, "scale": 100.0, "unit": "pp",
            "text": f"The {fid} difference is 1.35 pp [95% CI 0.4, 2.3], p = 0.012."}
    return base | kw


def metrics_for(name: str) -> dict:
    findings = [finding("main", "shown", True), finding("second", "inconclusive", False, p_expected=0.2),
                finding("old_claim", "refuted" if name == "l2" else "shown", False)]
    if name == "dropout":
        findings[2]["claim_verdict"] = "not testable as stated"
    if name == "l2":
        findings[0] = finding("main", "refuted", True)
    if name == "architectures":
        findings.append(finding("rate", "shown", True, test="one-sided exact binomial test (above 0.95)",
                                rule="exact Clopper–Pearson 95% "
                                "interval of the success rate entirely above 0.95", effect=1.0, ci_low=0.29,
                                ci_high=1.0, scale=100.0, unit="%", n_needed=72, successes=3, threshold=0.95))
    if name == "numpy_rnn":
        findings.append(finding("matches_pytorch", "shown", True, test="deterministic check", decided_by=None, tests={},
                                alpha=None,
                                rule="deterministic check: value <= 1e-06 in every seed", effect=2e-12,
                                ci_low=1e-12, ci_high=2e-12, scale=1.0, unit="nats", tol=1e-6))
    if name == "sentiment":
        findings[0] = finding("main", "inconclusive", True, n=1, p_expected=0.3)
        findings.append(finding("best_recurrent_vs_tfidf", "refuted", True, effect=-0.0223, ci_low=-0.026,
                                ci_high=-0.0186, p_opposite=1.5e-31, decided_by="p_opposite",
                                test="one-sided exact McNemar test, opposite direction"))
    for f in findings:
        f["ci_level"] = 0.95
    holm(findings, name)  # p_adjusted and family on the primaries, as the evaluate stage leaves them
    return {"experiment": name, "seeds": [0, 1, 2],
            "variants": {"a": {"acc": stat(0.9), "loss": stat(0.3)}, "b": {"acc": stat(0.91), "loss": stat(0.28)}},
            "comparisons": {"acc_b_vs_a": {"a": "b", "b": "a", "metric": "acc", "mean_diff": 0.01,
                                           "diff_ci_low": 0.0, "diff_ci_high": 0.02, "test": "paired t-test",
                                           "statistic": 3.0, "p_value": 0.04}},
            "derived": {"x": 1.0}, "findings": findings}


WIDE_FIGURE = "vanishing_gradients"
PROTOCOL = """# Protocol

## Power and seeds

| experiment | primary finding | rule | seeds for 80% power | seeds run | power with them |
|---|---|---|---|---|---|
| dropout | main | one-sided paired t | 4 | 3 | 91% |
| l2 | main | one-sided paired t | 34 | 3 | 17% |

Text after the table.
"""
DEVIATIONS = """# Deviations

1. **The l2 run used 3 seeds instead of 8,**
   because the machine was shared (`params.yaml` says so).
2. Nothing else.
"""
PARAMS = {"seeds": [0, 1, 2], "device": "cpu", "threads": 0, "data": {"datasets": ["mnist"]},
          **{n: {"n_train": 100, "n_val": 50, "alpha": 0.05} for n in NAMES}}


def make_project(root: Path, monkeypatch, git: bool = False) -> dict:
    """Write the fake project under root, chdir there, and stub the experiment registry; returns params. With
    `git`, the project is a git checkout whose one commit holds the protocol."""
    import dlps.experiments as experiments

    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(root)
    monkeypatch.setattr(experiments, "NAMES", NAMES, raising=False)
    real = experiments.load
    monkeypatch.setattr(experiments, "load", lambda name: SimpleNamespace(
        name=name, spec=SimpleNamespace(table_metrics=("acc", "loss"), datasets=()), data=real(name).data,
        train_stages=lambda params: [f"train_{name}"]))
    (root / "metrics/datasets").mkdir(parents=True)
    (root / "metrics/timing").mkdir(parents=True)
    image, wide = png(), png(480, 160)  # one three-panel figure: it gets the slide's full width
    for name in NAMES:
        (root / f"metrics/{name}.json").write_text(json.dumps(metrics_for(name)))
        figs = root / "plots" / name
        figs.mkdir(parents=True)
        writeup = load(name).data("writeup.yaml")
        files = [writeup["key_figure"], "other.png"]
        for f in files:
            (figs / f).write_bytes(wide if name == WIDE_FIGURE and f == files[0] else image)
        (figs / "figures.json").write_text(json.dumps([{"file": f, "caption": f"{name} {f}", "alt": f"{name} {f}"}
                                                       for f in files[::-1]]))
        (root / f"metrics/timing/train_{name}.json").write_text(json.dumps(
            {"stage": f"train_{name}", "started": 1000.0, "wall_s": 10.0, "peak_rss_mib": 100.0}))
    (root / "metrics/datasets/mnist.json").write_text(json.dumps(
        {"canonical": True, "source": "x", "description": "digits", "origin": "https://example.org", "stats": {"n": 1}}))
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    pilot = {"commit": "4333c39" + "0" * 33, "label": "exploratory", "note": "the pilot run, before the protocol",
             "experiments": {n: [finding("main", "shown", True)] for n in NAMES}}
    (root / "metrics/pilot").mkdir(parents=True)
    (root / "metrics/pilot/findings.json").write_text(json.dumps(pilot))
    (root / "docs").mkdir()
    (root / "docs/protocol.md").write_text(PROTOCOL)
    (root / "docs/deviations.md").write_text(DEVIATIONS)
    if git:  # the protocol's commit, and code committed with it: the report names both, clean
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "protocol"]):
            subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                           capture_output=True)
    (root / "README.md").write_text("intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n")
    return json.loads(json.dumps(PARAMS))
