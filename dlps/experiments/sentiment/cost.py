"""The sentiment experiment's cost: its training FLOPs for the roofline and its model for the bench
(neither its spec nor its training imports this module, so no train stage depends on it)."""

from __future__ import annotations

from dlps.models.flops import GATES, recurrent_forward

N_IMDB = 25_000  # IMDB's training and test splits


def train_flops(cfg: dict, runs: dict) -> float:
    """Recurrent models only, at max_len tokens per review (an upper bound: shorter reviews are not padded out)."""
    total = 0.0
    for variant, rows in runs.items():
        kind = {"bilstm": "lstm"}.get(variant, variant)
        if kind not in GATES:
            continue  # TF-IDF + logistic regression
        f = recurrent_forward(kind, cfg["hidden"], cfg["embed_dim"], cfg["max_len"]) * (2 if variant == "bilstm" else 1)
        for r in rows:
            total += (r["epochs_run"] * (3 * (N_IMDB - cfg["n_val"]) + cfg["n_val"]) + N_IMDB) * f
    return total


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    one = cfg["threads"] or threads
    return [(f"{kind.upper()} embed {cfg['embed_dim']}, hidden {cfg['hidden']}, length {cfg['max_len']}, batch "
             f"{cfg['batch_size']} (sentiment)", cfg["precision"], one, "text_classifier",
             (kind, cfg["vocab_size"], cfg["embed_dim"], cfg["hidden"], cfg["max_len"], cfg["batch_size"],
              cfg["precision"] == "bf16"))
            for kind in ("lstm", "gru")]
