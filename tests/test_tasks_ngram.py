"""The adding problem generator and the n-gram baselines."""

import numpy as np
import pytest

from dlps.models import ngram
from dlps.data.tasks import ADDING_BASELINE_MSE, adding_problem


def test_adding_problem_shape_markers_and_targets():
    """Shapes and dtypes; exactly one marker in each half of every row; target = sum of the marked values."""
    n, length = 500, 11
    x, y = adding_problem(n, length, np.random.default_rng(0))
    assert x.shape == (n, length, 2) and y.shape == (n,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    half = length // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    assert np.array_equal(y, (values * markers).sum(axis=1))


def test_adding_problem_is_reproducible_and_uses_every_position():
    """Same seed, same data; markers reach both ends of both halves over many rows."""
    a = adding_problem(2000, 10, np.random.default_rng(1))
    b = adding_problem(2000, 10, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert (a[0][..., 1].sum(axis=0) > 0).all()


def test_predicting_one_scores_a_sixth():
    """The trivial baseline: MSE of always predicting 1 is 1/6 (standard error here is about 6e-4)."""
    _, y = adding_problem(100_000, 20, np.random.default_rng(2))
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 3e-3


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_rows_are_distributions(order):
    """Every context's next-char probabilities are positive and sum to 1."""
    tokens = np.random.default_rng(3).integers(0, 6, size=300)
    model = ngram.fit(tokens, vocab=6, order=order, k=0.5)
    assert model.logp.shape == (6 ** (order - 1), 6)
    probs = np.exp(model.logp)
    assert (probs > 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


def test_ngram_counts_by_hand():
    """Add-one bigram on 0 1 0 1 0 2 over 3 chars: after 0 come 1, 1, 2, so P(1|0) = 3/6, P(0|0) = 1/6,
    P(2|0) = 2/6; after 1 come 0, 0, so P(0|1) = 3/5; the unigram over all six ids gives P(0) = (3+1)/(6+3)."""
    tokens = np.array([0, 1, 0, 1, 0, 2])
    bigram = ngram.fit(tokens, vocab=3, order=2, k=1.0)
    assert np.exp(bigram.logp[0, 1]) == pytest.approx(0.5)
    assert np.exp(bigram.logp[0, 0]) == pytest.approx(1 / 6)
    assert np.exp(bigram.logp[2]) == pytest.approx(np.full(3, 1 / 3))
    unigram = ngram.fit(tokens, vocab=3, order=1, k=1.0)
    assert np.exp(unigram.logp[0, 0]) == pytest.approx(4 / 9)
    expected = -np.mean(np.log([1 / 2, 3 / 5, 1 / 2, 3 / 5, 1 / 3]))
    assert ngram.nll(bigram, tokens) == pytest.approx(expected)


def test_bigram_beats_unigram_on_structured_text():
    """On text where each char mostly determines the next, the bigram's held-out nll is far below the unigram's,
    and the unigram is near the entropy of the (uniform) char frequencies."""
    rng = np.random.default_rng(4)
    vocab = 8
    stream = np.cumsum(rng.choice([1, 1, 1, 1, 3], size=20_000)) % vocab
    train, val = stream[:15_000], stream[15_000:]
    uni = ngram.nll(ngram.fit(train, vocab, order=1), val)
    bi = ngram.nll(ngram.fit(train, vocab, order=2), val)
    assert uni == pytest.approx(np.log(vocab), abs=0.01)
    assert bi < uni - 1.0


def test_smoothing_handles_unseen_pairs():
    """A validation pair never seen in training gets finite loss, and larger k moves the model toward uniform."""
    train = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    val = np.array([0, 2, 1, 0])
    small, big = (ngram.nll(ngram.fit(train, 3, order=2, k=k), val) for k in (0.01, 100.0))
    assert np.isfinite(small) and np.isfinite(big)
    assert big == pytest.approx(np.log(3), abs=0.05)
    with pytest.raises(ValueError):
        ngram.fit(train, 3, order=2, k=0.0)
