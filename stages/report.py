"""Stage report: build report/index.html and report/report.md from metrics and figures only."""

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main():
    with stage("report") as params:
        from dlps.report.build import build

        build(params)


if __name__ == "__main__":
    app()
