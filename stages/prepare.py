"""Stage prepare@<dataset>: decode data/raw/<dataset> once into compact arrays in data/prepared/<dataset>."""

from pathlib import Path

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(dataset: str = typer.Argument(..., help="one of params.yaml data.datasets")):
    with stage(f"prepare@{dataset}"):
        from dlps.data.decode import prepare
        from dlps.io import write_json

        summary = prepare(dataset, Path("data/raw") / dataset, Path("data/prepared") / dataset)
        write_json(Path("metrics/datasets") / f"{dataset}.json", summary)
        print(f"{dataset}: {summary['stats']}")


if __name__ == "__main__":
    app()
