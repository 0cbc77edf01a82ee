"""Benchmark this machine: matmul ceilings, training throughput per model family, DVC overhead (not a stage)."""

import os
from pathlib import Path

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(threads: int = typer.Option(0, help="torch threads; 0 = one per core"),
         out: Path = typer.Option(Path("metrics/bench"), help="folder for bench.json and bench.md")):
    from dlps.bench import run, table
    from dlps.io import write_json, write_text
    from dlps.params import load

    result = run(load(), threads or os.cpu_count() or 1)
    write_json(out / "bench.json", result)
    write_text(out / "bench.md", table(result))
    typer.echo(table(result))


if __name__ == "__main__":
    app()
