"""The FLOP counts against the layers they count, and the roofline's throughput table on a tiny project tree."""

import json

import pytest
import torch
import yaml

from dlps.models import flops
from dlps.models.vision import SmallCNN
from dlps.tools import roofline


def test_cnn_count_matches_the_layers_of_smallcnn():
    counted = 0

    def hook(module, inp, out):
        nonlocal counted
        if isinstance(module, torch.nn.Conv2d):
            counted += 2 * out[0].numel() * module.in_channels * 9
        else:
            counted += 2 * module.in_features * module.out_features

    model = SmallCNN(10, (16, 32), 128)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    model(torch.zeros(1, 3, 32, 32))
    assert flops.cnn_forward([16, 32], 128) == counted


def test_mlp_and_recurrent_counts():
    assert flops.mlp_forward([784, 512, 10]) == 2 * (784 * 512 + 512 * 10)
    assert flops.recurrent_forward("lstm", 32, 2, 100) == 2 * 4 * 32 * 34 * 100
    assert flops.recurrent_forward("gru", 32, 2, 10) == 3 * flops.recurrent_forward("rnn", 32, 2, 10)


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)


def test_measure_counts_seed_runs_and_stage_time(tmp_path):
    params = yaml.safe_load(open("params.yaml"))
    _write(tmp_path / "params.yaml", yaml.safe_dump(params))
    for p in ("0.0", "0.5"):
        _write(tmp_path / f"metrics/runs/dropout/{p}.json", {"runs": [{"seed": 0}, {"seed": 1}]})
        _write(tmp_path / f"metrics/timing/train_dropout-{p}.json", {"wall_s": 30.0})
    _write(tmp_path / "metrics/timing/train_early_stopping-all.json", {"wall_s": 99.0})  # no runs: not counted
    out = roofline.measure(roofline.Tree(root=tmp_path))
    d = params["dropout"]
    assert out["dropout"]["seed_runs"] == 4 and out["dropout"]["train_s"] == 60.0
    assert out["dropout"]["seed_runs_per_min"] == pytest.approx(4.0)
    per_epoch = (3 * d["n_train"] + d["n_train"] + d["n_val"]) * flops.mlp_forward([784, *d["hidden"], 10])
    tests = 2 * flops.N_IMAGE_TEST * flops.mlp_forward([784, *d["hidden"], 10])
    assert out["dropout"]["train_flops"] == 4 * (d["epochs"] * per_epoch + tests)
    assert out["early_stopping"]["train_flops"] is None and out["early_stopping"]["seed_runs"] == 0
    r = roofline.roofline(out, ceiling=1e9)
    assert r["seconds_at_ceiling"] == pytest.approx(out["dropout"]["train_flops"] / 1e9, abs=0.1)
    assert "dropout" in roofline.table({"before_rev": "x", "before": out, "now": out, "ceiling_key": "fp32, 2 threads",
                                        "roofline": r})


def test_the_ceiling_must_come_from_the_cpu_the_run_used(tmp_path):
    bench = {"cpu": "AMD EPYC (AVX2, AVX-512, BF16)", "matmul_ceiling_flops_per_s": {"fp32, 2 threads": 1.5e11}}
    _write(tmp_path / "metrics/bench/bench.json", bench)
    _write(tmp_path / "metrics/timing/train_l2-0.json", {"wall_s": 1.0, "cpu": "AMD EPYC (AVX2)"})
    tree = roofline.Tree(root=tmp_path)
    with pytest.raises(SystemExit, match="not the one the train stages ran on"):
        roofline.ceiling(tree)
    _write(tmp_path / "metrics/timing/train_l2-0.json", {"wall_s": 1.0, "cpu": bench["cpu"]})
    assert roofline.ceiling(tree) == (1.5e11, "fp32, 2 threads")
    _write(tmp_path / "metrics/timing/train_l2-0.json", {"wall_s": 1.0})  # a record from before the field
    with pytest.raises(SystemExit, match="not recorded"):
        roofline.ceiling(tree)


def test_sentiment_flops_count_the_recorded_token_positions():
    from dlps.errors import UserError
    from dlps.experiments.sentiment import cost

    cfg = {"hidden": 8, "embed_dim": 4}
    runs = {"tfidf": [{"seed": 0}], "lstm": [{"seed": 0, "train_tokens": 100, "eval_tokens": 10}],
            "bilstm": [{"seed": 0, "train_tokens": 100, "eval_tokens": 10}]}
    per_token = flops.recurrent_forward("lstm", 8, 4, 1)
    assert cost.train_flops(cfg, runs) == (1 + 2) * 310 * per_token  # a BiLSTM runs both directions
    with pytest.raises(UserError, match="dvc repro train_sentiment"):
        cost.train_flops(cfg, {"gru": [{"seed": 0, "epochs_run": 3}]})  # a run from before the count


ZEN4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n" \
       "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n\nprocessor\t: 1\ncpu family\t: 25\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd sve\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n"


def test_a_cpu_kind_names_the_generation_where_the_model_name_hides_it(tmp_path, monkeypatch):
    # a virtual machine showed "AMD EPYC" and the same vector extensions for two generations whose fp32 ceilings
    # differ about 2x: a bench on one must not judge a run on the other
    from dlps import timing

    def kind(text: str) -> str:
        (tmp_path / "cpuinfo").write_text(text)
        monkeypatch.setattr(timing, "CPUINFO", tmp_path / "cpuinfo")
        return timing.cpu_kind()

    assert kind(ZEN4) == "AMD EPYC (family 25 model 17; AVX2, AVX-512, BF16)"
    assert kind(ZEN4) != kind(ZEN4.replace("cpu family\t: 25", "cpu family\t: 26"))
    assert kind(ARM).endswith("(implementer 0x41 part 0xd40)")
    monkeypatch.setattr(timing, "CPUINFO", tmp_path / "absent")
    assert timing.cpu_kind() and timing.cpu_info()[1] == ""
