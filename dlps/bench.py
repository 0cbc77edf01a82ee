"""Measure this machine's matmul ceilings and each model family's training throughput against them."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_ceiling(dtype_name: str, n: int = 2048) -> float:
    """FLOP/s of an n×n matmul in the given dtype (2n³ FLOPs), median of repeats."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n ** 3 / _median_time(lambda: a @ b)


def _train_steps(model, x, y, loss_fn, steps: int, bf16: bool):
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def run():
        for _ in range(steps):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return _median_time(run, repeats=3) / steps


def mlp(sizes: list[int], batch: int, bf16: bool) -> dict:
    """An MLP training step: 6 FLOPs per weight per sample (forward 2, backward 4)."""
    import torch

    from dlps.models.vision import MLP

    model = MLP(sizes[0], sizes[1:-1], sizes[-1])
    x, y = torch.randn(batch, sizes[0]), torch.randint(0, sizes[-1], (batch,))
    step = _train_steps(model, x, y, torch.nn.functional.cross_entropy, 20, bf16)
    flops = 6 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"samples_per_s": batch / step, "flops_per_s": flops / step}


def cnn(batch: int, bf16: bool, channels_last: bool) -> dict:
    """The SmallCNN's training step; FLOPs counted over its conv and linear layers (×3 for training)."""
    import torch

    from dlps.models.vision import SmallCNN

    model = SmallCNN(10)
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
    step = _train_steps(model, x, y, torch.nn.functional.cross_entropy, 5, bf16)
    return {"samples_per_s": batch / step, "flops_per_s": 3 * forward * batch / step}


def lstm(hidden: int, length: int, batch: int, input_size: int = 2) -> dict:
    """A torch.nn.LSTM regression step: 2·4H(D+H) FLOPs per sample per step forward, ×3 for training."""
    import torch

    from dlps.models.cells import SequenceRegressor

    model = SequenceRegressor("lstm", hidden, input_size=input_size)
    x, y = torch.randn(batch, length, input_size), torch.randn(batch)
    step = _train_steps(model, x, y, torch.nn.functional.mse_loss, 5, False)
    flops = 3 * 2 * 4 * hidden * (input_size + hidden) * length * batch
    return {"samples_per_s": batch / step, "flops_per_s": flops / step}


def numpy_rnn(vocab: int, hidden: int, length: int, batch: int) -> dict:
    """The NumPy char-RNN's train step (forward, BPTT, clip, Adam); the one-hot input is a gather, not a matmul."""
    import numpy as np

    from dlps.models import numpy_rnn as nr

    rng = np.random.default_rng(0)
    params = nr.init_params(vocab, hidden, rng)
    opt = nr.Adam(params)
    x = rng.integers(0, vocab, (batch, length))
    y = rng.integers(0, vocab, (batch, length))

    def run():
        for _ in range(5):
            _, grads, _ = nr.loss_and_grads(params, x, y)
            nr.clip_grad_norm(grads, 5.0)
            opt.step(params, grads)

    step = _median_time(run, repeats=3) / 5
    flops = 3 * 2 * (hidden * hidden + vocab * hidden) * length * batch
    return {"samples_per_s": batch * length / step, "flops_per_s": flops / step}


def dvc_overhead() -> dict:
    """`dvc repro` with nothing to do, and the start-up cost of a stage process (Python + dlps + torch)."""
    def timed(cmd):
        return _median_time(lambda: subprocess.run(cmd, capture_output=True, check=False), repeats=3, warmup=0)

    return {"dvc_repro_noop_s": timed(["dvc", "repro"]),
            "import_dlps_pipeline_s": timed([sys.executable, "-c", "import dlps.cli, dlps.pipeline"]),
            "import_torch_s": timed([sys.executable, "-c", "import torch"])}


def run(threads: int) -> dict:
    """Every measurement, in one run, so the ratios are taken under the same conditions."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ceil = {"fp32": matmul_ceiling("fp32"), "bf16": matmul_ceiling("bf16")}
    rows = []

    def add(name, precision, result):
        rows.append({"workload": name, "precision": precision, **result,
                     "fraction_of_ceiling": result["flops_per_s"] / ceil["bf16" if precision == "bf16" else "fp32"]})

    add("MLP 784-512-512-10, batch 128", "fp32", mlp([784, 512, 512, 10], 128, False))
    add("MLP 784-512-512-10, batch 128", "bf16", mlp([784, 512, 512, 10], 128, True))
    add("SmallCNN, batch 128", "fp32", cnn(128, False, False))
    add("SmallCNN, batch 128, channels_last", "bf16", cnn(128, True, True))
    add("LSTM hidden 64, length 100, batch 64", "fp32", lstm(64, 100, 64))
    add("NumPy char-RNN vocab 65, hidden 128, length 64, batch 32", "fp32", numpy_rnn(65, 128, 64, 32))
    return {"threads": threads, "matmul_ceiling_flops_per_s": ceil, "workloads": rows, "overhead": dvc_overhead()}


def table(result: dict) -> str:
    """The benchmark as a Markdown table."""
    ceil = result["matmul_ceiling_flops_per_s"]
    lines = [f"Matmul ceiling ({result['threads']} threads): fp32 {ceil['fp32'] / 1e9:.1f} GFLOP/s, "
             f"bf16 {ceil['bf16'] / 1e9:.1f} GFLOP/s", "",
             "| workload | precision | samples/s | GFLOP/s | fraction of ceiling |", "|---|---|---|---|---|"]
    for r in result["workloads"]:
        lines.append(f"| {r['workload']} | {r['precision']} | {r['samples_per_s']:.0f} | {r['flops_per_s'] / 1e9:.1f} | "
                     f"{100 * r['fraction_of_ceiling']:.0f}% |")
    o = result["overhead"]
    lines += ["", f"`dvc repro` with nothing to do: {o['dvc_repro_noop_s']:.2f} s; importing dlps for a stage: "
                  f"{o['import_dlps_pipeline_s']:.2f} s; importing torch: {o['import_torch_s']:.2f} s (medians)."]
    return "\n".join(lines) + "\n"
