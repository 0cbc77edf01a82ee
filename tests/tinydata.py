"""Tiny datasets in the real file formats, and a mirror folder holding them (tests never use real data)."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

from dlps.data.decode import CIFAR_CLASSES

WORDS = {1: "great wonderful loved brilliant superb fun", 0: "awful boring hated terrible dull waste"}


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file (unsigned-byte type) holding `arr`, gzipped as the releases are."""
    header = b"\x00\x00\x08" + bytes([arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes(), mtime=0)


def image_classes(n: int, shape: tuple, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Learnable tiny images: each class brightens its own band of pixels."""
    y = np.arange(n) % 10
    x = rng.integers(0, 60, size=(n, *shape))
    flat = x.reshape(n, -1)
    band = flat.shape[1] // 10
    for i, c in enumerate(y):
        flat[i, c * band:(c + 1) * band] += 180
    return flat.reshape(n, *shape).astype(np.uint8), y.astype(np.uint8)


def write_idx_release(folder: Path, n_train: int, n_test: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x, y = image_classes(n, (28, 28), rng)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(idx_bytes(x))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(idx_bytes(y))


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_pickle_tar(n_per_batch: int, seed: int) -> bytes:
    """The canonical layout: cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}."""
    rng = np.random.default_rng(seed)
    files = {"cifar-10-batches-py/batches.meta": pickle.dumps({b"label_names": [c.encode() for c in CIFAR_CLASSES]})}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x, y = image_classes(n_per_batch, (3, 32, 32), rng)
        files[f"cifar-10-batches-py/{name}"] = pickle.dumps({b"data": x.reshape(n_per_batch, -1),
                                                             b"labels": [int(v) for v in y]})
    return tar_bytes(files)


def cifar_jpeg_tar(n_per_class: int, seed: int) -> bytes:
    """The image-folder copy: cifar-10-images/{train,test}/<class>/NNNN.jpg."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    files = {}
    for split in ("train", "test"):
        for c, cls in enumerate(CIFAR_CLASSES):
            for i in range(n_per_class):
                img = np.full((32, 32, 3), 20 * c, dtype=np.uint8) + rng.integers(0, 30, (32, 32, 3), dtype=np.uint8)
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="JPEG", quality=75)
                files[f"cifar-10-images/{split}/{cls}/{i:04d}.jpg"] = buf.getvalue()
    return tar_bytes(files)


def imdb_tar(n_per_folder: int, seed: int, unsup: bool = False) -> bytes:
    """aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt with sentiment words the models can learn."""
    rng = np.random.default_rng(seed)
    files = {"aclImdb/README": b"tiny test copy\n"}
    for split in ("train", "test"):
        for label, folder in ((1, "pos"), (0, "neg")):
            for i in range(n_per_folder):
                words = rng.choice(WORDS[label].split(), 6).tolist() + rng.choice(["film", "the", "plot"], 6).tolist()
                rating = int(rng.integers(7, 11) if label else rng.integers(1, 5))
                text = " ".join(rng.permutation(words)) + ".<br /><br />The End!"
                files[f"aclImdb/{split}/{folder}/{i}_{rating}.txt"] = text.encode()
        if unsup and split == "train":
            files["aclImdb/train/unsup/0_0.txt"] = b"unlabelled review"
    return tar_bytes(files)


SHAKESPEARE = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
               "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 40


def make_mirror(root: Path, cifar: str = "jpeg", seed: int = 0) -> Path:
    """A mirror folder shaped like ../shared/datasets, with a SHA256SUMS over every file."""
    write_idx_release(root / "mnist", 300, 100, seed)
    write_idx_release(root / "fashion-mnist", 300, 100, seed + 1)
    (root / "cifar-10").mkdir(parents=True)
    if cifar == "jpeg":
        (root / "cifar-10/cifar-10-images-jpeg.tar.gz").write_bytes(cifar_jpeg_tar(8, seed))
    else:
        (root / "cifar-10/cifar-10-python.tar.gz").write_bytes(cifar_pickle_tar(20, seed))
    (root / "imdb").mkdir()
    (root / "imdb/aclImdb-labelled.tar.gz").write_bytes(imdb_tar(30, seed))
    (root / "tinyshakespeare").mkdir()
    (root / "tinyshakespeare/input.txt").write_text(SHAKESPEARE)
    write_sha256sums(root)
    return root


def write_sha256sums(root: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}"
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")
