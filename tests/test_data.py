"""Dataset fetching, verification and decoding on tiny files in the real formats."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from tinydata import (
    SHAKESPEARE,
    cifar_jpeg_tar,
    cifar_pickle_tar,
    idx_bytes,
    imdb_tar,
    make_mirror,
    tar_bytes,
    write_sha256sums,
)

from dlps.data import decode, fetch
from dlps.data.fetch import DataError
from dlps.data.sources import RemoteFile, Source


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} \
        if folder.exists() else {}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return make_mirror(tmp_path_factory.mktemp("mirror"))


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "imdb", "tinyshakespeare"])
def test_fetch_and_prepare_from_mirror(mirror, tmp_path, name):
    raw, prepared = tmp_path / "raw" / name, tmp_path / "prepared" / name
    fetched = fetch.fetch(name, raw, mirror, retries=0)
    summary = decode.prepare(name, raw, prepared)
    prov = json.loads((raw / "provenance.json").read_text())
    assert prov["origin"] == "mirror" and prov["canonical"] is False  # tiny files are never the published bytes
    assert all(f["verified_by"] == "mirror SHA256SUMS" for f in prov["files"])
    assert fetched.source.kind == {"cifar10": "jpeg-q75-image-folder", "imdb": "labelled-subset"}.get(name, "canonical")
    assert summary["stats"] and not list(tmp_path.rglob("*.part"))


def test_idx_roundtrip(tmp_path):
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    (tmp_path / "a.gz").write_bytes(idx_bytes(x))
    assert np.array_equal(decode.read_idx(tmp_path / "a.gz"), x)


def test_idx_truncated_is_clear_error(tmp_path):
    import gzip

    data = gzip.decompress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    (tmp_path / "t.gz").write_bytes(gzip.compress(data[:-10]))
    with pytest.raises(DataError, match="truncated"):
        decode.read_idx(tmp_path / "t.gz")


def test_cifar_pickle_and_jpeg_readers(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(cifar_pickle_tar(4, 0))
    arrays = decode.decode_cifar_pickle(tmp_path)
    assert arrays["x_train"].shape == (20, 3, 32, 32) and arrays["x_test"].shape == (4, 3, 32, 32)
    assert arrays["x_train"].dtype == np.uint8 and arrays["y_train"].max() <= 9
    (tmp_path / "cifar-10-images-jpeg.tar.gz").write_bytes(cifar_jpeg_tar(2, 0))
    arrays = decode.decode_cifar_jpeg(tmp_path)
    assert arrays["x_train"].shape == (20, 3, 32, 32) and list(arrays["y_train"]) == sorted(list(range(10)) * 2)
    # class c was drawn at grey level 20c + U[0,30): the decoded JPEG keeps it to within compression error
    assert abs(float(arrays["x_train"][arrays["y_train"] == 9].mean()) - (180 + 14.5)) < 6


def test_imdb_reader_skips_unlabelled_and_cleans_text(tmp_path):
    (tmp_path / "aclImdb_v1.tar.gz").write_bytes(imdb_tar(3, 0, unsup=True))
    splits = decode.decode_imdb(tmp_path)
    assert len(splits["train"]) == 6 and len(splits["test"]) == 6
    assert {r[0] for r in splits["train"]} == {0, 1}
    assert all("br" not in r[2].split() and "!" in r[2] for r in splits["train"])


def test_text_reader(tmp_path):
    (tmp_path / "input.txt").write_text(SHAKESPEARE)
    tokens, vocab = decode.decode_text(tmp_path)
    assert "".join(vocab[t] for t in tokens) == SHAKESPEARE and tokens.dtype == np.uint8


def test_path_traversal_member_is_refused(tmp_path):
    for evil in ("../evil.txt", "/etc/evil", "aclImdb/../../evil"):
        (tmp_path / "aclImdb_v1.tar.gz").write_bytes(tar_bytes({evil: b"x"}))
        with pytest.raises(DataError, match="unsafe archive member"):
            decode.decode_imdb(tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        link = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (tmp_path / "aclImdb_v1.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(DataError, match="unsafe archive member"):
        decode.decode_imdb(tmp_path)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_corrupt_mirror_file_leaves_raw_untouched(mirror, tmp_path):
    bad = tmp_path / "mirror"
    make_mirror(bad)
    raw = tmp_path / "raw" / "mnist"
    fetch.fetch("mnist", raw, bad, retries=0)
    before = snapshot(raw)
    target = bad / "mnist" / "train-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-5])  # corrupt after SHA256SUMS was written
    with pytest.raises(DataError, match="checksum mismatch.*SHA256SUMS"):
        fetch.fetch("mnist", raw, bad, retries=0)
    assert snapshot(raw) == before


def test_mirror_file_unlisted_and_not_published_is_refused(tmp_path):
    bad = make_mirror(tmp_path / "m")
    (bad / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="published checksum and not listed"):
        fetch.fetch("tinyshakespeare", tmp_path / "raw", bad, retries=0)
    assert not (tmp_path / "raw").exists()


def test_missing_mirror_folder_names_the_setting(tmp_path):
    with pytest.raises(DataError, match="data.mirror"):
        fetch.fetch("mnist", tmp_path / "raw", tmp_path / "nowhere", retries=0)


class _Server:
    """Serve bytes on loopback; `truncate` makes the server close early while promising more."""

    def __init__(self, body: bytes, truncate: bool = False):
        body_ = body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body_) + (100 if truncate else 0)))
                self.end_headers()
                self.wfile.write(body_)

            def log_message(self, *a):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/input.txt"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _source(url: str, sha256: str) -> tuple[Source, ...]:
    return (Source("canonical", "test", (RemoteFile("input.txt", url, sha256=sha256),), "text"),)


def test_download_verifies_and_moves_into_place(tmp_path):
    body = SHAKESPEARE.encode()
    server = _Server(body)
    try:
        raw = tmp_path / "raw"
        raw.mkdir()
        (tmp_path / ".raw.part").mkdir()  # stale temporary folder from an earlier crash
        (tmp_path / ".raw.part" / "input.txt.part").write_bytes(b"stale half-written bytes")
        got = fetch.fetch("tinyshakespeare", raw, None, retries=0,
                          sources=_source(server.url, hashlib.sha256(body).hexdigest()))
        assert got.canonical and (raw / "input.txt").read_bytes() == body
        assert not (tmp_path / ".raw.part").exists()
    finally:
        server.close()


@pytest.mark.parametrize("truncate", [False, True])
def test_bad_download_leaves_nothing(tmp_path, truncate):
    body = SHAKESPEARE.encode()
    server = _Server(body if truncate else body[:-1], truncate=truncate)
    try:
        with pytest.raises(DataError, match="checksum mismatch|could not fetch"):
            fetch.fetch("tinyshakespeare", tmp_path / "raw", None, retries=1, timeout=5,
                        sources=_source(server.url, hashlib.sha256(body).hexdigest()))
        assert list(tmp_path.iterdir()) == []
    finally:
        server.close()


def test_unreachable_source_without_mirror_says_how_to_use_one(tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match="DLPS_MIRROR") as e:
        fetch.fetch("tinyshakespeare", tmp_path / "raw", None, retries=0, timeout=2,
                    sources=_source(f"http://127.0.0.1:{port}/input.txt", "0" * 64))
    assert "\n" not in str(e.value) and not (tmp_path / "raw").exists()


def test_mirror_env_overrides_params(monkeypatch, tmp_path):
    monkeypatch.setenv("DLPS_MIRROR", str(tmp_path))
    assert fetch.resolve_mirror("/elsewhere") == tmp_path
    monkeypatch.delenv("DLPS_MIRROR")
    assert fetch.resolve_mirror("") is None


def test_sha256sums_parser(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    write_sha256sums(tmp_path)
    assert fetch.read_sha256sums(tmp_path) == {"a": hashlib.sha256(b"abc").hexdigest()}


def test_image_split_is_disjoint_paired_by_seed_and_varies_across_seeds(tmp_path):
    from dlps.data import images
    from dlps.errors import UserError

    with pytest.raises(UserError, match="dvc repro prepare@mnist"):
        images.load(tmp_path, "mnist")
    x = np.arange(150, dtype=np.uint8)[:, None].repeat(4, 1)
    arrays = {"x_train": x, "y_train": x[:, 0] % 10, "x_test": x[:50], "y_test": x[:50, 0] % 10}
    cfg = {"n_train": 60, "n_val": 40}
    a, b, c = (images.split(arrays, cfg, s, "dropout") for s in (0, 0, 1))
    assert len(a["x_train"]) == 60 and len(a["x_val"]) == 40 and len(a["x_test"]) == 50
    assert all(np.array_equal(a[k], b[k]) for k in a) and not np.array_equal(a["x_train"], c["x_train"])
    assert not set(a["x_train"][:, 0]) & set(a["x_val"][:, 0])
    with pytest.raises(UserError, match="lower dropout.n_train"):
        images.split(arrays, cfg | {"n_train": 120}, 0, "dropout")
    t = images.to_tensors(a)
    assert t["y_train"].dtype.is_floating_point is False and str(t["y_train"].dtype) == "torch.int64"
    assert str(t["x_train"].dtype) == "torch.uint8"


def test_cifar_pickle_failing_its_checksum_is_never_unpickled(tmp_path, monkeypatch):
    import pickle

    mirror = make_mirror(tmp_path / "m", cifar="pickle")
    archive = mirror / "cifar-10" / "cifar-10-python.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF  # tampered after SHA256SUMS was written
    archive.write_bytes(bytes(data))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("an unverified pickle was loaded"))
    raw = tmp_path / "raw" / "cifar10"
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch.fetch("cifar10", raw, mirror, retries=0)
    assert not raw.exists()


def test_prepared_data_do_not_depend_on_where_the_mirror_lies(tmp_path):
    """The same bytes from two mirror locations give byte-identical prepared folders (so a clone that points
    DLPS_MIRROR elsewhere re-trains nothing), while the provenance still says the copy came from a mirror."""
    import shutil

    from tinydata import make_mirror

    from dlps.data.decode import prepare
    from dlps.data.fetch import download

    first = make_mirror(tmp_path / "a" / "mirror")
    second = tmp_path / "b" / "elsewhere"
    shutil.copytree(first, second)
    prepared = []
    for k, mirror in enumerate((first, second)):
        raw, dest = tmp_path / f"raw{k}", tmp_path / f"prepared{k}"
        info = download("mnist", raw, str(mirror), retries=0, timeout=1.0)
        assert info["origin"] == "mirror" and info["files"][0]["from"].startswith("mirror:mnist/")
        prepare("mnist", raw, dest)
        prepared.append({p.name: p.read_bytes() for p in sorted(dest.iterdir())})
    assert prepared[0] == prepared[1]
