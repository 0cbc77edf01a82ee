"""Stage download@<dataset>: fetch and verify one dataset into data/raw/<dataset>/."""

from pathlib import Path

import typer

from dlps.cli import stage

app = typer.Typer(add_completion=False)


@app.command()
def main(dataset: str = typer.Argument(..., help="one of params.yaml data.datasets")):
    with stage(f"download@{dataset}") as params:
        from dlps.data.fetch import download
        from dlps.params import ParamError

        if dataset not in params["data"]["datasets"]:
            raise ParamError(f"dataset: got {dataset!r}; allowed: one of {', '.join(params['data']['datasets'])}")
        data = params["data"]
        info = download(dataset, Path("data/raw") / dataset, data["mirror"], data["retries"], data["timeout_s"])
        print(f"{dataset}: {info['source']} copy from {info['origin']}, {len(info['files'])} file(s) verified")


if __name__ == "__main__":
    app()
