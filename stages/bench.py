"""Benchmark this machine: matmul ceilings, training throughput per model family, DVC overhead (not a stage)."""

import os
from pathlib import Path

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(threads: int = typer.Option(0, help="torch threads; 0 = one per core"),
         out: Path = typer.Option(Path("metrics/bench"), help="folder for bench.json and bench.md"),
         precision: bool = typer.Option(True, help="also train the l2 CNN in fp32 and bf16 and compare (~2 min)")):
    from dlps.tools.bench import run, table
    from dlps.errors import UserError
    from dlps.io import write_json, write_text
    from dlps.params import load

    try:
        result = run(load(), threads or os.cpu_count() or 1, precision)
    except UserError as e:
        raise SystemExit(f"error: {e}") from None
    write_json(out / "bench.json", result)
    write_text(out / "bench.md", table(result))
    typer.echo(table(result))


if __name__ == "__main__":
    app()
