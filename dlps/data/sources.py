"""Where each dataset comes from: canonical URLs with published checksums, and known mirror copies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One file of a release: its name, where it lives and its published checksum."""

    name: str
    url: str | None
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Source:
    """One complete set of files that a dataset can be decoded from."""

    kind: str  # "canonical" or the id of a documented non-canonical copy
    description: str
    files: tuple[RemoteFile, ...]
    format: str  # which decoder reads it


@dataclass(frozen=True)
class Dataset:
    """A dataset: its mirror folder name and its sources in order of preference."""

    name: str
    mirror_dir: str
    sources: tuple[Source, ...]


def _idx_release(base: str, md5s: dict[str, str]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, base + name, md5=md5) for name, md5 in md5s.items())


MNIST = Dataset("mnist", "mnist", (
    Source("canonical", "MNIST, IDX files as published (checksums as torchvision verifies them)", _idx_release(
        "https://ossci-datasets.s3.amazonaws.com/mnist/", {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        }), "idx"),
))

FASHION_MNIST = Dataset("fashion_mnist", "fashion-mnist", (
    Source("canonical", "Fashion-MNIST, IDX files as published by Zalando Research", _idx_release(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        }), "idx"),
))

CIFAR10 = Dataset("cifar10", "cifar-10", (
    Source("canonical", "CIFAR-10 python version (pickled batches) from the University of Toronto",
           (RemoteFile("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                       md5="c58f30108f718f92721af3b95e74349a"),), "cifar_pickle"),
    Source("jpeg-q75-image-folder",
           "NOT canonical: all 60,000 CIFAR-10 images re-encoded as JPEG (quality 75) in an image-folder tree; "
           "mean absolute pixel error about 5-6 grey levels, so results are close to but not the same as on "
           "the canonical data",
           (RemoteFile("cifar-10-images-jpeg.tar.gz", None,
                       sha256="6b13f04019868994b79923bb5e8c79d8745d20242f7bca820223077babb3b0bb"),), "cifar_jpeg"),
))

IMDB = Dataset("imdb", "imdb", (
    Source("canonical", "Large Movie Review Dataset v1.0 (Maas et al., 2011) from Stanford",
           (RemoteFile("aclImdb_v1.tar.gz", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                       md5="7c2ac02c03563afcf9b574c7e56c153a"),), "imdb_tar"),
    Source("labelled-subset",
           "NOT the canonical archive: the 50,000 labelled reviews of aclImdb v1.0 with the original "
           "train/test split, without train/unsup and the *.feat files (which this study does not use)",
           (RemoteFile("aclImdb-labelled.tar.gz", None,
                       sha256="f36ec176e3e39d904adf557e938cc5f7709dc0d2ad2053ff062966d30d98459e"),), "imdb_tar"),
))

TINYSHAKESPEARE = Dataset("tinyshakespeare", "tinyshakespeare", (
    Source("canonical", "tiny-shakespeare from karpathy/char-rnn",
           (RemoteFile("input.txt",
                       "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                       sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),), "text"),
))

DATASETS: dict[str, Dataset] = {d.name: d for d in (MNIST, FASHION_MNIST, CIFAR10, IMDB, TINYSHAKESPEARE)}
