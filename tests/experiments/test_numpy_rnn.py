"""The numpy_rnn experiment on a tiny generated corpus: split, baselines, training rows, history, findings, figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlps.errors import UserError
from dlps.experiments.numpy_rnn import figures, spec, train
from dlps.experiments import load
from dlps.jobs.evaluate import aggregate, check_findings, findings_of
from dlps.jobs.train import Context
from dlps.models import ngram
from dlps.schema import ParamError

EXP = load("numpy_rnn")

# A short verse repeated: a bigram cannot tell which line comes next, a small RNN learns the whole cycle.
TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 30

CFG = {"seeds": [0, 1, 2], "workers": 1, "val_fraction": 0.05, "test_fraction": 0.05, "hidden": 32, "seq_len": 32, "batch": 16,
       "steps": 240, "lr": 0.01, "clip": 5.0, "eval_every": 100, "eval_batch": 4, "ngram_k": 1.0, "torch_steps": 30,
       "temperatures": [0.5, 1.0], "sample_chars": 40, "prompt": "\nAll:", "bar": 0.85, "agree_tol": 1e-6,
       "alpha": 0.05, "threads": 1}
SEEDS = CFG["seeds"]
V = spec.VARIANT


def write_corpus(root, text=TEXT):
    """Prepared files as the prepare stage writes them: uint8 ids and the sorted vocabulary."""
    folder = root / spec.DATASET
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
    return Context({"threads": 1, "device": "cpu"}, threads=1, data=data)


@pytest.fixture(scope="module")
def trained(ctx):
    return train.train(CFG, V, SEEDS, ctx)


def judged(cfg, rows):
    runs = {V: rows}
    m = aggregate(EXP, cfg, runs)
    found = findings_of(EXP, cfg, m, runs)
    check_findings(spec.NAME, found)
    return m, {f["id"]: f for f in found}


def test_schema_accepts_the_config_and_check_rejects_cross_key_errors():
    assert spec.SCHEMA.check(spec.NAME, CFG) == CFG
    spec.check(CFG)
    for key in ("torch_steps", "eval_every"):
        with pytest.raises(ParamError, match=f"numpy_rnn.{key}: got 241"):
            spec.check(CFG | {key: 241})
    with pytest.raises(ParamError, match="numpy_rnn.torch_steps"):
        spec.SCHEMA.check(spec.NAME, CFG | {"torch_steps": 1})
    with pytest.raises(ParamError, match="numpy_rnn.test_fraction"):
        spec.SCHEMA.check(spec.NAME, CFG | {"test_fraction": 0})
    assert spec.variants(CFG) == ["rnn"] and spec.VARIANTS_KEY is None
    assert set(spec.JUDGE_KEYS) <= set(spec.SCHEMA.fields) and not set(spec.TIMINGS) & set(spec.METRICS)
    assert isinstance(spec.TEST_SCORED, str) and "once" in spec.TEST_SCORED


def test_split_is_train_val_test_by_position_and_baselines_are_the_ngram_models(data):
    tokens, vocab = train.load_corpus(data)
    tr, val, test = train.split(CFG, tokens)
    assert np.array_equal(np.concatenate([tr, val, test]), tokens)
    assert len(val) == pytest.approx(0.05 * len(tokens), abs=1) and len(test) == pytest.approx(0.05 * len(tokens), abs=1)
    # the training part is the first 90%, exactly what a val_fraction of 0.1 alone used to leave
    assert len(tr) == int(round(len(tokens) * 0.9))
    base = train.baselines(CFG, tr, {"val": val, "test": test}, len(vocab))
    assert base["bigram_test"] == ngram.nll(ngram.fit(tr, len(vocab), order=2, k=1.0), test)
    assert base["unigram_val"] == ngram.nll(ngram.fit(tr, len(vocab), order=1, k=1.0), val)
    assert base["bigram_test"] < base["unigram_test"]


def test_windows_are_inputs_and_next_char_targets():
    tokens = np.arange(20)
    x, y = train.windows(tokens, np.array([0, 5]), 4)
    assert x.tolist() == [[0, 1, 2, 3], [5, 6, 7, 8]] and np.array_equal(y, x + 1)


def test_bad_data_and_prompt_fail_with_one_clear_message(tmp_path, data, ctx):
    with pytest.raises(UserError, match="tokens.npy: missing; run `dvc repro prepare@tinyshakespeare`"):
        train.load_corpus(tmp_path)
    _, vocab = train.load_corpus(data)
    with pytest.raises(ParamError, match=r"numpy_rnn.prompt: got 'ROMEO'.*not 'E', 'M', 'O', 'R'"):
        train.prompt_ids(CFG | {"prompt": "ROMEO"}, vocab)
    tokens = np.zeros(200, dtype=np.intp)
    with pytest.raises(UserError, match="validation split .* lower numpy_rnn.eval_batch or raise numpy_rnn.val_fraction"):
        train.split(CFG | {"eval_batch": 8}, tokens)
    with pytest.raises(UserError, match="test split .* raise numpy_rnn.test_fraction"):
        train.split(CFG | {"eval_batch": 4, "val_fraction": 0.2, "test_fraction": 0.02}, tokens)
    with pytest.raises(UserError, match="fewer than seq_len"):
        train.split(CFG | {"seq_len": 190, "eval_batch": 1}, tokens)
    with pytest.raises(ParamError, match="numpy_rnn.prompt"):
        train.train(CFG | {"prompt": "Z"}, "rnn", [0], ctx)


def test_runs_hold_every_metric_and_history_every_interval(trained):
    rows, history = trained["runs"], trained["history"]
    assert [r["seed"] for r in rows] == SEEDS
    for r in rows:
        assert all(isinstance(r[k], float) and math.isfinite(r[k]) for k in spec.METRICS)
        assert r["rnn_test_bits"] == pytest.approx(r["rnn_test_nats"] / math.log(2))
        assert r["rnn_over_bigram"] == pytest.approx(r["rnn_test_nats"] / r["bigram_test_nats"])
        assert r["rnn_val_nats"] == [h for h in history if h["seed"] == r["seed"]][-1]["val_loss"]
        assert r["rnn_test_nats"] != r["rnn_val_nats"]  # scored on different text
        for curve in ("twin_abs_dloss_f64", "twin_abs_dloss_f32", "numpy_f32_vs_f64_abs_dloss"):
            assert len(r[curve]) == CFG["torch_steps"]
        assert max(r["twin_abs_dloss_f64"]) == r["twin_max_abs_dloss_f64"]
        assert r["numpy_chars_per_s"] > 0 and r["torch_chars_per_s"] > 0 and r["twin_device"] == "cpu"
        assert [s["temperature"] for s in r["samples"]] == CFG["temperatures"]
        assert all(len(s["text"]) == CFG["sample_chars"] and set(s["text"]) <= set(TEXT) for s in r["samples"])
        assert sum(r["split_chars"].values()) == len(TEXT)
    assert [h["step"] for h in history if h["seed"] == 0] == [100, 200, 240]
    assert set(history[0]) == {"seed", "step", "train_loss", "val_loss"}
    # the baselines do not depend on the seed; the RNN's init and batches do
    assert len({r["bigram_test_nats"] for r in rows}) == 1 and len({r["rnn_test_nats"] for r in rows}) == 3
    json.dumps(trained, allow_nan=False)  # what the pipeline writes must be plain JSON


def test_rnn_learns_beyond_the_bigram_and_tracks_its_torch_twin(trained):
    """On the repeated verse, the RNN's test loss falls well under the bigram's; from the same init and batches
    the NumPy and PyTorch training losses agree to 1e-9 nats in float64 and 1e-3 in float32."""
    for r in trained["runs"]:
        assert r["rnn_test_nats"] < 0.6 * r["bigram_test_nats"]
        assert r["twin_max_abs_dloss_f64"] < 1e-9
        assert r["twin_max_abs_dloss_f32"] < 1e-3 and r["numpy_f32_vs_f64_max_abs_dloss"] < 1e-3


def test_training_is_deterministic_apart_from_timings(ctx, trained):
    again = train.train(CFG, "rnn", SEEDS[:1], ctx)
    strip = lambda r: {k: v for k, v in r.items() if k not in spec.TIMINGS}  # noqa: E731
    assert strip(again["runs"][0]) == strip(trained["runs"][0])
    assert again["history"] == [h for h in trained["history"] if h["seed"] == 0]


def test_findings_on_the_trained_runs(trained):
    m, found = judged(CFG, trained["runs"])
    assert list(found) == ["beats_bar", "beats_bigram", "matches_pytorch"]
    assert [k for k, f in found.items() if f["primary"]] == ["beats_bar"]
    assert found["matches_pytorch"]["role"] == "check" and "p_adjusted" not in found["matches_pytorch"]
    assert {f["verdict"] for f in found.values()} == {"shown"}
    bigram = found["beats_bigram"]
    assert bigram["test"].startswith("one-sided one-sample t-test") and "not a paired test" in bigram["text"]
    assert found["matches_pytorch"]["test"] == "deterministic check" and found["matches_pytorch"]["decided_by"] is None
    assert m["comparisons"] == {} and m["derived"]["train_chars_per_seed"] == 240 * 16 * 32
    # wall-clock values stay out of the metrics file: no summary, no derived ratio, no number in any text
    assert not set(spec.TIMINGS) & set(m["variants"][V]) and "throughput" not in json.dumps(m["derived"])
    json.dumps(m, allow_nan=False)


def fake_rows(rnn_vals, dloss=1e-9, bigram=2.5):
    return [{"seed": i, "rnn_test_nats": v, "rnn_test_bits": v / math.log(2), "bigram_test_nats": bigram,
             "bigram_test_bits": bigram / math.log(2), "unigram_test_nats": 3.3, "unigram_test_bits": 3.3 / math.log(2),
             "rnn_over_bigram": v / bigram, "rnn_val_nats": v + 0.01, "bigram_val_nats": bigram,
             "unigram_val_nats": 3.3, "rnn_train_nats": v - 0.1, "twin_max_abs_dloss_f64": dloss,
             "twin_max_abs_dloss_f32": 1e-3, "numpy_f32_vs_f64_max_abs_dloss": 1e-3,
             "numpy_chars_per_s": 3e5, "torch_chars_per_s": 1e5} for i, v in enumerate(rnn_vals)]


def test_clear_effects_shown_reversed_refuted_noise_inconclusive():
    _, found = judged(CFG, fake_rows([1.80, 1.81, 1.79]))
    assert {f["verdict"] for f in found.values()} == {"shown"}
    _, found = judged(CFG, fake_rows([2.60, 2.61, 2.62], dloss=1e-5))  # worse than the bigram, disagreeing twin
    assert [f["verdict"] for f in found.values()] == ["refuted", "refuted", "refuted"]
    assert "not met" in found["beats_bar"]["text"] and "do not agree" in found["matches_pytorch"]["text"]
    _, found = judged(CFG, fake_rows([2.0, 2.6, 2.2]))  # noisy around the bar and the bigram
    assert found["beats_bar"]["verdict"] == "inconclusive" and found["beats_bigram"]["verdict"] == "inconclusive"
    assert "Not shown" in found["beats_bar"]["text"]


def test_one_seed_is_inconclusive_not_shown():
    _, found = judged(CFG, fake_rows([1.8]))
    assert found["beats_bar"]["verdict"] == "inconclusive" and "one seed" in found["beats_bar"]["text"]
    assert found["matches_pytorch"]["verdict"] == "shown"


def test_a_baseline_that_varies_by_seed_is_an_error():
    rows = fake_rows([1.8, 1.9])
    rows[1]["bigram_test_nats"] = 2.4
    with pytest.raises(ValueError, match="must not depend on the seed"):
        judged(CFG, rows)


def test_figures(tmp_path, trained):
    runs = {V: trained["runs"]}
    m = aggregate(EXP, CFG, runs)
    files = figures.plot(CFG, m, runs, {V: trained["history"]}, tmp_path)
    assert [f["file"] for f in files] == ["loss_curves.png", "bits_per_char.png", "torch_agreement.png", "samples.png"]
    for f in files:
        assert (tmp_path / f["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "temperature" in files[-1]["caption"] and "reads:" in files[-1]["alt"]
    assert "wall-clock" in files[2]["caption"] and "chars/s" in files[2]["caption"]


def test_train_evaluate_plot_jobs(tmp_path, monkeypatch):
    """The generic jobs on this experiment: runs, timings and history written, metrics and findings stored."""
    from dlps.jobs.evaluate import evaluate
    from dlps.jobs.plot import plot
    from dlps.jobs.train import train as train_job
    from dlps.paths import figures_dir, history_file, metrics_file, run_file, run_timing_file

    write_corpus(tmp_path / "data/prepared")
    monkeypatch.chdir(tmp_path)
    cfg = CFG | {"seeds": [0, 1], "steps": 60, "eval_every": 30, "torch_steps": 10}
    params = {"threads": 1, "device": "cpu", spec.NAME: cfg}
    train_job(params, spec.NAME)
    assert history_file(spec.NAME, V).is_file()
    assert "numpy_chars_per_s" not in json.loads(run_file(spec.NAME, V).read_text())["runs"][0]
    assert "numpy_chars_per_s" in json.loads(run_timing_file(spec.NAME, V).read_text())["runs"][0]
    m = evaluate(params, spec.NAME)
    assert set(m["variants"][V]) == set(spec.METRICS) and [f["id"] for f in m["findings"]][-1] == "matches_pytorch"
    assert json.loads(metrics_file(spec.NAME).read_text())["findings"] == m["findings"]
    files = plot(params, spec.NAME)
    assert all((figures_dir(spec.NAME) / f["file"]).is_file() for f in files)
