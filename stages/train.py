"""Stage train_<experiment>@<variant>: train one variant over all its seeds."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str, variant: str):
    with stage(f"train_{experiment}@{variant}") as params:
        from dlps.pipeline import train

        train(params, experiment, variant)


if __name__ == "__main__":
    app()
