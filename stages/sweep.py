"""Run a parameter grid as DVC experiments, one submitit job per point, locally or on SLURM (not a pipeline stage)."""

from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(grid: List[str] = typer.Option(..., "-S", "--set-param", help="KEY=V1,V2 as `dvc exp run -S` takes it; "
                                        "repeat for more axes (their cartesian product runs)"),
         targets: Optional[List[str]] = typer.Argument(None, help="stages to run, e.g. evaluate_overfitting "
                                                                  "(default: the whole pipeline)"),
         executor: str = typer.Option("local", help="local (this machine) or slurm"),
         partition: Optional[str] = typer.Option(None, help="SLURM partition (default: the cluster's)"),
         gpus: int = typer.Option(0, help="GPUs per job"),
         time_min: int = typer.Option(60, help="time limit per job, minutes"),
         cpus: int = typer.Option(2, help="CPUs per job"),
         git_remote: str = typer.Option("origin", help="git remote the jobs clone from and push experiments to"),
         dvc_remote: Optional[str] = typer.Option(None, help="DVC remote for the experiments' data "
                                                             "(default: the project's default remote)"),
         share_cache: bool = typer.Option(True, help="jobs use this repo's DVC cache (the nodes must share its "
                                                     "filesystem); --no-share-cache pulls from the DVC remote"),
         workdir: Optional[Path] = typer.Option(None, help="where the jobs' clones and logs go "
                                                           "(default: .dvc/tmp/sweep; the nodes must reach it)"),
         wait: bool = typer.Option(True, help="wait for the jobs and print the table (--no-wait: submit and return)")):
    from dlps.errors import UserError
    from dlps.tools.sweep import summary, sweep

    try:
        outcomes = sweep(grid, executor=executor, partition=partition, gpus=gpus, time_min=time_min, cpus=cpus,
                         git_remote=git_remote, dvc_remote=dvc_remote, targets=targets or (), share_cache=share_cache,
                         workdir=workdir, wait=wait, echo=typer.echo)
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    typer.echo(summary(outcomes, git_remote))
    if any(o.state not in ("COMPLETED", "SKIPPED", "SUBMITTED") for o in outcomes):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
