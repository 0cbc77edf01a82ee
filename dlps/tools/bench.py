"""Measure this machine's matmul ceilings and each model family's training throughput against them (the models and
their sizes from each experiment's cost.py)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from dlps.models.flops import GATES


def _median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gemm_rates(dtype_name: str, n: int = 2048) -> dict[str, float]:
    """FLOP/s of an n×n matmul in the given dtype (2n³ FLOPs) through each GEMM library torch has here, median of
    repeats, at the current thread count: the BLAS behind torch.mm, and oneDNN (behind torch's convolutions and
    fused LSTM) where its product agrees with torch.mm's."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    rates = {"torch.mm": 2 * n ** 3 / _median_time(lambda: a @ b)}
    try:
        from dlps.models.onednn import onednn_gemm  # a @ bᵀ: the same 2n³ FLOPs

        if torch.allclose(onednn_gemm(a, b).float(), (a @ b.T).float(), rtol=1e-2, atol=1e-2 * n ** 0.5):
            rates["oneDNN"] = 2 * n ** 3 / _median_time(lambda: onednn_gemm(a, b))
    except (AttributeError, RuntimeError):  # a torch built without oneDNN, or a CPU it does not serve
        pass
    return rates


def matmul_ceiling(rates: dict[str, float]) -> float:
    """The ceiling is the fastest library's rate: a BLAS may leave vector units idle (MKL runs its AVX2 code on
    AMD CPUs), and a ceiling below what the machine does would inflate every share of it."""
    return max(rates.values())


@dataclass
class Workload:
    """One model family's training step, ready to repeat: step() is one optimizer step on fixed inputs, output()
    the model's predictions on them (for comparing variants), `steps` how many steps one timing takes."""
    step: Callable[[], None]
    output: Callable[[], object]
    samples: int
    flops: int
    steps: int


def measure(w: Workload) -> dict:
    """Samples and FLOPs per second of a workload's step (median of 3 timings of w.steps steps)."""
    step_s = _median_time(lambda: [w.step() for _ in range(w.steps)], repeats=3) / w.steps
    return {"samples_per_s": w.samples / step_s, "flops_per_s": w.flops / step_s, "flops_per_step": w.flops}


def _sgd(model, x, y, loss_fn, bf16: bool, forward=None):
    """(step, output) of `model` on (x, y): forward under bf16 autocast on x's device if bf16, backward, SGD with
    momentum."""
    import torch

    from dlps.runtime import Runtime

    rt = Runtime(str(x.device), "bf16" if bf16 else "fp32")
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    forward = model if forward is None else forward

    def step():
        with rt.autocast():
            out = forward(x)
        loss = loss_fn(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def output():
        with torch.no_grad(), rt.autocast():
            return forward(x).float()

    return step, output


def mlp(sizes: list[int], batch: int, bf16: bool, onednn: bool = False) -> Workload:
    """An MLP training step: 6 FLOPs per weight per sample (forward 2, backward 4); with onednn, its linear layers'
    GEMMs run by oneDNN."""
    import torch

    from dlps.models.onednn import use_onednn_linears
    from dlps.models.vision import MLP

    torch.manual_seed(0)
    model = MLP(sizes[0], sizes[1:-1], sizes[-1])
    if onednn:
        use_onednn_linears(model)
    x, y = torch.randn(batch, sizes[0]), torch.randint(0, sizes[-1], (batch,))
    step, output = _sgd(model, x, y, torch.nn.functional.cross_entropy, bf16)
    return Workload(step, output, batch, 6 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])), 20)


def cnn(channels: list[int], hidden: int, batch: int, bf16: bool, channels_last: bool,
        compiled: bool = False) -> Workload:
    """The SmallCNN's training step on 3×32×32 input; FLOPs counted over its conv and linear layers (×3)."""
    import torch

    from dlps.models.vision import SmallCNN

    torch.manual_seed(0)
    model = SmallCNN(10, tuple(channels), hidden)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    forward = 0

    def count(module, inp, out):
        nonlocal forward
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            forward += 2 * out.shape[2] * out.shape[3] * module.out_channels * module.in_channels * k
        elif isinstance(module, torch.nn.Linear):
            forward += 2 * module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    step, output = _sgd(model, x, y, torch.nn.functional.cross_entropy, bf16,
                        torch.compile(model) if compiled else None)
    return Workload(step, output, batch, 3 * forward * batch, 10)


def recurrent_regressor(kind: str, hidden: int, length: int, batch: int, input_size: int = 2) -> Workload:
    """A torch.nn.LSTM/GRU regression step (the adding problem's model): gates·2H(D+H) FLOPs per sample per
    step forward, ×3 for training."""
    import torch

    from dlps.models.cells import SequenceRegressor

    torch.manual_seed(0)
    model = SequenceRegressor(kind, hidden, input_size=input_size)
    x, y = torch.randn(batch, length, input_size), torch.randn(batch)
    step, output = _sgd(model, x, y, torch.nn.functional.mse_loss, False)
    return Workload(step, output, batch, 3 * 2 * GATES[kind] * hidden * (input_size + hidden) * length * batch, 5)


def member_inputs(members: int, inputs: int, length: int, batch: int):
    """Inputs (members, batch, length, inputs) and targets (members, batch) of a batched workload, drawn under seed 0."""
    import torch

    torch.manual_seed(0)
    return torch.randn(members, batch, length, inputs), torch.randn(members, batch)


class _CompiledMembers:
    """Members whose forward pass (every step of the recurrence) runs as one torch.compile'd graph; the weights,
    clip and Adam stay those of the wrapped Members."""

    def __init__(self, members):
        import torch

        self.members, self.forward = members, torch.compile(members.__call__)

    @property
    def weights(self):
        return self.members.weights

    def __call__(self, x):
        return self.forward(x)


def recurrent_members(kind: str, inputs: int, hidden: int, length: int, batch: int, members: int,
                      compiled: bool = False) -> Workload:
    """`members` from-scratch SequenceRegressors of one kind (seeds 0, 1, ...) trained as one batched model
    (dlps.models.members: bmm over members, each with its own loss, clip and Adam); samples and FLOPs count every
    member."""
    import torch

    from dlps.models.cells import SequenceRegressor
    from dlps.models.members import Adam, Members, train_step

    models = []
    for seed in range(members):
        torch.manual_seed(seed)
        models.append(SequenceRegressor(kind, hidden, input_size=inputs, builtin=False))
    batched = Members.of(models)
    opt = Adam(batched, 1e-3)
    if compiled:
        batched = _CompiledMembers(batched)
    x, y = member_inputs(members, inputs, length, batch)

    def output():
        with torch.no_grad():
            return batched(x)

    flops = members * 3 * 2 * GATES[kind] * hidden * (inputs + hidden) * length * batch
    return Workload(lambda: train_step(batched, opt, x, y, 1.0), output, members * batch, flops, 2)


def text_classifier(kind: str, vocab: int, embed: int, hidden: int, length: int, batch: int, bf16: bool,
                    compiled: bool = False) -> Workload:
    """The sentiment model's training step on full-length batches (embedding, one LSTM/GRU, linear read-out):
    gates·2H(E+H) FLOPs per token forward, ×3 for training."""
    import torch

    from dlps.models.text_rnn import RNNClassifier

    torch.manual_seed(0)
    model = RNNClassifier(vocab, embed, hidden, kind, False, 0.0)
    x, y = torch.randint(2, vocab, (batch, length)), torch.randint(0, 2, (batch,)).float()
    lengths = torch.full((batch,), length)

    def forward(inp):
        return model(inp, lengths)

    step, output = _sgd(model, x, y, torch.nn.functional.binary_cross_entropy_with_logits, bf16,
                        torch.compile(forward) if compiled else forward)
    return Workload(step, output, batch, 3 * 2 * GATES[kind] * hidden * (embed + hidden) * length * batch, 3)


def numpy_rnn(vocab: int, hidden: int, length: int, batch: int) -> Workload:
    """The NumPy char-RNN's train step (forward, BPTT, clip, Adam); the one-hot input is a gather, not a matmul."""
    import numpy as np

    from dlps.models import numpy_rnn as nr

    rng = np.random.default_rng(0)
    params = nr.init_params(vocab, hidden, rng)
    opt = nr.Adam(params)
    x = rng.integers(0, vocab, (batch, length))
    y = rng.integers(0, vocab, (batch, length))

    def step():
        _, grads, _ = nr.loss_and_grads(params, x, y)
        nr.clip_grad_norm(grads, 5.0)
        opt.step(params, grads)

    return Workload(step, lambda: nr.loss_and_grads(params, x, y)[0], batch * length,
                    3 * 2 * (hidden * hidden + vocab * hidden) * length * batch, 5)


def dvc_overhead() -> dict:
    """`dvc repro` with nothing to do (measured only when `dvc status` finds the pipeline up to date, so the bench
    never runs a stage), and the start-up cost of a stage process (Python + dlps + torch)."""
    def timed(cmd):
        return _median_time(lambda: subprocess.run(cmd, capture_output=True, check=False), repeats=3, warmup=0)

    clean = subprocess.run(["dvc", "status", "--quiet"], capture_output=True, check=False).returncode == 0
    return {"dvc_repro_noop_s": timed(["dvc", "repro"]) if clean else None,
            "import_dlps_pipeline_s": timed([sys.executable, "-c", "import dlps.cli, dlps.jobs.train"]),
            "import_torch_s": timed([sys.executable, "-c", "import torch"])}


MODELS = {"mlp": mlp, "cnn": cnn, "recurrent_regressor": recurrent_regressor, "recurrent_members": recurrent_members,
          "text_classifier": text_classifier, "numpy_rnn": numpy_rnn}  # what an experiment's bench_workloads may name


def costs() -> list:
    """(name, cost module) of every experiment that has a cost.py, in report order."""
    from dlps.experiments import load_all

    return [(exp.name, exp.cost) for exp in load_all() if exp.cost is not None]


def workloads(params: dict, threads: int) -> list[tuple]:
    """(name, precision, threads, model, args, jobs) for each model family, from the experiments' bench_workloads
    at their params: the thread count each experiment's jobs use (its `threads`, else the shared count), its
    precision, and how many jobs its stage runs at once (its `workers`); model names a builder in MODELS."""
    from dlps.jobs.train import workers_for

    rows = []
    for name, cost in costs():
        listed = cost.bench_workloads
        jobs = workers_for(params[name], params.get("device", "cpu"))
        rows += [(*row, jobs) for row in (listed(params[name], threads) if listed else [])]
    return rows


def precision_check(params: dict) -> dict | None:
    """The fp32-vs-bf16 check of the experiment whose cost.py has one (the l2 CNN), or None."""
    checks = [cost.precision_check for _, cost in costs()]
    return next((check(params) for check in checks if check), None)


def run(params: dict, threads: int, check_precision: bool = True) -> dict:
    """Every measurement, in one run, so the ratios are taken under the same conditions. Each workload is
    compared with the matmul ceiling at its own precision and thread count."""
    import torch
    from threadpoolctl import threadpool_limits

    from dlps.malloc import keep_freed_memory
    from dlps.tools.bench_jobs import at_once
    from dlps.tools.bench_profile import HALF, explain

    keep_freed_memory()  # as in every stage process
    rates, ceilings, rows = {}, {}, []  # ceilings: each (precision, threads)'s fastest rate
    for name, dtype, n, model, args, jobs in workloads(params, threads):
        for k in {n, n * jobs}:
            if (dtype, k) not in rates:
                torch.set_num_threads(k)
                with threadpool_limits(k):
                    rates[dtype, k] = gemm_rates(dtype)
                ceilings[dtype, k] = matmul_ceiling(rates[dtype, k])
        torch.set_num_threads(n)
        with threadpool_limits(n):  # NumPy's BLAS too
            result = measure(MODELS[model](*args))
            row = {"workload": name, "precision": dtype, "threads": n, **result,
                   "ceiling_flops_per_s": ceilings[dtype, n],
                   "fraction_of_ceiling": result["flops_per_s"] / ceilings[dtype, n]}
            if row["fraction_of_ceiling"] < HALF:
                row |= explain(model, args, row)
        if jobs > 1:  # as the stage runs it: its jobs at once, against the ceiling of all their threads
            together = sum(at_once(model, args, n, jobs))
            row["at_once"] = {"jobs": jobs, "flops_per_s": together, "ceiling_flops_per_s": ceilings[dtype, n * jobs],
                              "fraction_of_ceiling": together / ceilings[dtype, n * jobs]}
        rows.append(row)
    torch.set_num_threads(threads)
    from dlps.runtime import supports

    for dtype in ("fp32", "bf16"):  # an emulated bf16 matmul measures nothing useful and takes minutes
        if (dtype, threads) not in rates and supports("cpu", dtype):
            rates[dtype, threads] = gemm_rates(dtype)
            ceilings[dtype, threads] = matmul_ceiling(rates[dtype, threads])
    from dlps.timing import cpu_kind

    def named(d):
        return {f"{p}, {n} thread{'s' * (n > 1)}": v for (p, n), v in sorted(d.items())}

    return {"cpu": cpu_kind(), "threads": threads, "matmul_ceiling_flops_per_s": named(ceilings),
            "matmul_flops_per_s_by_library": named(rates),
            "workloads": rows, "overhead": dvc_overhead(), "precision": precision_check(params) if check_precision else None}


def table(result: dict) -> str:
    """The benchmark as a Markdown table."""
    libraries = result["matmul_flops_per_s_by_library"]

    def by_library(key):
        return " (" + ", ".join(f"{lib} {r / 1e9:.1f}" for lib, r in libraries[key].items()) + ")"

    ceil = ", ".join(f"{k} {v / 1e9:.1f}{by_library(k)}" for k, v in result["matmul_ceiling_flops_per_s"].items())
    lines = [f"Matmul ceilings (GFLOP/s; each the fastest GEMM library's): {ceil}", "",
             "| workload | precision | threads | samples/s | GFLOP/s | fraction of its ceiling | "
             "as its stage runs it: jobs at once, fraction of the ceiling of their threads |",
             "|---|---|---|---|---|---|---|"]
    for r in result["workloads"]:
        a = r.get("at_once")
        stage = f"{a['jobs']}, {100 * a['fraction_of_ceiling']:.0f}%" if a else "1 (the fraction before)"
        lines.append(f"| {r['workload']} | {r['precision']} | {r['threads']} | {r['samples_per_s']:.0f} | "
                     f"{r['flops_per_s'] / 1e9:.1f} | {100 * r['fraction_of_ceiling']:.0f}% | {stage} |")
    from dlps.tools.bench_profile import table_lines

    lines += table_lines(result["workloads"])
    o = result["overhead"]
    noop = ("not measured (the pipeline is not up to date: run `dvc repro` first)" if o["dvc_repro_noop_s"] is None
            else f"{o['dvc_repro_noop_s']:.2f} s")
    lines += ["", f"`dvc repro` with nothing to do: {noop}; importing dlps for a stage: "
                  f"{o['import_dlps_pipeline_s']:.2f} s; importing torch: {o['import_torch_s']:.2f} s (medians)."]
    if result.get("precision"):
        from dlps.report.repro import precision_text

        lines += ["", precision_text(result["precision"])]
    return "\n".join(lines) + "\n"
