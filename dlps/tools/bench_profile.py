"""Why a model family trains below half its ceiling: a profile of its step, and the variants measured against it
(each checked for equal outputs at the same initial weights and for run-to-run repeatability)."""

from __future__ import annotations

HALF = 0.5  # the bar: a family below half its matmul ceiling gets a profile and its variants measured

# Operators whose self time is arithmetic in matrix products or convolutions (the ceiling's kind of work).
GEMM_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::mkldnn_convolution",
            "aten::convolution_backward", "aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer_backward",
            "aten::_mkldnn_rnn", "aten::mkldnn_linear")


def profile(w, steps: int = 2) -> dict:
    """Operator calls per step, mean self time per call, the share of self time in GEMM_OPS and the six operators
    with the most self time, over `steps` steps under torch.profiler (which adds a little to every call)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    w.step()  # warm-up: first-call allocations and kernel selection
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            w.step()
    events = [e for e in prof.key_averages() if e.count]
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    calls = sum(e.count for e in events)
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:6]
    return {"ops_per_step": calls / steps, "us_per_op": total / calls,
            "gemm_share": sum(e.self_cpu_time_total for e in events if e.key in GEMM_OPS) / total,
            "top": [{"op": e.key, "share": e.self_cpu_time_total / total, "calls_per_step": e.count / steps}
                    for e in top]}


def limit(p: dict) -> str:
    """What the profile says limits the step, in one sentence: matrix products when they take about two thirds of
    its time or more, the other operators when they take about a third or less, both in between."""
    share, ops, us = p["gemm_share"], p["ops_per_step"], p["us_per_op"]
    calls = f"{ops:.0f} operator calls per step of {us:.0f} µs each on average"
    if share >= 0.65:
        return f"{share:.0%} of the step's time is in matrix products and convolutions: their speed at these shapes limits it"
    if share <= 0.35:
        return (f"{1 - share:.0%} of the step's time is outside matrix products and convolutions ({calls}): per-op "
                f"overhead and memory-bound elementwise layers limit it, not arithmetic")
    return (f"{share:.0%} of the step's time is in matrix products and convolutions and {1 - share:.0%} in the "
            f"other operators ({calls}): neither dominates, both limit it")


def _core_reference(kind: str, embed: int, hidden: int, length: int, batch: int, seeds: int):
    """Member 0 of the batched variant (bench.recurrent_members) as its own model: torch's LSTM/GRU from the same
    seed, on the same inputs."""
    import torch

    from dlps.models.cells import SequenceRegressor
    from dlps.tools.bench_models import member_inputs

    x = member_inputs(seeds, embed, length, batch)[0][0]
    torch.manual_seed(0)
    model = SequenceRegressor(kind, hidden, input_size=embed)
    with torch.no_grad():
        return model(x)


def _variants(model: str, args: tuple) -> list[tuple[str, object, object]]:
    """(name, build, diff) for the variants of a family: build() gives the variant's Workload, diff(w) the largest
    absolute difference of its outputs from eager's at the same initial weights and inputs."""
    from dlps.tools import bench_models as bench

    def against(eager):
        return lambda w: float((w.output() - eager().output()).abs().max())

    if model == "mlp" and not args[2]:  # fp32: the BLAS behind torch.mm may leave vector units idle
        return [("linear layers through oneDNN (`dlps/models/onednn.py`)", lambda: bench.mlp(*args, onednn=True),
                 against(lambda: bench.mlp(*args)))]
    if model == "cnn":
        channels, hidden, batch, bf16, channels_last = args
        eager = against(lambda: bench.cnn(channels, hidden, batch, bf16, False))
        out = [("torch.compile (inductor)", lambda: bench.cnn(*args, compiled=True), eager)]
        if not channels_last:
            out.insert(0, ("channels_last", lambda: bench.cnn(channels, hidden, batch, bf16, True), eager))
        return out
    if model == "text_classifier":
        kind, _, embed, hidden, length, batch, _, seeds = args
        return [("torch.compile (inductor)", lambda: bench.text_classifier(*args, compiled=True),
                 against(lambda: bench.text_classifier(*args))),
                (f"{seeds} seeds as one batched model (from-scratch cells, bmm; recurrent core only)",
                 lambda: bench.recurrent_members(kind, embed, hidden, length, batch, seeds),
                 lambda w: float((w.output()[0] - _core_reference(kind, embed, hidden, length, batch, seeds))
                                 .abs().max()))]
    if model == "recurrent_members":  # per-op overhead limits them: fusing each step's elementwise work may pay
        return [("torch.compile (inductor)", lambda: bench.recurrent_members(*args, compiled=True),
                 against(lambda: bench.recurrent_members(*args)))]
    return []


def explain(model: str, args: tuple, row: dict) -> dict:
    """For a workload below HALF of its ceiling: its profile, what limits it, and each variant's speed (relative
    to the eager row, per seed-sample), equality to eager and repeatability."""
    from dlps.tools import bench_models as bench

    w = bench.MODELS[model](*args)
    if not w.torch:  # torch.profiler sees nothing of a NumPy step
        return {}
    p = profile(w)
    variants = []
    for name, build, max_diff in _variants(model, args):
        try:
            w = build()
            diff = max_diff(w)
            first, again = w.output(), w.output()
            r = bench.measure(w)
        except Exception as e:  # e.g. torch.compile without a C compiler: a variant that cannot run is recorded
            variants.append({"variant": name, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"})
            continue
        variants.append({"variant": name, **r, "fraction_of_ceiling": r["flops_per_s"] / row["ceiling_flops_per_s"],
                         "speedup": r["samples_per_s"] / row["samples_per_s"], "max_abs_diff_vs_eager": diff,
                         "repeatable": bool((first == again).all())})
    return {"profile": p, "limit": limit(p), "variants": variants}


def table_lines(rows: list[dict]) -> list[str]:
    """For each family below half its ceiling: what its profile says limits it, and the variants measured."""
    lines = []
    for r in rows:
        if "profile" not in r:
            continue
        top = ", ".join(f"{t['op']} {100 * t['share']:.0f}%" for t in r["profile"]["top"][:4])
        lines += ["", f"**{r['workload']}** at {100 * r['fraction_of_ceiling']:.0f}%: {r['limit']} (most self time, "
                      f"under torch.profiler: {top})."]
        if r["variants"]:
            lines += ["", "| variant | samples/s | fraction of the ceiling | speed-up | largest output difference from eager | "
                          "repeatable |", "|---|---|---|---|---|---|"]
            lines += [f"| {v['variant']} | did not run: {v['error']} | | | | |" if "error" in v else
                      f"| {v['variant']} | {v['samples_per_s']:.0f} | {100 * v['fraction_of_ceiling']:.0f}% | "
                      f"×{v['speedup']:.2f} | {v['max_abs_diff_vs_eager']:.1e} | {'yes' if v['repeatable'] else 'no'} |"
                      for v in r["variants"]]
    return lines
