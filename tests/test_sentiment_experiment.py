"""Sentiment experiment logic: vocabulary, encoding, bucketing, padding invariance, metrics, findings, a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tinydata import WORDS

from dlps import text
from dlps.errors import UserError
from dlps.experiments import sentiment as exp
from dlps.params import ParamError
from dlps.pipeline import aggregate

CFG = {"seeds": [0, 1], "models": ["tfidf", "lstm", "bilstm", "gru"], "n_val": 10, "vocab_size": 100, "max_len": 20,
       "truncate": "tail", "embed_dim": 8, "hidden": 8, "dropout": 0.2, "epochs": 2, "patience": 2, "batch_size": 8,
       "bucket_chunk": 50, "lr": 2e-3, "clip": 1.0, "bf16": True, "threads": 1, "workers": 1, "tfidf_C": [1.0, 4.0],
       "tfidf_min_df": 1, "bar_bilstm": 0.87, "bar_tfidf": 0.88, "alpha": 0.05}


def write_tiny_imdb(root, n=30, seed=0):
    """Prepared-format IMDB (label, rating, tokens; ordered by label) with learnable sentiment words."""
    rng = np.random.default_rng(seed)
    (root / "imdb").mkdir(parents=True)
    for split in ("train", "test"):
        lines = []
        for label in (0, 1):
            for _ in range(n):
                words = rng.choice(WORDS[label].split(), 6).tolist() + rng.choice(["film", "the", "plot"], 6).tolist()
                lines.append(f"{label}\t{8 if label else 2}\t{' '.join(rng.permutation(words))} the end !")
        (root / "imdb" / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return root


class Ctx:
    def __init__(self, data):
        self.data = data
        self.params = {"threads": 1, "device": "cpu"}

    @property
    def device(self):
        return "cpu"


def test_missing_data_says_how_to_fix(tmp_path):
    with pytest.raises(UserError, match=r"dvc repro prepare@imdb"):
        text.load_imdb(tmp_path)


def test_vocabulary_is_frequency_ranked_deterministic_and_reserves_pad_unk():
    vocab = text.build_vocab(["b a a", "c b a"], size=4)
    assert vocab == {"a": 2, "b": 3}
    assert text.build_vocab(["c b a", "b a a"], size=4) == vocab
    assert text.build_vocab(["x y", "y x"], size=10) == {"x": 2, "y": 3}  # ties alphabetical


def test_encode_truncates_head_or_tail_and_maps_unknowns():
    vocab = {"a": 2, "b": 3}
    assert text.encode(["a b z a"], vocab, 3, "head")[0].tolist() == [2, 3, text.UNK]
    assert text.encode(["a b z a"], vocab, 3, "tail")[0].tolist() == [3, text.UNK, 2]
    assert text.encode([""], vocab, 3)[0].tolist() == [text.UNK]


def test_bucket_batches_cover_every_index_once_sorted_and_seeded():
    lengths = np.random.default_rng(0).integers(1, 100, 103)
    batches = text.bucket_batches(lengths, 8, np.random.default_rng(1), chunk=4)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert all(np.all(np.diff(lengths[b]) <= 0) for b in batches)
    again = text.bucket_batches(lengths, 8, np.random.default_rng(1), chunk=4)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    # bucketing cuts padding well below that of random batches
    pad = lambda bs: sum(len(b) * lengths[b].max() - lengths[b].sum() for b in bs)  # noqa: E731
    rand = np.array_split(np.random.default_rng(1).permutation(103), 13)
    assert pad(batches) < pad(rand) / 2


def test_reverse_within_length_keeps_padding_last():
    import torch

    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    out = text.reverse_within_length(x, torch.tensor([3, 2]))
    assert out.tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


@pytest.mark.parametrize("cell,bi", [("lstm", False), ("lstm", True), ("gru", False)])
def test_padding_never_reaches_the_final_state(cell, bi):
    """A sequence scores the same alone as padded in a batch with a longer one (both directions)."""
    import torch

    from dlps.training import init_model

    model = init_model(text.rnn_classifier(50, 6, 5, cell, bi, 0.0), 0).eval()
    short = np.array([5, 7, 9], dtype=np.int64)
    long = np.arange(2, 12, dtype=np.int64)
    with torch.no_grad():
        alone = model(*text.pad_batch([short], np.array([0])))
        batch = model(*text.pad_batch([long, short], np.array([0, 1])))
    assert torch.allclose(alone[0], batch[1], atol=1e-6)


def test_classification_metrics_and_confusion_counts():
    y = np.array([1, 1, 1, 0, 0])
    m = exp.classification_metrics(y, np.array([1, 1, 0, 1, 0]))
    assert (m["test_tp"], m["test_fn"], m["test_fp"], m["test_tn"]) == (2, 1, 1, 1)
    assert m["test_acc"] == pytest.approx(0.6) and m["test_precision"] == pytest.approx(2 / 3)
    assert m["test_recall"] == pytest.approx(2 / 3) and m["test_f1"] == pytest.approx(2 / 3)


def test_examples_pick_the_most_confident_right_and_wrong():
    probs = np.array([0.99, 0.6, 0.02, 0.9, 0.45])
    y = np.array([1, 1, 0, 0, 1])
    ex = exp.examples(["a", "b", "c", "d", "e"], y, probs, k=2)
    assert [(e["kind"], e["text"]) for e in ex] == [("right", "a"), ("right", "c"), ("wrong", "d"), ("wrong", "e")]


def test_check_requires_the_baseline():
    with pytest.raises(ParamError, match="sentiment.models"):
        exp.check(CFG | {"models": ["lstm", "bilstm"]})


def metrics_for(cfg, runs):
    return aggregate(exp, cfg, runs)


def fake_runs(accs: dict[str, list[float]]) -> dict:
    zero = {k: 0.0 for k in exp.METRICS}
    return {v: [zero | {"seed": s, "test_acc": a, "val_acc": a, "test_f1": a} for s, a in enumerate(xs)]
            for v, xs in accs.items()}


def test_findings_judge_the_bars_and_the_winner_with_seeds():
    cfg = CFG | {"seeds": [0, 1, 2]}
    runs = fake_runs({"tfidf": [0.885, 0.887, 0.886], "bilstm": [0.871, 0.873, 0.872], "lstm": [0.86, 0.87, 0.865]})
    f = exp.findings(cfg, metrics_for(cfg, runs))
    assert f[0]["id"] == "old_claim" and f[0]["shown"] and f[0]["verdict"] == "holds"
    assert f[1]["shown"]
    assert not f[2]["shown"] and "tfidf wins by" in f[2]["text"] and "95% CI" in f[2]["text"]
    json.dumps(f)


def test_findings_single_seed_say_no_ci_and_not_shown():
    cfg = CFG | {"seeds": [0]}
    runs = fake_runs({"tfidf": [0.87], "bilstm": [0.86]})
    f = exp.findings(cfg, metrics_for(cfg, runs))
    assert not f[0]["shown"] and f[0]["verdict"] == "does not hold" and "single seed, no CI" in f[0]["text"]
    assert not f[1]["shown"] and not f[2]["shown"] and "one seed" in f[2]["text"]


def test_tiny_run_trains_every_model_and_plots(tmp_path):
    import time

    data = write_tiny_imdb(tmp_path / "prepared")
    start = time.perf_counter()
    results = {v: exp.train(CFG, v, CFG["seeds"], Ctx(data)) for v in exp.variants(CFG)}
    assert time.perf_counter() - start < 60
    runs = {v: r["runs"] for v, r in results.items()}
    for v, rows in runs.items():
        assert [r["seed"] for r in rows] == CFG["seeds"]
        for r in rows:
            assert all(isinstance(r[k], (int, float)) for k in exp.METRICS)
            assert r["test_tn"] + r["test_fp"] + r["test_fn"] + r["test_tp"] == 60
    assert min(r["test_acc"] for r in runs["tfidf"]) > 0.9  # the tiny reviews are easy
    again = exp.train(CFG, "bilstm", CFG["seeds"], Ctx(data))["runs"]
    strip = lambda rows: [{k: v for k, v in r.items() if not k.startswith("train_")} for r in rows]  # noqa: E731
    assert strip(again) == strip(runs["bilstm"])  # deterministic apart from the timings
    m = metrics_for(CFG, runs)
    assert len(exp.findings(CFG, m)) == 3
    out = tmp_path / "fig"
    out.mkdir()
    histories = {v: r["history"] for v, r in results.items()}
    figs = exp.plot(CFG, m, runs, histories, out)
    assert [f["file"] for f in figs] == ["val_acc.png", "confusion.png", "examples.png"]
    assert all((out / f["file"]).stat().st_size > 1000 for f in figs)
