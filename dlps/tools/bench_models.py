"""The bench's model families: each one's training step at given sizes, ready to repeat and time."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

from dlps.models.flops import GATES


def median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


@dataclass
class Workload:
    """One model family's training step, ready to repeat: step() is one optimizer step on fixed inputs, output()
    the model's predictions on them (for comparing variants), `steps` how many steps one timing takes, `torch`
    whether it runs torch (a NumPy one has no torch profile)."""
    step: Callable[[], None]
    output: Callable[[], object]
    samples: int
    flops: int
    steps: int
    torch: bool = True


def _rates(w: Workload, step_s: float) -> dict:
    return {"samples_per_s": w.samples / step_s, "flops_per_s": w.flops / step_s, "flops_per_step": w.flops}


def measure(w: Workload) -> dict:
    """Samples and FLOPs per second of a workload's step (median of 3 timings of w.steps steps)."""
    return _rates(w, median_time(lambda: [w.step() for _ in range(w.steps)], repeats=3) / w.steps)


def measure_flushing(build: Callable[[], Workload], repeats: int = 3) -> dict[bool, dict]:
    """measure() with subnormal floats flushed to zero (True) and kept (False): two copies of the workload, each
    trained under its own setting only, their timings alternated so a busy neighbour slows both alike. The
    process's setting is left flushed or kept as it was. The setting is this thread's: exact for one-thread
    workloads (every family's job today); intra-op threads already started keep theirs."""
    from dlps import runtime

    before = bool(runtime.FLUSHING)
    copies, times = {}, {True: [], False: []}
    for on in (True, False):
        runtime.flush_denormal(on)
        copies[on] = build()
        copies[on].step()  # warm-up under its own setting
    for _ in range(repeats):
        for on, w in copies.items():
            runtime.flush_denormal(on)
            t = time.perf_counter()
            for _ in range(w.steps):
                w.step()
            times[on].append((time.perf_counter() - t) / w.steps)
    runtime.flush_denormal(before)
    return {on: _rates(copies[on], statistics.median(times[on])) for on in copies}


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
                    seeds: int = 1, compiled: bool = False) -> Workload:
    """A recurrent text classifier's training step on full-length batches (embedding, one LSTM/GRU, linear
    read-out): gates·2H(E+H) FLOPs per token forward, ×3 for training. `seeds`: how many its stage trains (the
    bench's batched variant trains that many as one model)."""
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


def numpy_char_rnn(vocab: int, hidden: int, length: int, batch: int) -> Workload:
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
                    3 * 2 * (hidden * hidden + vocab * hidden) * length * batch, 5, torch=False)


MODELS = {"mlp": mlp, "cnn": cnn, "recurrent_regressor": recurrent_regressor, "recurrent_members": recurrent_members,
          "text_classifier": text_classifier, "numpy_char_rnn": numpy_char_rnn}  # what a bench_workloads row may name
