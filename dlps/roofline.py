"""The run's roofline and throughput: each experiment's training FLOPs, counted analytically from its params and the
steps its runs took, against the time they would take at this machine's fp32 matmul ceiling (metrics/bench); and
seed-runs per minute of train-stage time, now and at an earlier revision. `python -m dlps.roofline [REV]` writes
metrics/bench/roofline.json and roofline.md.

Counts are multiply-adds × 2 of the matmuls and convolutions; training is 3 × the forward pass (forward, and the
backward's two matmuls), evaluation 1 ×. Element-wise work, embeddings and the NumPy least-squares experiments are
not counted, so the time at the ceiling is a lower bound on what any implementation could reach here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import yaml


GATES = {"rnn": 1, "lstm": 4, "gru": 3}
N_IMAGE_TEST = 10_000  # MNIST, Fashion-MNIST and CIFAR-10 test sets
N_IMDB = 25_000  # IMDB's training and test splits


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


def mlp_forward(sizes: list[int]) -> int:
    """FLOPs of one example through an MLP with these layer widths."""
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def cnn_forward(channels: list[int], hidden: int, side: int = 32, in_channels: int = 3, classes: int = 10) -> int:
    """FLOPs of one image through the SmallCNN: 3×3 same-padded convs, each followed by a 2×2 max-pool."""
    total, c_in = 0, in_channels
    for c in channels:
        total += 2 * side * side * c_in * c * 9
        side, c_in = side // 2, c
    return total + mlp_forward([c_in * side * side, hidden, classes])


def recurrent_forward(kind: str, hidden: int, inputs: int, length: int) -> int:
    """FLOPs of one sequence through a recurrent cell (every gate row is computed, ablated or not)."""
    return 2 * GATES[kind] * hidden * (inputs + hidden) * length


def _image(cfg: dict, runs: dict, forward: int, epochs_of, eval_train: int, tests: int) -> float:
    per_epoch = (3 * cfg["n_train"] + eval_train + cfg["n_val"]) * forward
    return sum(epochs_of(r) * per_epoch + tests * N_IMAGE_TEST * forward for rows in runs.values() for r in rows)


def dropout(cfg: dict, runs: dict) -> float:
    f = mlp_forward([784, *cfg["hidden"], 10])
    return _image(cfg, runs, f, lambda r: cfg["epochs"], cfg["n_train"], 2)


def l2(cfg: dict, runs: dict) -> float:
    f = cnn_forward(cfg["channels"], cfg["hidden"])
    return _image(cfg, runs, f, lambda r: cfg["epochs"], min(cfg["n_train"], cfg["train_eval_size"]), 1)


def early_stopping(cfg: dict, runs: dict) -> float:
    f = mlp_forward([784, *cfg["hidden"], 10])
    return _image(cfg, runs, f, lambda r: r["epochs_full"], cfg["n_train"], 2 + len(cfg["patience"]))


def architectures(cfg: dict, runs: dict) -> float:
    from dlps.experiments.architectures.spec import CONFIGS

    total = 0.0
    for variant, rows in runs.items():
        kind = CONFIGS[variant][0]
        for r in rows:
            for lag in cfg["lags"]:
                f, steps = recurrent_forward(kind, cfg["hidden"], 2, lag), r[f"steps_lag{lag}"]
                evals = math.ceil(steps / cfg["eval_every"])
                total += (3 * steps * cfg["batch"] + evals * cfg["n_val"] + cfg["n_test"]) * f
    return total


def vanishing_gradients(cfg: dict, runs: dict) -> float:
    total = 0.0
    for kind, rows in runs.items():
        for r in rows:
            for steps, length in ((r["steps"], cfg["train_length"]), (r["matched_steps"], cfg["matched_length"])):
                f = recurrent_forward(kind, cfg["hidden"], 2, length)
                total += (3 * steps * cfg["train_batch"] + steps // cfg["eval_every"] * cfg["batch"]) * f
    return total


def sentiment(cfg: dict, runs: dict) -> float:
    """Recurrent models only, at max_len tokens per review (an upper bound: shorter reviews are not padded out)."""
    total = 0.0
    for variant, rows in runs.items():
        kind = {"bilstm": "lstm"}.get(variant, variant)
        if kind not in GATES:
            continue  # TF-IDF + logistic regression
        f = recurrent_forward(kind, cfg["hidden"], cfg["embed_dim"], cfg["max_len"]) * (2 if variant == "bilstm" else 1)
        for r in rows:
            total += (r["epochs_run"] * (3 * (N_IMDB - cfg["n_val"]) + cfg["n_val"]) + N_IMDB) * f
    return total


def numpy_rnn(cfg: dict, runs: dict, vocab: int = 65) -> float:
    """The char-RNN's recurrent and read-out matmuls (its one-hot input is a lookup)."""
    per_char = 2 * (cfg["hidden"] ** 2 + cfg["hidden"] * vocab)
    steps = cfg["steps"] + cfg["torch_steps"]
    return sum(len(rows) for rows in runs.values()) * 3 * steps * cfg["batch"] * cfg["seq_len"] * per_char


COUNTED = {"dropout": dropout, "l2": l2, "early_stopping": early_stopping, "architectures": architectures,
           "vanishing_gradients": vanishing_gradients, "sentiment": sentiment, "numpy_rnn": numpy_rnn}


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
        flops = COUNTED[name](params[name], runs) if count and name in COUNTED and runs else None
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


def ceiling(tree: Tree) -> tuple[float, str]:
    """The fp32 matmul ceiling on every core, from the committed bench (`python stages/bench.py`)."""
    bench = tree.json("metrics/bench/bench.json")
    if bench is None:
        raise SystemExit("error: metrics/bench/bench.json is missing; run `python stages/bench.py` first")
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
              f"({result['ceiling_key']}, {ceil / 1e9:.0f} GFLOP/s) it takes {r['seconds_at_ceiling']:.0f} s; the "
              f"recorded train stages of those experiments took {r['recorded_train_s']:.0f} s "
              f"({r['fraction_of_ceiling']:.0%} of the ceiling)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    from dlps.io import write_json, write_text

    rev = argv[0] if argv else "HEAD"
    now_tree = Tree()
    ceil, key = ceiling(now_tree)
    now = measure(now_tree)
    result = {"before_rev": rev, "before": measure(Tree(rev), count=False), "now": now, "ceiling_key": key,
              "roofline": roofline(now, ceil)}
    write_json("metrics/bench/roofline.json", result)
    write_text("metrics/bench/roofline.md", table(result))
    print(table(result))


if __name__ == "__main__":
    main(sys.argv[1:])
