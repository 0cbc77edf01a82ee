"""Stage evaluate_<experiment>: aggregate the runs params lists into metrics/<experiment>.json."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str):
    with stage(f"evaluate_{experiment}") as params:
        from dlps.jobs.evaluate import evaluate

        evaluate(params, experiment)


if __name__ == "__main__":
    app()
