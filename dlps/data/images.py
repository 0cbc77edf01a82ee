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


def to_tensors(data: dict[str, np.ndarray], device: str | None = None) -> dict:
    """torch tensors on `device` (a Runtime's; None: where torch.from_numpy puts them): images stay uint8
    (normalised per batch), labels become int64."""
    import torch

    t = {k: torch.from_numpy(v) if device is None else torch.from_numpy(v).to(device) for k, v in data.items()}
    for k in t:
        if k.startswith("y_"):
            t[k] = t[k].long()
    return t
