"""The run's roofline and throughput: each experiment's training FLOPs, counted analytically from its params and the
steps its runs took (its cost.py's train_flops), against the time they would take at this machine's fp32 matmul ceiling (metrics/bench); and
seed-runs per minute of train-stage time, now and at an earlier revision. `python -m dlps.tools.roofline [REV]` writes
metrics/bench/roofline.json and roofline.md.

Counts are multiply-adds × 2 of the matmuls and convolutions; training is 3 × the forward pass (forward, and the
backward's two matmuls), evaluation 1 ×; sequence models over the token positions their batches computed (padding
included, as recorded by the runs). Element-wise work, embeddings and the NumPy least-squares experiments are not
counted. The ceiling is a 2048² matmul's rate through the fastest GEMM library torch has on the machine (the bench's
`gemm_rates`): a yardstick for the run's efficiency, not a bound no implementation could beat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml


class Tree:
    """Read the project's files from the working tree (rev None) or from a git revision."""

    def __init__(self, rev: str | None = None, root: Path = Path(".")):
        self.rev, self.root = rev, root

    def text(self, path: str) -> str | None:
        if self.rev is None:
            p = self.root / path
            return p.read_text() if p.is_file() else None
        out = subprocess.run(["git", "show", f"{self.rev}:{path}"], cwd=self.root, capture_output=True, text=True)
        return out.stdout if out.returncode == 0 else None

    def names(self, folder: str) -> list[str]:
        if self.rev is None:
            p = self.root / folder
            return sorted(f.name for f in p.iterdir()) if p.is_dir() else []
        out = subprocess.run(["git", "ls-tree", "--name-only", f"{self.rev}:{folder}"], cwd=self.root,
                             capture_output=True, text=True)
        return out.stdout.split() if out.returncode == 0 else []

    def json(self, path: str):
        text = self.text(path)
        return None if text is None else json.loads(text)


def flop_counter(name: str):
    """The experiment's train_flops(cfg, runs) from its cost.py, or None where its work is not counted."""
    from dlps.experiments import load

    cost = load(name).cost
    return cost.train_flops if cost is not None else None


def measure(tree: Tree, count: bool = True) -> dict:
    """Per experiment: seed-runs, train-stage seconds, seed-runs per minute and (where counted and `count`)
    training FLOPs (counted for the current layout only: older revisions recorded other per-seed keys)."""
    from dlps.experiments import NAMES

    params = yaml.safe_load(tree.text("params.yaml"))
    stage_files = [n for n in tree.names("metrics/timing") if n.startswith("train_")]
    out = {}
    for name in NAMES:
        runs = {f[:-len(".json")]: tree.json(f"metrics/runs/{name}/{f}")["runs"]
                for f in tree.names(f"metrics/runs/{name}") if f.endswith(".json")}
        seconds = sum(tree.json(f"metrics/timing/{f}")["wall_s"] for f in stage_files
                      if f[len("train_"):].split("-")[0].removesuffix(".json") == name)
        n = sum(len(rows) for rows in runs.values())
        counter = flop_counter(name)
        flops = counter(params[name], runs) if count and counter and runs else None
        out[name] = {"seed_runs": n, "train_s": round(seconds, 1),
                     "seed_runs_per_min": round(60 * n / seconds, 2) if seconds else None, "train_flops": flops}
    return out


def roofline(now: dict, ceiling: float) -> dict:
    """The study's counted FLOPs, the time they take at `ceiling` FLOP/s, and that time as a share of the recorded."""
    counted = {k: v for k, v in now.items() if v["train_flops"]}
    flops = sum(v["train_flops"] for v in counted.values())
    at_ceiling = flops / ceiling
    recorded = sum(v["train_s"] for v in counted.values())
    return {"ceiling_flops_per_s": ceiling, "train_flops": flops, "seconds_at_ceiling": round(at_ceiling, 1),
            "recorded_train_s": round(recorded, 1), "fraction_of_ceiling": round(at_ceiling / recorded, 4)}


def run_cpus(tree: Tree) -> set[str]:
    """The CPUs the train stages' timing records name (records from before the field name none)."""
    return {rec["cpu"] for f in tree.names("metrics/timing") if f.startswith("train_")
            and (rec := tree.json(f"metrics/timing/{f}")) and "cpu" in rec}


def ceiling(tree: Tree) -> tuple[float, str]:
    """The fp32 matmul ceiling on every core, from the committed bench (`python stages/bench.py`), measured on the
    CPU the train stages ran on: a ceiling from another CPU kind would judge the run against the wrong roof."""
    bench = tree.json("metrics/bench/bench.json")
    if bench is None:
        raise SystemExit("error: metrics/bench/bench.json is missing; run `python stages/bench.py` first")
    cpus = run_cpus(tree)
    if bench.get("cpu") is None or not cpus or cpus != {bench["cpu"]}:
        raise SystemExit(f"error: the bench's CPU ({bench.get('cpu', 'not recorded')}) is not the one the train "
                         f"stages ran on ({', '.join(sorted(cpus)) or 'not recorded'}); run `python stages/bench.py` "
                         "on the machine of the run, or repeat the run (`dvc repro -f`) and the bench on one machine")
    key = max((k for k in bench["matmul_ceiling_flops_per_s"] if k.startswith("fp32")),
              key=lambda k: int(k.split(", ")[1].split()[0]))
    return bench["matmul_ceiling_flops_per_s"][key], key


def table(result: dict) -> str:
    """Markdown: seed-runs per minute before → after, and the roofline per experiment and for the run."""
    before, now, ceil = result["before"], result["now"], result["roofline"]["ceiling_flops_per_s"]
    rev = result["before_rev"]
    lines = [f"| experiment | seed-runs {rev} → now | train-stage time {rev} → now | seed-runs/min {rev} → now | "
             "training GFLOP | time at the fp32 ceiling | share of the ceiling |", "|---|---|---|---|---|---|---|"]
    for name, v in now.items():
        b = before.get(name, {})
        ratio = (f" (×{v['seed_runs_per_min'] / b['seed_runs_per_min']:.2f})"
                 if b.get("seed_runs_per_min") and v["seed_runs_per_min"] else "")
        flops = v["train_flops"]
        roof = (f"{flops / 1e9:,.0f} | {flops / ceil:.0f} s | {flops / ceil / v['train_s']:.0%}"
                if flops and v["train_s"] else "not counted | – | –")
        lines.append(f"| {name} | {b.get('seed_runs', '–')} → {v['seed_runs']} | {b.get('train_s', '–')} → "
                     f"{v['train_s']} s | {b.get('seed_runs_per_min', '–')} → {v['seed_runs_per_min']}{ratio} | {roof} |")
    r = result["roofline"]
    lines += ["", f"Counted training work: {r['train_flops'] / 1e12:.1f} TFLOP; at the fp32 matmul ceiling "
              f"measured on the run's CPU, {result.get('cpu', 'not recorded')} "
              f"({result['ceiling_key']}, {ceil / 1e9:.0f} GFLOP/s) it takes {r['seconds_at_ceiling']:.0f} s; the "
              f"recorded train stages of those experiments took {r['recorded_train_s']:.0f} s "
              f"({r['fraction_of_ceiling']:.0%} of the ceiling)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    from dlps.io import write_json, write_text

    from dlps.errors import UserError

    rev = argv[0] if argv else "HEAD"
    now_tree = Tree()
    ceil, key = ceiling(now_tree)
    try:
        now = measure(now_tree)
    except UserError as e:
        raise SystemExit(f"error: {e}") from None
    result = {"before_rev": rev, "before": measure(Tree(rev), count=False), "now": now, "ceiling_key": key,
              "cpu": sorted(run_cpus(now_tree))[0],
              "roofline": roofline(now, ceil)}
    write_json("metrics/bench/roofline.json", result)
    write_text("metrics/bench/roofline.md", table(result))
    print(table(result))


if __name__ == "__main__":
    main(sys.argv[1:])
