"""Decode verified raw files once into compact arrays: uint8 images, labels, token files."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import re
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from dlps.data.fetch import DataError
from dlps.data.sources import DATASETS
from dlps.io import atomic_dir, read_json, write_json

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array of its declared shape."""
    raw = Path(path).read_bytes()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file; re-run the download stage")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{path}: IDX header says {shape} but holds {body.size} bytes; the file is truncated")
    return body.reshape(shape)


def safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, refusing absolute paths, `..`, links and devices (no path traversal)."""
    members = tar.getmembers()
    for m in members:
        p = PurePosixPath(m.name)
        if p.is_absolute() or ".." in p.parts or not (m.isfile() or m.isdir()):
            raise DataError(f"{tar.name}: unsafe archive member {m.name!r} (absolute path, '..', link or device); "
                            "refusing to read this archive: replace it with a good copy")
    return members


def _tar_files(path: Path):
    """Yield (posix path, bytes) for each regular file of a verified archive, after a safety check."""
    with tarfile.open(path, "r:*") as tar:
        for m in safe_members(tar):
            if m.isfile():
                yield m.name, tar.extractfile(m).read()


def decode_idx(raw: Path) -> dict[str, np.ndarray]:
    return {
        "x_train": read_idx(raw / "train-images-idx3-ubyte.gz"), "y_train": read_idx(raw / "train-labels-idx1-ubyte.gz"),
        "x_test": read_idx(raw / "t10k-images-idx3-ubyte.gz"), "y_test": read_idx(raw / "t10k-labels-idx1-ubyte.gz"),
    }


def decode_cifar_pickle(raw: Path) -> dict[str, np.ndarray]:
    """The canonical python batches; they are unpickled only after the archive passed its md5 check."""
    batches = {}
    for name, data in _tar_files(raw / "cifar-10-python.tar.gz"):
        base = PurePosixPath(name).name
        if base.startswith("data_batch_") or base == "test_batch":
            d = pickle.loads(data, encoding="bytes")
            batches[base] = (np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32),
                             np.asarray(d[b"labels"], dtype=np.uint8))
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    return {"x_train": np.concatenate([x for x, _ in train]), "y_train": np.concatenate([y for _, y in train]),
            "x_test": batches["test_batch"][0], "y_test": batches["test_batch"][1]}


def decode_cifar_jpeg(raw: Path) -> dict[str, np.ndarray]:
    """The image-folder copy: <split>/<class>/NNNN.jpg, ordered by class then by index within class."""
    from PIL import Image

    found: dict[str, list] = {"train": [], "test": []}
    for name, data in _tar_files(raw / "cifar-10-images-jpeg.tar.gz"):
        parts = PurePosixPath(name).parts
        if len(parts) >= 3 and parts[-3] in found and parts[-2] in CIFAR_CLASSES and name.endswith(".jpg"):
            img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)
            if img.shape != (32, 32, 3):
                raise DataError(f"{name}: image of shape {img.shape}, expected 32x32 RGB")
            found[parts[-3]].append((CIFAR_CLASSES.index(parts[-2]), int(Path(parts[-1]).stem), img))
    out = {}
    for split, items in found.items():
        if not items:
            raise DataError(f"{raw}: no {split} images found in the CIFAR-10 image folder archive")
        items.sort(key=lambda t: (t[0], t[1]))
        out[f"x_{split}"] = np.stack([im for _, _, im in items]).transpose(0, 3, 1, 2).copy()
        out[f"y_{split}"] = np.array([c for c, _, _ in items], dtype=np.uint8)
    return out


TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (HTML line breaks removed); '!' and '?' kept as sentiment cues."""
    return TOKEN.findall(text.replace("<br />", " ").lower())


def decode_imdb(raw: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Labelled reviews as (label, rating, tokens) by split, ordered by label then review id."""
    pattern = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
    archive = next(p for p in raw.iterdir() if p.name.endswith(".tar.gz"))
    found: dict[str, list] = {"train": [], "test": []}
    for name, data in _tar_files(archive):
        m = pattern.search(name)
        if m:
            split, label, rid, rating = m.groups()
            found[split].append((int(label == "pos"), int(rid), int(rating), " ".join(tokenize(data.decode("utf-8")))))
    for split, rows in found.items():
        if not rows:
            raise DataError(f"{archive}: no labelled {split} reviews found")
        rows.sort(key=lambda r: (r[0], r[1]))
    return {split: [(label, rating, text) for label, _, rating, text in rows] for split, rows in found.items()}


def decode_text(raw: Path) -> tuple[np.ndarray, list[str]]:
    """A character corpus as uint8 token ids over its sorted character vocabulary."""
    text = (raw / "input.txt").read_text(encoding="utf-8")
    vocab = sorted(set(text))
    if len(vocab) > 256:
        raise DataError(f"{raw / 'input.txt'}: {len(vocab)} distinct characters; at most 256 fit uint8 tokens")
    lookup = {c: i for i, c in enumerate(vocab)}
    return np.array([lookup[c] for c in text], dtype=np.uint8), vocab


def prepare(name: str, raw: Path, dest: Path) -> dict:
    """The prepare stage's job: decode `raw` into `dest` (replaced whole on success); returns a summary."""
    info = read_json(raw / "provenance.json")
    fmt = next(s.format for s in DATASETS[name].sources if s.kind == info["source"])
    stats: dict = {}
    with atomic_dir(dest) as tmp:
        if fmt in ("idx", "cifar_pickle", "cifar_jpeg"):
            arrays = {"idx": decode_idx, "cifar_pickle": decode_cifar_pickle, "cifar_jpeg": decode_cifar_jpeg}[fmt](raw)
            for key, arr in arrays.items():
                np.save(tmp / f"{key}.npy", np.ascontiguousarray(arr), allow_pickle=False)
            stats = {f"n_{s}": int(len(arrays[f"y_{s}"])) for s in ("train", "test")}
            stats["image_shape"] = list(arrays["x_train"].shape[1:])
            stats["n_classes"] = int(arrays["y_train"].max()) + 1
        elif fmt == "imdb_tar":
            for split, rows in decode_imdb(raw).items():
                (tmp / f"{split}.tsv").write_text("".join(f"{label}\t{rating}\t{text}\n" for label, rating, text in rows))
                stats[f"n_{split}"] = len(rows)
                stats[f"positive_fraction_{split}"] = sum(r[0] for r in rows) / len(rows)
        elif fmt == "text":
            tokens, vocab = decode_text(raw)
            np.save(tmp / "tokens.npy", tokens, allow_pickle=False)
            (tmp / "vocab.json").write_text(json.dumps(vocab))
            stats = {"n_chars": int(tokens.size), "vocab_size": len(vocab)}
        summary = {**info, "stats": stats}
        write_json(tmp / "summary.json", {**what_it_is(info), "stats": stats})
    return summary


def what_it_is(info: dict) -> dict:
    """A dataset's provenance without where its bytes were fetched from (a mirror's path, a URL, how they were
    verified): the prepared arrays, and so every train stage, must not change when the same bytes come from
    elsewhere."""
    files = [{k: v for k, v in f.items() if k not in ("from", "verified_by")} for f in info["files"]]
    return {k: v for k, v in info.items() if k != "origin"} | {"files": files}
