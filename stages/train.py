"""Stage train_<experiment>[@<variant>]: train one variant, or every variant, over all its seeds."""

from typing import Optional

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str, variant: Optional[str] = typer.Argument(None, help="default: every variant in params")):
    with stage(f"train_{experiment}" + (f"@{variant}" if variant else "")) as params:
        from dlps.jobs.train import train

        train(params, experiment, variant)


if __name__ == "__main__":
    app()
