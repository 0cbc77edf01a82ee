"""Stage plots@<experiment>: render the experiment's figures into plots/<experiment>/."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str):
    with stage(f"plots@{experiment}") as params:
        from dlps.pipeline import plot

        plot(params, experiment)


if __name__ == "__main__":
    app()
