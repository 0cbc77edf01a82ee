"""Fixtures shared by the test files: tiny prepared image data in a one-thread CPU context, and one torch thread."""

import numpy as np
import pytest
from tinydata import image_classes


@pytest.fixture
def image_ctx(tmp_path):
    """make(dataset, shape, label_noise=0) -> a one-thread CPU Context whose prepared-data folder holds tiny learnable
    images (150 train, 50 test) under `dataset`; label noise lets a wide model overfit within a few epochs."""
    from dlps.jobs.train import Context

    def make(dataset: str, shape: tuple, label_noise: float = 0.0) -> Context:
        rng = np.random.default_rng(0)
        folder = tmp_path / dataset
        folder.mkdir()
        for split, n in (("train", 150), ("test", 50)):
            x, y = image_classes(n, shape, rng)
            if label_noise:
                flip = rng.random(n) < label_noise
                y[flip] = rng.integers(0, 10, flip.sum())
            np.save(folder / f"x_{split}.npy", x)
            np.save(folder / f"y_{split}.npy", y)
        return Context({"device": "cpu", "threads": 1}, data=tmp_path)

    return make


@pytest.fixture
def one_thread():
    """torch on one thread for the test, as the tiny experiments train, restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_and_plot(exp, cfg: dict, ctx, out) -> list[dict]:
    """Every variant of `exp` trained on seeds 0 and 1 (tiny data in ctx), judged, and its figures drawn into `out`."""
    from dlps.jobs.evaluate import aggregate

    results = {v: exp.train.train(cfg, v, [0, 1], ctx) for v in exp.spec.variants(cfg)}
    runs = {v: r["runs"] for v, r in results.items()}
    out.mkdir()
    files = exp.figures.plot(cfg, aggregate(exp, cfg, runs), runs, {v: r["history"] for v, r in results.items()}, out)
    assert all((out / f["file"]).stat().st_size > 0 for f in files)
    return files
