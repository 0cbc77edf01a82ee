"""The GPU check (not a DVC stage; needs no DVC): the torch experiments at default params on a GPU, timed against
the committed CPU run, their verdicts compared with the CPU run's; records in metrics/gpu/."""

from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(experiments: Optional[List[str]] = typer.Argument(None, help="default: every torch experiment whose "
                                                                      "prepared data are here"),
         device: str = typer.Option("cuda", help="the device to check (cuda, mps, or cpu for a dry run)"),
         params_file: Path = typer.Option(Path("params.yaml"), "--params", help="params to run at"),
         out: Path = typer.Option(Path("metrics/gpu"), help="folder for one record per experiment")):
    from dlps.errors import UserError
    from dlps.tools.gpu_check import run, torch_experiments
    from dlps.params import load
    from dlps.runtime import pick_device

    try:
        params = load(params_file)
        pick_device(device)  # a missing device fails here, in one line, before any work
        run(params, list(experiments or torch_experiments()), device, out)
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)


if __name__ == "__main__":
    app()
