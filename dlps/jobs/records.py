"""Finished train jobs kept on disk as each completes, so a killed stage, run again, trains only the unfinished ones.

Where: `.dvc/tmp/dlps-jobs/<stage>/`, one file per job. Not beside the stage's outputs: DVC deletes a stage's
outputs before it runs it, which is exactly when the records are needed. `.dvc/tmp` is git-ignored by DVC's own
`.dvc/.gitignore`, never cached or pushed, and belongs to one working copy. Resume is on only for a stage run at
the root of a DVC repo whose dvc.yaml has the stage (what `dvc repro` does); `DLPS_RESUME=0` turns it off.

A record is reused only if its key equals the stage's key now: the stage's params and code deps as dvc.yaml lists
them (the file `python -m dlps.tools.dag` generates), the content of its data deps, and the machine set-up that
decides the bytes (resolved device, core count, CPU model, torch/numpy/Python versions). Each file carries a
sha256 of its payload; a stale or corrupt record is ignored with one line on stderr and its job trains again.
A stage that finishes removes its folder: its records are then either used or stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import struct
import sys
from pathlib import Path

from dlps.io import atomic_path

FOLDER = Path(".dvc/tmp/dlps-jobs")
HASHES = FOLDER / "file-hashes.json"  # content hashes of data files, valid while size, mtime and inode stay
MAGIC = "dlps-job-record 1 sha256="
TAG = "\u0000t"  # marks a value plain JSON cannot hold exactly; no real key starts with NUL


class NotKept(TypeError):
    """A result holds a value a record cannot reproduce exactly."""


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- exact JSON round trip --------------------------------------------------------------------------------------

def encode(x):
    """`x` as plain JSON values; tuples, non-str-keyed dicts, numpy scalars and arrays tagged so decode restores
    their exact types and bits."""
    t = type(x)
    if x is None or t in (bool, int, float, str):
        return x
    if t is list:
        return [encode(v) for v in x]
    if t is dict:
        if all(type(k) is str for k in x) and TAG not in x:
            return {k: encode(v) for k, v in x.items()}
        return {TAG: ["dict", [[encode(k), encode(v)] for k, v in x.items()]]}
    if t is tuple:
        return {TAG: ["tuple", [encode(v) for v in x]]}
    if t.__module__ == "numpy":
        import numpy as np

        if isinstance(x, np.ndarray) and x.dtype != object:
            return {TAG: ["ndarray", x.dtype.str, list(x.shape), x.tobytes().hex()]}
        if isinstance(x, np.generic) and x.dtype != object:
            return {TAG: ["numpy", x.dtype.str, x.tobytes().hex()]}
    raise NotKept(f"a value of type {t.__module__}.{t.__qualname__}")


def decode(x):
    """The inverse of encode."""
    if type(x) is list:
        return [decode(v) for v in x]
    if type(x) is not dict:
        return x
    if TAG not in x:
        return {k: decode(v) for k, v in x.items()}
    kind, *rest = x[TAG]
    if kind == "dict":
        return {decode(k): decode(v) for k, v in rest[0]}
    if kind == "tuple":
        return tuple(decode(v) for v in rest[0])
    import numpy as np

    if kind == "ndarray":
        dtype, shape, data = rest
        return np.frombuffer(bytes.fromhex(data), dtype=dtype).reshape(shape).copy()
    if kind == "numpy":
        dtype, data = rest
        return np.frombuffer(bytes.fromhex(data), dtype=dtype)[0]
    raise ValueError(f"unknown tag {kind!r}")


def same(a, b) -> bool:
    """Equal in type and bits all the way down (NaN equals NaN, -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a).__module__ == "numpy":
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


# --- the key ----------------------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FileHashes:
    """Content hashes of data files, cached by (size, mtime, inode) as DVC caches its own: re-hashed when one moves."""

    def __init__(self, path: Path = HASHES):
        self.path = path
        try:
            self.cache = json.loads(path.read_text())
        except (OSError, ValueError):
            self.cache = {}
        self.dirty = False

    def file(self, path: Path) -> str:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        hit = self.cache.get(path.as_posix())
        if isinstance(hit, list) and hit[:3] == stamp:
            return hit[3]
        digest = sha256_file(path)
        self.cache[path.as_posix()] = stamp + [digest]
        self.dirty = True
        return digest

    def tree(self, path: Path) -> str:
        """One hash of a folder: every file's relative name and content hash, in sorted order."""
        if path.is_file():
            return self.file(path)
        lines = [f"{p.relative_to(path).as_posix()}\0{self.file(p)}\n"
                 for p in sorted(path.rglob("*")) if p.is_file()]
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    def save(self) -> None:
        if self.dirty:
            kept = {k: v for k, v in self.cache.items() if Path(k).is_file()}
            _write(self.path, json.dumps(kept, indent=0).encode())


def machine(device_setting: str | None) -> dict:
    """What, besides params, code and data, decides a job's bytes: the same only on the same kind of machine.
    `device_setting` is params' `device` for a torch experiment, None for one without torch."""
    import numpy as np

    m = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
         "cpu": _cpu_model(), "cores": os.cpu_count()}
    if device_setting is not None:
        import torch

        from dlps.runtime import pick_device

        device = pick_device(device_setting)
        m |= {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "device": device}
        if device == "cuda":  # asked only then: the query starts CUDA in this process
            m |= {"cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0)}
    return m


def _cpu_model() -> str:
    """The CPU's model name and a digest of all its instruction-set flags (the kernels torch and BLAS pick depend
    on them): stricter than timing.cpu_kind, which names only the widest extensions."""
    from dlps.timing import cpu_info

    model, flags = cpu_info()
    return f"{model} [{hashlib.sha256(flags.encode()).hexdigest()[:12]}]"


def _lookup(params: dict, dotted: str):
    value = params
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def stage_key(params: dict, entry: dict, variant: str | None, torch_used: bool) -> dict:
    """The stage's key from its dvc.yaml entry: params values, code file hashes, data hashes, the machine."""
    keys: list[str] = []
    for p in entry.get("params", []):  # a dotted key of params.yaml, or {file: [keys]}
        keys += [p] if isinstance(p, str) else [k for ks in p.values() for k in ks]
    deps = [d.replace("${item.variant}", str(variant)) for d in entry.get("deps", [])]
    hashes = FileHashes()
    code = {d: sha256_file(Path(d)) for d in deps if Path(d).is_file()}
    data = {d: hashes.tree(Path(d)) for d in deps if Path(d).is_dir()}
    missing = [d for d in deps if not Path(d).exists()]
    hashes.save()
    return {"params": {k: _lookup(params, k) for k in keys}, "code": code, "data": data, "missing": missing,
            "variant": variant, "machine": machine(params.get("device", "auto") if torch_used else None)}


def _differs(old: dict, new: dict) -> str:
    """Which parts of two keys differ, in a few words."""
    if not isinstance(old, dict):
        return "an unknown key"
    parts = []
    for section in new:
        a, b = old.get(section), new[section]
        if isinstance(a, dict) and isinstance(b, dict):
            names = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            if names:
                parts.append(f"{section} {', '.join(names[:3])}" + (" ..." if len(names) > 3 else ""))
        elif a != b:
            parts.append(section)
    return "; ".join(parts) or "the key"


# --- the store --------------------------------------------------------------------------------------------------

def _write(path: Path, data: bytes) -> None:
    """Whole or not at all, and on disk before it counts (fsync: a power loss must not leave an empty file)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def _canonical(x) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


def label(job: dict) -> str:
    """A job in words: `0.2 seed 1000`, `rnn+lstm seeds 1000,1001`."""
    seeds = job.get("seeds", [])
    return f"{'+'.join(map(str, job.get('variants', [])))} seed{'s' if len(seeds) != 1 else ''} " \
           f"{','.join(map(str, seeds))}"


class Records:
    """One stage's job records: `load` what an interrupted run with the same key finished, `save` each job as it
    finishes, `clear` when the stage is done."""

    def __init__(self, stage: str, key: dict, root: Path = FOLDER):
        self.stage, self.folder = stage, root / stage
        self.key = json.loads(_canonical(key))  # as it reads back from a record
        self.reused = 0
        self.stale: list[str] = []  # what changed, per stale record: said in one line by report()
        self.unkept: set[str] = set()

    def _file(self, job: dict) -> Path:
        return self.folder / f"{hashlib.sha256(_canonical(job).encode()).hexdigest()[:20]}.json"

    def load(self, job: dict) -> tuple[bool, object]:
        """(True, result) if a valid record of `job` under this key exists, else (False, None)."""
        path = self._file(job)
        if not path.exists():
            return False, None
        why = None
        try:
            head, _, payload = path.read_bytes().partition(b"\n")
            head = head.decode()
            if not head.startswith(MAGIC):
                why = "not a job record"
            elif hashlib.sha256(payload).hexdigest() != head[len(MAGIC):]:
                why = "checksum mismatch: truncated or altered"
            else:
                record = json.loads(payload)
                if record.get("job") != json.loads(_canonical(job)) or record.get("key") != self.key:
                    self.stale.append(_differs(record.get("key"), self.key))
                    return False, None
                result = decode(record["result"])
                self.reused += 1
                return True, result
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            why = f"unreadable: {e}"
        _say(f"{self.stage}: the record of job {label(job)} ({path}) is corrupt ({why}): ignored, the job trains again")
        return False, None

    def save(self, job: dict, result) -> None:
        """Keep `result` of `job`; a result that would not read back exactly is not kept (said once)."""
        try:
            encoded = encode(result)
            payload = json.dumps({"job": job, "key": self.key, "result": encoded}, separators=(",", ":")).encode()
            if not same(decode(json.loads(payload)["result"]), result):
                raise NotKept("a value that does not read back exactly")
        except NotKept as e:
            if str(e) not in self.unkept:
                self.unkept.add(str(e))
                _say(f"{self.stage}: job {label(job)} returned {e}, so it is not kept for a resume "
                     "(an interrupted run trains it again)")
            return
        _write(self._file(job), f"{MAGIC}{hashlib.sha256(payload).hexdigest()}\n".encode() + payload)

    def report(self, total: int) -> None:
        """One line for the stale records, one for the reused ones."""
        if self.stale:
            whats = sorted(set(self.stale))
            _say(f"{self.stage}: {len(self.stale)} job record{'s' if len(self.stale) > 1 else ''} of an earlier run "
                 f"{'are' if len(self.stale) > 1 else 'is'} stale ({whats[0]} changed"
                 f"{'; and more' if len(whats) > 1 else ''}): ignored, those jobs train again")
        if self.reused:
            _say(f"{self.stage}: {self.reused} of {total} jobs reused from an interrupted run")

    def clear(self) -> None:
        """The stage finished: its records were used or are stale."""
        shutil.rmtree(self.folder, ignore_errors=True)


def for_stage(params: dict, name: str, variant: str | None, torch_used: bool) -> Records | None:
    """The records of train stage `train_<name>[@<variant>]`, or None where resume is off (see the module doc)."""
    if os.environ.get("DLPS_RESUME", "").lower() in ("0", "off", "false", "no"):
        return None
    if not (Path(".dvc").is_dir() and Path("dvc.yaml").is_file()):
        return None
    import yaml

    entry = (yaml.safe_load(Path("dvc.yaml").read_text()) or {}).get("stages", {}).get(f"train_{name}")
    if not isinstance(entry, dict):
        return None
    stage = f"train_{name}" + (f"@{variant}" if variant is not None and "matrix" in entry else "")
    try:
        return Records(stage, stage_key(params, entry, variant, torch_used))
    except OSError as e:  # a dep we cannot read: train everything rather than trust a record
        _say(f"{stage}: resume is off for this run ({e}); fix the file's permissions to keep finished jobs")
        return None
