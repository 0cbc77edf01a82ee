"""The l2 experiment's cost: its training FLOPs for the roofline, its CNN for the bench, and the bench's fp32-vs-bf16
check of that CNN (neither the spec nor the training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.models.flops import cnn_forward, image_training


def train_flops(cfg: dict, runs: dict) -> float:
    f = cnn_forward(cfg["channels"], cfg["hidden"])
    return image_training(cfg, runs, f, lambda r: cfg["epochs"], min(cfg["n_train"], cfg["train_eval_size"]), 1)


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    """The CNN at the stage's thread count per job, in fp32 and, if the stage differs, as the stage runs it."""
    model = f"SmallCNN {cfg['channels']}, hidden {cfg['hidden']}, batch {cfg['batch_size']}"
    n = cfg["threads"] or threads
    rows = [(f"{model} (l2)", "fp32", n, "cnn", (cfg["channels"], cfg["hidden"], cfg["batch_size"], False, False))]
    if cfg["precision"] != "fp32" or cfg["channels_last"]:
        rows.append((f"{model}{', channels_last' if cfg['channels_last'] else ''} (l2)", cfg["precision"], n, "cnn",
                     (cfg["channels"], cfg["hidden"], cfg["batch_size"], cfg["precision"] == "bf16",
                      cfg["channels_last"])))
    return rows


def precision_check(params: dict) -> dict | None:
    """The CNN at λ = 0 over its seeds, trained in fp32 and in the precision the experiment uses (with its
    channels_last setting), paired by seed (same split, initial weights and batch order): is the accuracy
    difference within the seeds' noise? None when l2 already runs in fp32."""
    from dlps import stats
    from dlps.experiments.l2.train import run_seed
    from dlps.jobs.train import Context
    from dlps.models.training import train_per_seed

    cfg = params["l2"]
    low = cfg["precision"]
    if low == "fp32":
        return None
    seeds, ctx = cfg["seeds"], Context(params)

    def runs_at(c: dict) -> list[dict]:
        rt = ctx.runtime(c["precision"], key="l2.precision")
        return train_per_seed(ctx, "cifar10", c, seeds, "l2",
                              lambda data, seed: run_seed(c, 0.0, data, seed, rt))["runs"]

    runs = {"fp32": runs_at(cfg | {"precision": "fp32", "channels_last": False}), low: runs_at(cfg)}
    out = {"experiment": "l2", "lam": 0.0, "seeds": seeds, "precision": low}
    for metric in ("val_acc", "test_acc"):
        lo, ref = ([r[metric] for r in runs[k]] for k in (low, "fp32"))
        out[metric] = {"fp32": stats.summarize(ref), "bf16": stats.summarize(lo),
                       "bf16_minus_fp32": stats.paired_test(lo, ref) if len(seeds) > 1 else None}
    return out
