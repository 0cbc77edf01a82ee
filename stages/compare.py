"""Render a side-by-side page of two DVC revisions or experiments (not a pipeline stage; run it by hand)."""

from pathlib import Path

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(a: str = typer.Argument("HEAD", help="baseline: a git revision or a `dvc exp` name"),
         b: str = typer.Argument("workspace", help="the other side (default: the workspace)"),
         out: Path = typer.Option(Path("compare.html"), help="HTML file to write (a .md beside it too)")):
    from dlps.report.compare import compare
    from dlps.errors import UserError
    from dlps.io import write_text

    try:
        doc = compare(a, b)
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    write_text(out, doc.render_html(f"dlps: {a} vs {b}"))
    write_text(out.with_suffix(".md"), doc.render_md())
    typer.echo(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    app()
