"""Stage evaluate@<experiment>: aggregate the runs params lists into metrics/<experiment>.json."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str):
    with stage(f"evaluate@{experiment}") as params:
        from dlps.pipeline import evaluate

        evaluate(params, experiment)


if __name__ == "__main__":
    app()
