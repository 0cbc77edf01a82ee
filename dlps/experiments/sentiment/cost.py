"""The sentiment experiment's cost: its training FLOPs for the roofline, its jobs' relative times for the workers'
order, and its model for the bench (neither its spec nor its training imports this module, so no train stage
depends on it: none of them changes a result)."""

from __future__ import annotations

from dlps.models.flops import GATES, recurrent_forward


def _recurrent(variant: str) -> tuple[str, int] | None:
    """A recurrent model's cell kind and number of directions; None for a TF-IDF baseline."""
    kind = {"bilstm": "lstm"}.get(variant, variant)
    return (kind, 2 if variant == "bilstm" else 1) if kind in GATES else None


def job_cost(cfg: dict, variant: str) -> float:
    """A (variant, seed) job's expected relative time, for the workers' order: a recurrent model's gate matmuls
    per token (both directions for the BiLSTM) against about one for a TF-IDF fit."""
    rnn = _recurrent(variant)
    return 1.0 if rnn is None else float(GATES[rnn[0]] * rnn[1])


def train_flops(cfg: dict, runs: dict) -> float:
    """Recurrent models only, over the token positions each run recorded (its batches padded to their longest
    review): 3 × the forward pass in training, 1 × in the validation and test passes."""
    from dlps.errors import UserError

    total = 0.0
    for variant, rows in runs.items():
        rnn = _recurrent(variant)
        if rnn is None:
            continue  # TF-IDF + logistic regression
        per_token = recurrent_forward(rnn[0], cfg["hidden"], cfg["embed_dim"], 1) * rnn[1]
        for r in rows:
            if "train_tokens" not in r:
                raise UserError(f"metrics/runs/sentiment/{variant}.json: seed {r['seed']} has no train_tokens (a run "
                                "from before they were recorded); run `dvc repro train_sentiment`")
            total += (3 * r["train_tokens"] + r["eval_tokens"]) * per_token
    return total


def bench_workloads(cfg: dict, threads: int) -> list[tuple]:
    one = cfg["threads"] or threads
    return [(f"{kind.upper()} embed {cfg['embed_dim']}, hidden {cfg['hidden']}, length {cfg['max_len']}, batch "
             f"{cfg['batch_size']} (sentiment)", cfg["precision"], one, "text_classifier",
             (kind, cfg["vocab_size"], cfg["embed_dim"], cfg["hidden"], cfg["max_len"], cfg["batch_size"],
              cfg["precision"] == "bf16", len(cfg["seeds"])))
            for kind in ("lstm", "gru")]
