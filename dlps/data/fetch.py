"""Fetch a dataset's files from a mirror folder or its canonical URLs, verified before they land."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dlps.data.sources import DATASETS, Dataset, RemoteFile, Source
from dlps.errors import UserError
from dlps.io import atomic_dir, write_json

MIRROR_ENV = "DLPS_MIRROR"
CHUNK = 1 << 20


class DataError(UserError):
    """A dataset could not be fetched or verified; the message says what to do."""


@dataclass
class Fetched:
    """Which source served a dataset and how each file was verified."""

    source: Source
    origin: str  # "mirror" or "download"
    files: list[dict]

    @property
    def canonical(self) -> bool:
        return self.source.kind == "canonical" and all(f["matches_published_checksum"] for f in self.files)


def file_digests(path: Path) -> dict[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def matches_published(spec: RemoteFile, digests: dict[str, str]) -> bool:
    """True when the file equals the published release byte for byte."""
    return (spec.md5 or spec.sha256) is not None and \
        (spec.md5 is None or digests["md5"] == spec.md5) and (spec.sha256 is None or digests["sha256"] == spec.sha256)


def resolve_mirror(setting: str) -> Path | None:
    """The mirror folder in force: $DLPS_MIRROR overrides params' data.mirror; empty means none."""
    value = os.environ.get(MIRROR_ENV, setting) or ""
    return Path(value).expanduser() if value else None


def read_sha256sums(folder: Path) -> dict[str, str]:
    """A mirror's SHA256SUMS as {relative path: sha256}; empty if the mirror has none."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return {}
    out = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.lstrip("*").strip()] = digest.lower()
    return out


def fetch(name: str, dest: Path, mirror: Path | None, *, retries: int = 3, timeout: float = 60.0,
          sources: tuple[Source, ...] | None = None) -> Fetched:
    """Fill `dest` (replaced whole, only on success) with a verified copy of dataset `name`.

    The mirror is tried first (every source it holds completely, canonical first); then each
    source that has URLs. `sources` overrides the registry (tests point it at loopback).
    """
    dataset: Dataset = DATASETS[name]
    sources = sources or dataset.sources
    errors: list[str] = []
    with atomic_dir(dest) as tmp:
        if mirror is not None:
            if not mirror.is_dir():
                raise DataError(f"{name}: mirror folder {mirror} does not exist; fix data.mirror in params.yaml "
                                f"or ${MIRROR_ENV}, or set it empty to download from the canonical source")
            for source in sources:
                folder = mirror / dataset.mirror_dir
                if all((folder / f.name).is_file() for f in source.files):
                    files = [_copy_verified(f, folder, mirror, tmp) for f in source.files]
                    return _finish(name, tmp, Fetched(source, "mirror", files))
            errors.append(f"mirror {mirror} has no complete copy in {mirror / dataset.mirror_dir} "
                          f"(expected {' or '.join(', '.join(f.name for f in s.files) for s in sources)})")
        for source in (s for s in sources if all(f.url for f in s.files)):
            try:
                files = [_download_verified(f, tmp, retries, timeout) for f in source.files]
                return _finish(name, tmp, Fetched(source, "download", files))
            except urllib.error.URLError as e:
                errors.append(f"{source.files[0].url}: {getattr(e, 'reason', e)}")
        hint = ("point the pipeline at a local mirror folder holding the same files: set data.mirror in "
                f"params.yaml or the environment variable {MIRROR_ENV}=/path/to/mirror (see README, 'Offline mirror')")
        raise DataError(f"{name}: could not fetch it ({'; '.join(errors)}); {hint}")


def _copy_verified(spec: RemoteFile, folder: Path, mirror: Path, tmp: Path) -> dict:
    src = folder / spec.name
    rel = src.relative_to(mirror).as_posix()
    digests = file_digests(src)
    listed = read_sha256sums(mirror).get(rel)
    if listed is not None and listed != digests["sha256"]:
        raise DataError(f"{src}: checksum mismatch (sha256 {digests['sha256']}, the mirror's SHA256SUMS says "
                        f"{listed}); the mirror copy is corrupt: replace it with a good copy")
    published = matches_published(spec, digests)
    if not published and listed is None:
        raise DataError(f"{src}: checksum mismatch against the published checksum and not listed in the mirror's "
                        "SHA256SUMS; replace it with a good copy")
    shutil.copyfile(src, tmp / spec.name)
    # the path inside the mirror, not the mirror's own location: the record is the same on every machine
    return {"name": spec.name, "from": f"mirror:{rel}", **digests, "matches_published_checksum": published,
            "verified_by": "published checksum" if published else "mirror SHA256SUMS"}


def _download_verified(spec: RemoteFile, tmp: Path, retries: int, timeout: float) -> dict:
    part = tmp / (spec.name + ".part")
    for attempt in range(retries + 1):
        try:
            _download(spec.url, part, timeout)
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            if attempt == retries:
                raise urllib.error.URLError(getattr(e, "reason", e)) from e
            wait = 2 ** attempt
            print(f"download of {spec.url} failed ({e}); retrying in {wait}s", file=sys.stderr)
            time.sleep(wait)
    digests = file_digests(part)
    if not matches_published(spec, digests):
        part.unlink()
        raise DataError(f"{spec.url}: checksum mismatch (got md5 {digests['md5']}, expected "
                        f"{spec.md5 or spec.sha256}); the download is truncated or corrupt: run again, or use a mirror")
    part.rename(tmp / spec.name)
    return {"name": spec.name, "from": spec.url, **digests, "matches_published_checksum": True,
            "verified_by": "published checksum"}


def _download(url: str, part: Path, timeout: float) -> None:
    """Stream `url` to `part` (a stale file from an earlier crash is overwritten) with a progress bar."""
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=timeout) as r, open(part, "wb") as f:
        total = int(r.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=part.name, file=sys.stderr,
                  disable=not sys.stderr.isatty()) as bar:
            while chunk := r.read(CHUNK):
                f.write(chunk)
                bar.update(len(chunk))
        if total is not None and f.tell() != total:
            raise ConnectionError(f"truncated: got {f.tell()} of {total} bytes")


def provenance(name: str, fetched: Fetched) -> dict:
    """What the report shows about where a dataset's bytes came from."""
    return {
        "dataset": name,
        "canonical": fetched.canonical,
        "source": fetched.source.kind,
        "description": fetched.source.description,
        "origin": fetched.origin,
        "files": fetched.files,
    }


def _finish(name: str, tmp: Path, fetched: Fetched) -> Fetched:
    """Record provenance beside the files, inside the folder that is about to be moved into place."""
    write_json(tmp / "provenance.json", provenance(name, fetched))
    return fetched


def download(name: str, dest: Path, mirror_setting: str, retries: int, timeout: float) -> dict:
    """The download stage's job: a verified copy of `name` in `dest`, with its provenance; returns that."""
    fetch(name, dest, resolve_mirror(mirror_setting), retries=retries, timeout=timeout)
    from dlps.io import read_json

    return read_json(dest / "provenance.json")
