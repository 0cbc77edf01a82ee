"""Batched members (dlps.models.members): each member is exactly its own model trained alone by a plain loop."""

import math

import numpy as np
import pytest
import torch

from dlps.experiments.architectures import train as arch
from dlps.experiments.architectures.spec import CONFIGS
from dlps.experiments.vanishing_gradients import train as vg
from dlps.models.cells import SequenceRegressor
from dlps.models.members import Adam, Members, clip_grad_norms_, model_tensors, train_step
from dlps.runtime import Runtime
from dlps.data.tasks import adding_problem

H, T, B, STEPS, SEEDS = 6, 7, 16, 30, (0, 1)
CPU = Runtime("cpu")


def variants(kind: str) -> list[str]:
    return [v for v in CONFIGS if CONFIGS[v][0] == kind]


def batches(seed: int, steps: int = STEPS) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng([seed, 99])
    return [tuple(torch.from_numpy(a) for a in adding_problem(B, T, rng)) for _ in range(steps)]


def alone(variant: str, seed: int, data, lr=1e-2, clip=0.3):
    """The plain one-model loop: torch.optim.Adam and clip_grad_norm_ on SequenceRegressor(builtin=False)."""
    kind, ablation = CONFIGS[variant]
    torch.manual_seed(seed)
    model = SequenceRegressor(kind, H, builtin=False, **ablation)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    norms = []
    for x, y in data:
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
    return [t.detach() for t in model_tensors(model)], norms


def batched(pairs, data, lr=1e-2, clip=0.3) -> tuple[Members, list[list[float]]]:
    """The same runs as one batched model; member k is pairs[k] = (variant, seed) on data[seed]."""
    members = Members.of([arch.build(v, H, s) for v, s in pairs])
    opt = Adam(members, lr)
    norms = []
    for i in range(len(data[pairs[0][1]])):
        x, y = (torch.stack([data[s][i][j] for _, s in pairs]) for j in (0, 1))
        ((members(x) - y) ** 2).mean(dim=1).sum().backward()
        norms.append(clip_grad_norms_(members, clip).tolist())
        opt.step(members)
    return members, norms


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_each_member_equals_its_model_trained_alone(kind):
    """Every variant of a kind (ablations included) × two seeds in one batch; clipping binds on some steps."""
    data = {s: batches(s) for s in SEEDS}
    pairs = [(v, s) for v in variants(kind) for s in SEEDS]
    members, norms = batched(pairs, data)
    for k, (v, s) in enumerate(pairs):
        weights, ref_norms = alone(v, s, data[s])
        for ours, theirs in zip(members.state(k), weights, strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)
        np.testing.assert_allclose([n[k] for n in norms], ref_norms, rtol=1e-4)
    assert any(n > 0.3 for step in norms for n in step)  # the clip was active, so per-member clipping is tested


def test_forward_of_mixed_ablations_equals_each_model():
    pairs = [(v, 3) for v in variants("lstm")] + [(v, 4) for v in variants("lstm")]
    models = [arch.build(v, H, s) for v, s in pairs]
    x = torch.randn(len(pairs), B, T, 2)
    with torch.no_grad():
        out = Members.of(models)(x)
        for k, m in enumerate(models):
            torch.testing.assert_close(out[k], m(x[k]), rtol=0, atol=1e-6)


def test_kept_members_go_on_as_alone_and_batched_runs_repeat_exactly():
    data = {s: batches(s, 2 * STEPS) for s in SEEDS}
    pairs = [(v, s) for v in variants("gru") for s in SEEDS]
    members = Members.of([arch.build(v, H, s) for v, s in pairs])
    opt = Adam(members, 1e-2)
    frozen = {}
    for i in range(2 * STEPS):
        if i == STEPS:  # drop every other member half-way: the rest must carry on exactly as alone
            frozen = {k: members.state(k) for k in range(0, len(pairs), 2)}
            keep = torch.arange(1, len(pairs), 2)
            members.keep(keep)
            opt.keep(keep)
        live = range(len(pairs)) if i < STEPS else range(1, len(pairs), 2)
        x, y = (torch.stack([data[pairs[k][1]][i][j] for k in live]) for j in (0, 1))
        train_step(members, opt, x, y, 0.3)
    assert len(members) == len(pairs) // 2
    for j, k in enumerate(range(1, len(pairs), 2)):
        v, s = pairs[k]
        for ours, theirs in zip(members.state(j), alone(v, s, data[s])[0], strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)
    for k, state in frozen.items():  # a dropped member is exactly its model after the first half
        v, s = pairs[k]
        for ours, theirs in zip(state, alone(v, s, data[s][:STEPS])[0], strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)
    again, _ = batched(pairs, {s: d[:STEPS] for s, d in data.items()})
    once, _ = batched(pairs, {s: d[:STEPS] for s, d in data.items()})
    assert all(torch.equal(a, b) for a, b in zip(again.weights.values(), once.weights.values()))


CFG = {"hidden": H, "batch": B, "lr": 1e-2, "clip": 1.0, "max_steps": 120, "eval_every": 10, "stop_after": 2,
       "n_val": 64, "n_test": 80, "success_mse": 0.12}


def run_alone(cfg: dict, variant: str, lag: int, seed: int) -> tuple[dict, list]:
    """The architectures rules for one model, as a plain loop: fresh batches, validation, best checkpoint,
    early stop after stop_after evaluations below success_mse, one test at the checkpoint."""
    train_rng, val_rng, test_rng = arch.data_rngs(seed, lag)
    xv, yv = (torch.from_numpy(a) for a in adding_problem(cfg["n_val"], lag, val_rng))
    model = arch.build(variant, cfg["hidden"], seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    vals, best, below, step = [], math.inf, 0, 0
    for step in range(1, cfg["max_steps"] + 1):
        x, y = (torch.from_numpy(a) for a in adding_problem(cfg["batch"], lag, train_rng))
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        if step % cfg["eval_every"] and step != cfg["max_steps"]:
            continue
        with torch.no_grad():
            val = float(((model(xv) - yv) ** 2).mean())
        vals.append(val)
        if val < best:
            best, state = val, {k: v.clone() for k, v in model.state_dict().items()}
        below = below + 1 if val < cfg["success_mse"] else 0
        if below >= cfg["stop_after"]:
            break
    model.load_state_dict(state)
    xt, yt = (torch.from_numpy(a) for a in adding_problem(cfg["n_test"], lag, test_rng))
    with torch.no_grad():
        return {"steps": step, "test_mse": float(((model(xt) - yt) ** 2).mean())}, vals


def test_architectures_members_stop_checkpoint_and_test_as_alone():
    """Members stop at different steps (each leaves the batch then); each matches its plain one-model run."""
    lag, vs = 5, variants("lstm")
    results = arch.run_members(CFG, vs, lag, list(SEEDS), CPU)
    pairs = [(v, s) for v in vs for s in SEEDS]
    for (v, s), (row, hist) in zip(pairs, results, strict=True):
        ref, vals = run_alone(CFG, v, lag, s)
        assert row["steps"] == ref["steps"], (v, s)
        np.testing.assert_allclose([h["val_mse"] for h in hist], vals, rtol=1e-4, atol=1e-7)
        assert row["test_mse"] == pytest.approx(ref["test_mse"], rel=1e-4, abs=1e-7)
        assert row["ms_per_step"] > 0 and row["cpu_ms_per_step"] >= 0
    assert len({row["steps"] for row, _ in results}) > 1  # some members left the batch while others trained on
    again = arch.run_members(CFG, vs, lag, list(SEEDS), CPU)
    strip = lambda rs: [({k: x for k, x in r.items() if "ms_per_step" not in k}, h) for r, h in rs]  # noqa: E731
    assert strip(again) == strip(results)


def test_architectures_groups_cover_each_run_once_one_kind_per_job():
    cfg = {"seeds": [0, 1, 2, 3, 4, 5]}
    jobs = arch.groups(cfg, list(CONFIGS))
    runs = [(v, s) for vs, ss in jobs for v in vs for s in ss]
    assert sorted(runs) == sorted((v, s) for v in CONFIGS for s in cfg["seeds"])
    assert all(len({CONFIGS[v][0] for v in vs}) == 1 for vs, _ in jobs)
    assert all(len(vs) * len(ss) < arch.MEMBERS_PER_JOB + len(vs) for vs, ss in jobs)  # whole seeds, about that many


def test_vanishing_gradients_fit_all_trains_the_builtin_models_as_alone():
    """fit_all trains torch built-in layers through the batched from-scratch equations and writes them back."""
    cfg = {"hidden": H, "batch": 32, "train_batch": 8, "lr": 1e-2, "clip": 1.0, "max_steps": 40, "eval_every": 10,
           "target_mse": 0.12}
    seeds, length = [0, 1, 2], 5
    models = [vg.build("lstm", None, H, s) for s in seeds]
    fits = vg.fit_all(models, cfg, seeds, CPU, length)
    for s, model, (steps, solved) in zip(seeds, models, fits):
        ref = vg.build("lstm", None, H, s)
        opt = torch.optim.Adam(ref.parameters(), lr=cfg["lr"])
        stream = np.random.default_rng((s, 1))
        xv, yv = (torch.from_numpy(a) for a in adding_problem(cfg["batch"], length, np.random.default_rng((s, 2))))
        ref_steps, ref_solved = cfg["max_steps"], False
        for step in range(1, cfg["max_steps"] + 1):
            x, y = (torch.from_numpy(a) for a in adding_problem(cfg["train_batch"], length, stream))
            opt.zero_grad()
            ((ref(x) - y) ** 2).mean().backward()
            torch.nn.utils.clip_grad_norm_(ref.parameters(), cfg["clip"])
            opt.step()
            with torch.no_grad():
                if step % cfg["eval_every"] == 0 and float(((ref(xv) - yv) ** 2).mean()) < cfg["target_mse"]:
                    ref_steps, ref_solved = step, True
                    break
        assert (steps, solved) == (ref_steps, ref_solved)
        for ours, theirs in zip(model.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)
    assert len({f for f in fits}) > 1  # one solved (or stopped) at a different step than another
