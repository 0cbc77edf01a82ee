"""Stage plots_<experiment>: render the experiment's figures into plots/<experiment>/."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(experiment: str):
    with stage(f"plots_{experiment}") as params:
        from dlps.jobs.plot import plot

        plot(params, experiment)


if __name__ == "__main__":
    app()
