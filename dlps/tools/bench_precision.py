"""The bench's precision check: an experiment's model trained in fp32 and in the lower precision its params set,
paired by seed, so a cheaper precision is kept only while its accuracy stays within the seeds' noise."""

from __future__ import annotations


def precision_check(params: dict) -> dict | None:
    """The check of the first experiment whose cost.py names a precision_reference for its params, or None."""
    from dlps.experiments import load_all

    for exp in load_all():
        reference = exp.cost.precision_reference if exp.cost is not None else None
        plan = reference(params[exp.name]) if reference else None
        if plan:
            return compare(params, exp.name, plan)
    return None


def compare(params: dict, name: str, plan: dict) -> dict:
    """`plan`'s variant over the experiment's seeds, trained by the experiment's own train() in fp32 (its params
    with plan['fp32'] applied) and as its params say, and each of plan['metrics'] summarised and paired by seed
    (same split, initial weights and batch order)."""
    from dlps import stats
    from dlps.experiments import load
    from dlps.jobs.train import Context

    cfg, train = params[name], load(name).train.train
    low, seeds = cfg["precision"], cfg["seeds"]
    ctx = Context(params, threads=cfg.get("threads", 0))
    runs = {"fp32": train(cfg | plan["fp32"], plan["variant"], seeds, ctx)["runs"],
            low: train(cfg, plan["variant"], seeds, ctx)["runs"]}
    out = {"experiment": name, "variant": plan["variant"], "seeds": seeds, "precision": low}
    for metric in plan["metrics"]:
        lo, ref = ([r[metric] for r in runs[k]] for k in (low, "fp32"))
        out[metric] = {"fp32": stats.summarize(ref), "bf16": stats.summarize(lo),
                       "bf16_minus_fp32": stats.paired_test(lo, ref) if len(seeds) > 1 else None}
    return out
