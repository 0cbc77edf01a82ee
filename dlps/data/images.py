"""The prepared image datasets as arrays: loading, seeded train/validation splits, and tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlps.errors import UserError

KEYS = ("x_train", "y_train", "x_test", "y_test")


def load(folder: Path, dataset: str) -> dict[str, np.ndarray]:
    """The decoded uint8 images and labels of `dataset` under `folder` (data/prepared)."""
    arrays = {}
    for key in KEYS:
        path = Path(folder) / dataset / f"{key}.npy"
        if not path.is_file():
            raise UserError(f"{path}: missing; run `dvc repro prepare@{dataset}`")
        arrays[key] = np.load(path, allow_pickle=False)
    return arrays


def split(arrays: dict[str, np.ndarray], cfg: dict, seed: int, section: str) -> dict[str, np.ndarray]:
    """The seed's training subset (cfg n_train) and a disjoint validation split (cfg n_val) from the rest
    of the training set; the official test set is kept whole.

    The split depends only on the seed, so every variant compared under one seed sees the same data.
    """
    n = len(arrays["x_train"])
    if cfg["n_train"] + cfg["n_val"] > n:
        raise UserError(f"{section}: n_train + n_val = {cfg['n_train'] + cfg['n_val']} but the prepared training "
                        f"set has {n} images; lower {section}.n_train or {section}.n_val")
    order = np.random.default_rng(seed).permutation(n)
    tr, va = order[: cfg["n_train"]], order[cfg["n_train"]: cfg["n_train"] + cfg["n_val"]]
    return {"x_train": arrays["x_train"][tr], "y_train": arrays["y_train"][tr],
            "x_val": arrays["x_train"][va], "y_val": arrays["y_train"][va],
            "x_test": arrays["x_test"], "y_test": arrays["y_test"]}


def to_tensors(data: dict[str, np.ndarray], device: str = "cpu") -> dict:
    """torch tensors on `device`: images stay uint8 (normalised per batch), labels become int64."""
    import torch

    t = {k: torch.from_numpy(v).to(device) for k, v in data.items()}
    for k in t:
        if k.startswith("y_"):
            t[k] = t[k].long()
    return t


def train_per_seed(ctx, dataset: str, cfg: dict, seeds: list[int], section: str, run_seed) -> dict:
    """Call `run_seed(data, seed, device)` on each seed's split of `dataset`; gather per-seed rows and history.

    This is the `train` of every image experiment: the seed fixes the split here and, inside
    `run_seed`, the initial weights and batch order, so variants compared under one seed are paired.
    """
    arrays, device = load(ctx.data, dataset), ctx.device
    runs, history = [], []
    for seed in seeds:
        run, rows = run_seed(split(arrays, cfg, seed, section), seed, device)
        runs.append(run)
        history += rows
    return {"runs": runs, "history": history}
