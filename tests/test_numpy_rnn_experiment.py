"""Experiment 2.1 logic on a tiny generated corpus: split, baselines, training rows, history, findings, figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlps import pipeline
from dlps.errors import UserError
from dlps.experiments import numpy_rnn as exp
from dlps.models import ngram
from dlps.params import ParamError
from dlps.pipeline import aggregate

# A short verse repeated: a bigram cannot tell which line comes next, a small RNN learns the whole cycle.
TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 30

CFG = {"val_fraction": 0.1, "hidden": 32, "seq_len": 32, "batch": 16, "steps": 240, "lr": 0.01, "clip": 5.0,
       "eval_every": 100, "eval_batch": 4, "ngram_k": 1.0, "torch_steps": 30, "temperatures": [0.5, 1.0],
       "sample_chars": 40, "prompt": "\nAll:", "bar": 0.85, "agree_tol": 1e-6, "alpha": 0.05,
       "threads": 1}
SEEDS = [0, 1, 2]
TIMED = ("numpy_chars_per_s", "torch_chars_per_s")


def write_corpus(root, text=TEXT):
    """Prepared files as the prepare stage writes them: uint8 ids and the sorted vocabulary."""
    folder = root / exp.DATASET
    folder.mkdir(parents=True)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    np.save(folder / "tokens.npy", np.array([index[c] for c in text], dtype=np.uint8))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("prepared"))


@pytest.fixture(scope="module")
def ctx(data):
    return pipeline.Context({"threads": 1}, data=data)


@pytest.fixture(scope="module")
def trained(ctx):
    return exp.train(CFG, "rnn", SEEDS, ctx)


def metrics_for(cfg, rows):
    return aggregate(exp, cfg, {"rnn": rows})


def test_schema_accepts_the_config_and_check_rejects_cross_key_errors():
    assert exp.SCHEMA.check(exp.NAME, CFG) == CFG
    exp.check(CFG)
    for key in ("torch_steps", "eval_every"):
        with pytest.raises(ParamError, match=f"numpy_rnn.{key}: got 241"):
            exp.check(CFG | {key: 241})
    with pytest.raises(ParamError, match="numpy_rnn.torch_steps"):
        exp.SCHEMA.check(exp.NAME, CFG | {"torch_steps": 1})
    assert exp.variants(CFG) == ["rnn"]


def test_split_is_by_position_and_baselines_are_the_ngram_models(data):
    tokens, vocab = exp.load_corpus(data)
    train, val = exp.split(CFG, tokens)
    assert len(train) + len(val) == len(tokens) and len(val) == pytest.approx(0.1 * len(tokens), abs=1)
    assert np.array_equal(np.concatenate([train, val]), tokens)
    base = exp.baselines(CFG, train, val, len(vocab))
    assert base["bigram"] == ngram.nll(ngram.fit(train, len(vocab), order=2, k=1.0), val)
    assert base["unigram"] == ngram.nll(ngram.fit(train, len(vocab), order=1, k=1.0), val)
    assert base["bigram"] < base["unigram"]


def test_windows_are_inputs_and_next_char_targets():
    tokens = np.arange(20)
    x, y = exp.windows(tokens, np.array([0, 5]), 4)
    assert x.tolist() == [[0, 1, 2, 3], [5, 6, 7, 8]] and np.array_equal(y, x + 1)


def test_bad_data_and_prompt_fail_with_one_clear_message(tmp_path, data):
    with pytest.raises(UserError, match="tokens.npy: missing; run `dvc repro prepare@tinyshakespeare`"):
        exp.load_corpus(tmp_path)
    _, vocab = exp.load_corpus(data)
    with pytest.raises(ParamError, match=r"numpy_rnn.prompt: got 'ROMEO'.*not 'E', 'M', 'O', 'R'"):
        exp.prompt_ids(CFG | {"prompt": "ROMEO"}, vocab)
    tokens = np.zeros(100, dtype=np.intp)
    with pytest.raises(UserError, match="lower numpy_rnn.eval_batch"):
        exp.split(CFG | {"eval_batch": 8}, tokens)
    with pytest.raises(UserError, match="fewer than seq_len"):
        exp.split(CFG | {"seq_len": 95}, tokens)
    with pytest.raises(ParamError, match="numpy_rnn.prompt"):
        exp.train(CFG | {"prompt": "Z"}, "rnn", [0], pipeline.Context({"threads": 1}, data=data))


def test_runs_hold_every_metric_and_history_every_interval(trained):
    rows, history = trained["runs"], trained["history"]
    assert [r["seed"] for r in rows] == SEEDS
    for r in rows:
        assert all(isinstance(r[k], float) and math.isfinite(r[k]) for k in exp.METRICS)
        assert r["rnn_val_bits"] == pytest.approx(r["rnn_val_nats"] / math.log(2))
        assert r["rnn_over_bigram"] == pytest.approx(r["rnn_val_nats"] / r["bigram_val_nats"])
        assert r["rnn_val_nats"] == [h for h in history if h["seed"] == r["seed"]][-1]["val_loss"]
        for curve in ("twin_abs_dloss_f64", "twin_abs_dloss_f32", "numpy_f32_vs_f64_abs_dloss"):
            assert len(r[curve]) == CFG["torch_steps"]
        assert max(r["twin_abs_dloss_f64"]) == r["twin_max_abs_dloss_f64"]
        assert max(r["twin_abs_dloss_f32"]) == r["twin_max_abs_dloss_f32"]
        assert r["numpy_chars_per_s"] > 0 and r["torch_chars_per_s"] > 0
        assert [s["temperature"] for s in r["samples"]] == CFG["temperatures"]
        assert all(len(s["text"]) == CFG["sample_chars"] and set(s["text"]) <= set(TEXT) for s in r["samples"])
    assert [h["step"] for h in history if h["seed"] == 0] == [100, 200, 240]
    assert set(history[0]) == {"seed", "step", "train_loss", "val_loss"}
    # the baselines do not depend on the seed; the RNN's init and batches do
    assert len({r["bigram_val_nats"] for r in rows}) == 1 and len({r["rnn_val_nats"] for r in rows}) == 3
    json.dumps(trained, allow_nan=False)  # what the pipeline writes must be plain JSON


def test_rnn_learns_beyond_the_bigram_and_tracks_its_torch_twin(trained):
    """On the repeated verse, the RNN's held-out loss falls well under the bigram's; from the same init and
    batches the NumPy and PyTorch training losses agree to 1e-9 nats in float64 and 1e-3 in float32."""
    for r in trained["runs"]:
        assert r["rnn_val_nats"] < 0.6 * r["bigram_val_nats"]
        assert r["rnn_train_nats"] < 0.6 * r["bigram_val_nats"]
        assert r["twin_max_abs_dloss_f64"] < 1e-9
        assert r["twin_max_abs_dloss_f32"] < 1e-3 and r["numpy_f32_vs_f64_max_abs_dloss"] < 1e-3
    first = [h for h in trained["history"] if h["seed"] == 0]
    assert first[-1]["train_loss"] < first[0]["train_loss"]


def test_training_is_deterministic_apart_from_timings(ctx, trained):
    again = exp.train(CFG, "rnn", SEEDS[:1], ctx)
    strip = lambda r: {k: v for k, v in r.items() if k not in TIMED}  # noqa: E731
    assert strip(again["runs"][0]) == strip(trained["runs"][0])
    assert again["history"] == [h for h in trained["history"] if h["seed"] == 0]


def test_analyze_and_findings_show_the_classic_result(trained):
    m = metrics_for(CFG, trained["runs"])
    c = m["comparisons"]["rnn_vs_bigram_val_nats"]
    assert (c["a"], c["b"], c["metric"], c["alternative"], c["n"]) == ("rnn", "bigram", "val_nats", "less", 3)
    assert c["mean_diff"] < 0 and 0 <= c["p_value"] < CFG["alpha"]
    assert m["comparisons"]["rnn_vs_unigram_val_nats"]["mean_diff"] < c["mean_diff"]
    d = m["derived"]
    assert d["bar_val_nats"] == pytest.approx(0.85 * trained["runs"][0]["bigram_val_nats"])
    assert d["numpy_over_torch_throughput"] > 0 and d["train_chars_per_seed"] == 240 * 16 * 32
    found = exp.findings(CFG, m)
    assert [f["shown"] for f in found] == [True, True, True]
    assert "met" in found[0]["text"] and "bits/char" in found[1]["text"] and "float32" in found[2]["text"]


def fake_rows(rnn_vals, dloss=1e-9, bigram=2.5):
    return [{"seed": i, "rnn_val_nats": v, "rnn_val_bits": v / math.log(2), "rnn_train_nats": v - 0.1,
             "bigram_val_nats": bigram, "bigram_val_bits": bigram / math.log(2), "unigram_val_nats": 3.3,
             "unigram_val_bits": 3.3 / math.log(2), "rnn_over_bigram": v / bigram, "twin_max_abs_dloss_f64": dloss,
             "twin_max_abs_dloss_f32": 1e-3, "numpy_f32_vs_f64_max_abs_dloss": 1e-3,
             "numpy_chars_per_s": 3e5, "torch_chars_per_s": 1e5} for i, v in enumerate(rnn_vals)]


def test_findings_say_not_shown_when_the_rnn_misses_the_bar_or_disagrees():
    found = exp.findings(CFG, metrics_for(CFG, fake_rows([2.2, 2.3, 2.25], dloss=1e-5)))
    assert [f["shown"] for f in found] == [False, True, False]
    assert "not met" in found[0]["text"] and "do not agree" in found[2]["text"]
    assert "ratio of 3" in found[2]["text"]
    found = exp.findings(CFG, metrics_for(CFG, fake_rows([2.0, 2.6, 2.9])))  # mean above the bigram
    assert not found[1]["shown"] and "Not shown" in found[1]["text"]


def test_one_seed_gives_no_test_and_no_crash():
    m = metrics_for(CFG, fake_rows([1.8]))
    assert m["comparisons"] == {}
    found = exp.findings(CFG, m)
    assert [f["shown"] for f in found] == [True, False, True] and "at least 2 seeds" in found[1]["text"]


def test_pipeline_train_evaluate_plot(tmp_path, monkeypatch, trained):
    """The generic jobs on this experiment: runs and history written, metrics aggregated, four figures saved."""
    from dlps.experiments import REGISTRY

    monkeypatch.setitem(REGISTRY, exp.NAME, exp)
    write_corpus(tmp_path / "data/prepared")
    monkeypatch.chdir(tmp_path)
    cfg = CFG | {"steps": 60, "eval_every": 30, "torch_steps": 10}
    params = {"seeds": [0, 1], "threads": 1, "device": "cpu", exp.NAME: cfg}
    pipeline.train(params, exp.NAME, "rnn")
    assert pipeline.history_file(exp.NAME, "rnn").is_file()
    m = pipeline.evaluate(params, exp.NAME)
    assert set(m["variants"]["rnn"]) == set(exp.METRICS) and "rnn_vs_bigram_val_nats" in m["comparisons"]
    figures = pipeline.plot(params, exp.NAME)
    assert [f["file"] for f in figures] == ["loss_curves.png", "bits_per_char.png", "torch_agreement.png",
                                           "samples.png"]
    for f in figures:
        assert (pipeline.figures_dir(exp.NAME) / f["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "temperature" in figures[-1]["caption"] and "reads:" in figures[-1]["alt"]
    from dlps.report import Doc, experiment_section

    doc = Doc()
    experiment_section(doc, params, exp.NAME, exp.findings(cfg, m), m)
    md = doc.render_md()
    assert exp.TITLE in md and "rnn vs bigram" in md and md.count("](../plots/numpy_rnn/") == 4
