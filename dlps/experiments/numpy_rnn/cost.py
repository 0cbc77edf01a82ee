"""The NumPy char-RNN experiment's cost: its training FLOPs for the roofline and its model for the bench
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

VOCAB = 65  # tinyshakespeare's characters


def train_flops(cfg: dict, runs: dict, vocab: int = VOCAB) -> float:
    """The char-RNN's recurrent and read-out matmuls (its one-hot input is a lookup)."""
    per_char = 2 * (cfg["hidden"] ** 2 + cfg["hidden"] * vocab)
    steps = cfg["steps"] + cfg["torch_steps"]
    return sum(len(rows) for rows in runs.values()) * 3 * steps * cfg["batch"] * cfg["seq_len"] * per_char


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    return [(f"NumPy char-RNN vocab {VOCAB}, hidden {cfg['hidden']}, length {cfg['seq_len']}, batch {cfg['batch']} "
             "(numpy_rnn)", "fp32", cfg["threads"] or threads, "numpy_char_rnn", (VOCAB, cfg["hidden"], cfg["seq_len"],
                                                                             cfg["batch"]))]
