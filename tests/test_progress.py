"""dlps.progress: one line per job off a terminal, a live bar with ETA on one, silence on request, never stdout."""

import io
import re

from rich.console import Console

from dlps import progress


def run_job(console=None, epochs=3):
    """A job (job 2 of 5) whose training reports each epoch from a nested task, as fit() does."""
    with progress.task("dropout 0.2", total=1, unit="seed", job=(2, 5), console=console) as job:
        with progress.task("dropout p=0.2 seed 3", total=epochs, unit="epoch") as bar:
            for epoch in range(epochs):
                bar.update(1, loss=0.5 / (epoch + 1))
        job.update(1)


def test_lines_one_per_job_on_stderr(capsys, monkeypatch):
    monkeypatch.delenv("DLPS_PROGRESS", raising=False)
    run_job()  # stderr is captured, not a terminal
    run_job(epochs=2)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[2/5\] dropout p=0\.2 seed 3: 3/3 epoch, loss 0\.1667, \d+\.\ds", lines[0])
    assert lines[1].startswith("[2/5] dropout p=0.2 seed 3: 2/2 epoch, loss 0.25, ")


def test_a_job_without_nested_tasks_prints_its_own_line(capsys):
    with progress.task("overfitting degree", total=4, unit="seed", job=(1, 1)) as job:
        job.update(4)
    assert re.fullmatch(r"\[1/1\] overfitting degree: 4/4 seed, \d+\.\ds\n", capsys.readouterr().err)


def test_silenced(capsys, monkeypatch):
    monkeypatch.setenv("DLPS_PROGRESS", "0")
    run_job()
    buf = io.StringIO()
    run_job(Console(force_terminal=True, file=buf))
    assert capsys.readouterr() == ("", "") and buf.getvalue() == ""


def test_terminal_shows_a_bar_with_eta(monkeypatch):
    monkeypatch.delenv("DLPS_PROGRESS", raising=False)
    buf = io.StringIO()
    console = Console(force_terminal=True, file=buf, width=150)
    with progress.task("l2 lambda=0.001 seed 0", total=4, unit="epoch", job=(1, 3), console=console) as bar:
        bar.update(1, loss=0.7)
        progress._live.refresh()  # the display refreshes on a timer; draw now
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    assert "━" in text and "1/4" in text and "loss 0.7" in text
    assert re.search(r"eta \d+:\d\d", text)
    assert re.search(r"\[1/3\] l2 lambda=0\.001 seed 0: 1/4 epoch, loss 0\.7, \d+\.\ds\n", text)  # the line stays
    assert progress._live is None  # the display is gone with the last task


def test_workers_print_lines_even_on_a_terminal(monkeypatch):
    monkeypatch.delenv("DLPS_PROGRESS", raising=False)
    terminal = Console(force_terminal=True, file=io.StringIO())
    assert progress.mode(terminal) == "bar"
    monkeypatch.setattr(progress.multiprocessing, "parent_process", lambda: object())
    assert progress.mode(terminal) == "lines"


def test_eta_from_the_mean_rate():
    assert progress.eta(10.0, 2, 10) == 40.0
    assert progress.eta(10.0, 0, 10) is None and progress.eta(10.0, 2, None) is None
