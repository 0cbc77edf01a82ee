"""Reading the prepared IMDB files (data/prepared/imdb/{train,test}.tsv: label, rating, lower-cased tokens)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlps.errors import UserError


def load_imdb(folder: Path) -> dict[str, dict]:
    """The prepared IMDB splits: {"train"|"test": {"y": int64 labels (1 = positive), "text": token strings}}."""
    out = {}
    for split in ("train", "test"):
        path = Path(folder) / "imdb" / f"{split}.tsv"
        if not path.is_file():
            raise UserError(f"{path}: missing; run `dvc repro prepare@imdb`")
        labels, texts = [], []
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3 or parts[0] not in ("0", "1"):
                    raise UserError(f"{path}:{n}: expected `label<TAB>rating<TAB>tokens`; "
                                    "run `dvc repro prepare@imdb` to rebuild it")
                labels.append(int(parts[0]))
                texts.append(parts[2])
        out[split] = {"y": np.asarray(labels, dtype=np.int64), "text": texts}
    return out
