"""The whole pipeline in a temporary git repo: `dvc repro` on tiny generated data with tiny params."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tinydata import make_mirror

from dlps.experiments import NAMES, load

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# the benchmark (run outside the DAG), the protocol and the pilot's findings are inputs of the report
SOURCES = ["dlps", "stages", "params.yaml", "dvc.yaml", "pyproject.toml", "README.md", "docs/design.md", "docs/protocol.md",
           "docs/deviations.md", ".dvc/config", ".dvc/plots", ".dvc/plots.html", ".dvcignore", ".gitignore", "metrics/bench/bench.json",
           "metrics/bench/roofline.json", "metrics/pilot/findings.json", "metrics/confirmatory/findings.json",
           "docs/protocol-power.json"]

# each experiment folder's tiny.yaml: params overrides that make its stages run in seconds
TINY = {name: load(name).data("tiny.yaml", {}) for name in NAMES}


def run(cmd: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def copy_project(repo: Path) -> Path:
    """The project's sources (no data, no results) copied into `repo`."""
    for src in SOURCES:
        s, d = ROOT / src, repo / src
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, ignore=shutil.ignore_patterns("__pycache__"))
        elif s.exists():
            shutil.copy2(s, d)
    return repo


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project in a fresh git repo, its params shrunk, its mirror made of tiny files."""
    tmp = tmp_path_factory.mktemp("e2e")
    repo = copy_project(tmp / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(repo), "DLPS_MIRROR": str(make_mirror(tmp / "mirror")),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    run(["git", "init", "-q"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "tiny"], repo, env)
    run(["dvc", "repro"], repo, env)
    return repo, env


def test_repro_builds_metrics_and_report(project):
    repo, _ = project
    m = json.loads((repo / "metrics/overfitting.json").read_text())
    assert set(m["variants"]) == {"1", "3", "15"} and m["seeds"] == TINY["overfitting"]["seeds"]
    for stats in m["variants"].values():
        for s in stats.values():
            assert set(s) == {"mean", "std", "ci_low", "ci_high", "ci_level", "median", "n"} and s["n"] == 6
            assert s["ci_low"] <= s["mean"] <= s["ci_high"]
    assert all(0 <= c["p_value"] <= 1 for c in m["comparisons"].values())
    html = (repo / "report/index.html").read_text()
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert "Over- and underfitting" in (repo / "report/report.md").read_text()
    for ds in ("mnist", "fashion_mnist", "cifar10", "imdb", "tinyshakespeare"):
        assert json.loads((repo / f"metrics/datasets/{ds}.json").read_text())["canonical"] is False
    assert "NOT canonical" in html


def test_second_repro_runs_nothing(project):
    repo, env = project
    out = run(["dvc", "repro"], repo, env).stdout
    assert "Running stage" not in out
    assert "up to date" in run(["dvc", "status"], repo, env).stdout


def test_changing_one_experiment_reruns_only_it_and_the_report(project):
    repo, env = project
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["overfitting"]["noise_std"] = 0.25
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        stale = run(["dvc", "status"], repo, env).stdout
        names = {line.strip().rstrip(":") for line in stale.splitlines() if line and not line.startswith("\t")}
        assert names and all(n.startswith(("train_overfitting", "evaluate_overfitting", "plots_overfitting",
                                           "report")) for n in names), stale
    finally:
        run(["git", "checkout", "params.yaml"], repo, env)


def test_a_failed_forced_download_keeps_the_verified_copy(project, tmp_path):
    """`dvc repro -f download@<dataset>` with no network and no mirror fails, and leaves data/raw/<dataset> whole
    (the stage's output is `persist`: DVC does not delete it first, and the stage replaces it only on success)."""
    repo, env = project
    raw = repo / "data/raw/tinyshakespeare"
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    offline = {**env, "DLPS_MIRROR": str(tmp_path / "no-such-mirror")}
    r = subprocess.run(["dvc", "repro", "-f", "-s", "download@tinyshakespeare"], cwd=repo, env=offline,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "mirror folder" in r.stdout + r.stderr
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before
    run(["dvc", "repro"], repo, env)
    assert "up to date" in run(["dvc", "status"], repo, env).stdout


def _ran(out: str) -> set[str]:
    """The stages a `dvc repro` / `dvc exp run` log says it ran."""
    return {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage '")}


def test_rejudging_redrawing_and_a_new_variant_retrain_only_what_they_must(project):
    """A judging key (-S alpha) and a caption edit re-run no train stage; a new variant trains only itself."""
    repo, env = project
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "before re-judging", "--allow-empty"], repo, env)
    figures = repo / "dlps/experiments/overfitting/figures.py"
    original = figures.read_text()
    try:
        ran = _ran(run(["dvc", "exp", "run", "-S", "overfitting.alpha=0.02", "-S", "l2.alpha=0.1"], repo, env).stdout)
        assert ran and not any(s.startswith("train_") for s in ran), ran
        assert {"evaluate_overfitting", "evaluate_l2", "report"} <= ran
        figures.write_text(original.replace("Polynomial fits of each degree", "Least-squares fits of each degree"))
        ran = _ran(run(["dvc", "repro"], repo, env).stdout)
        assert ran == {"plots_overfitting", "report"}, ran
        ran = _ran(run(["dvc", "exp", "run", "-S", "overfitting.degrees=[1,3,15,5]"], repo, env).stdout)
        assert {s for s in ran if s.startswith("train_")} == {"train_overfitting@5"}, ran
    finally:
        figures.write_text(original)
        run(["git", "checkout", "params.yaml"], repo, env)
        run(["dvc", "repro"], repo, env)


def test_killed_stage_leaves_nothing_half_written_and_repro_recovers(project):
    """SIGKILL a training stage mid-run; its output is absent or whole, and `dvc repro` then restores it exactly."""
    import signal
    import time

    repo, env = project
    out = repo / "metrics/runs/bias_variance/all.json"
    before = out.read_bytes()
    proc = subprocess.Popen(["dvc", "repro", "-f", "-s", "train_bias_variance@all"], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    for line in proc.stdout:  # kill once the stage's command has started
        if b"> python stages/train.py" in line:
            time.sleep(0.3)
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() or json.loads(out.read_text())  # never a partial file under the real name
    run(["dvc", "repro"], repo, env)
    assert out.read_bytes() == before
    assert "up to date" in run(["dvc", "status"], repo, env).stdout


def _push_and_pull(repo: Path, env: dict, remote_args: list[list[str]], tmp: Path) -> None:
    """Push the cache to a remote, clone the git repo afresh, pull, and check nothing needs re-running."""
    for args in remote_args:
        run(["dvc", "remote", *args], repo, env)
    run(["dvc", "push"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "results and remote"], repo, env)
    clone = tmp / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp, env)
    run(["dvc", "pull"], clone, env)
    env_clone = {**env, "PYTHONPATH": str(clone)}
    assert "up to date" in run(["dvc", "status"], clone, env_clone).stdout
    assert "Running stage" not in run(["dvc", "repro"], clone, env_clone).stdout
    assert (clone / "data/prepared/mnist/x_train.npy").read_bytes() == (repo / "data/prepared/mnist/x_train.npy").read_bytes()


def test_cache_moves_through_a_local_remote(project, tmp_path):
    repo, env = project
    _push_and_pull(repo, env, [["add", "-f", "-d", "shared", str(tmp_path / "remote")]], tmp_path)


def test_cache_moves_through_an_s3_api_on_loopback(project, tmp_path):
    pytest.importorskip("dvc_s3", reason="dvc-s3 is not installed (pip install -e '.[test]')")
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        boto3.client("s3", endpoint_url=endpoint, **{k.lower(): v for k, v in creds.items()
                                                    if k != "AWS_DEFAULT_REGION"},
                     region_name="us-east-1").create_bucket(Bucket="dlps")
        repo, env = project
        _push_and_pull(repo, {**env, **creds}, [["add", "-f", "-d", "s3", "s3://dlps/cache"],
                                               ["modify", "s3", "endpointurl", endpoint]], tmp_path)
    finally:
        server.stop()


def test_override_with_a_typo_fails_before_any_work(project):
    """DVC refuses a `-S` key that is not in params.yaml; forcing it in with `+` is refused by the stages."""
    repo, env = project
    for override in ("overfitting.degreez=[1,2,15]", "+overfitting.degreez=[1,2,15]"):
        r = subprocess.run(["dvc", "exp", "run", "-S", override], cwd=repo, env=env, capture_output=True, text=True)
        assert r.returncode != 0 and "degreez" in r.stdout + r.stderr
        run(["git", "checkout", "params.yaml"], repo, env)
    assert "overfitting.degreez: unknown key" in r.stdout + r.stderr
    # DVC removed the outputs of the stage that refused to start; `dvc repro` on the restored params brings them back
    run(["dvc", "repro"], repo, env)
    assert (repo / "metrics/headline/overfitting.json").is_file()


def test_exp_run_with_override_and_metrics_diff(project):
    repo, env = project
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "baseline run", "--allow-empty"], repo, env)
    run(["dvc", "exp", "run", "-S", "overfitting.degrees=[1,2,15]"], repo, env)
    m = json.loads((repo / "metrics/overfitting.json").read_text())
    assert set(m["variants"]) == {"1", "2", "15"}
    diff = json.loads(run(["dvc", "metrics", "diff", "--json", "--targets", "metrics/overfitting.json"], repo,
                          env).stdout)
    assert any("variants.2." in key for key in diff["metrics/overfitting.json"])
    headline = json.loads(run(["dvc", "metrics", "diff", "--all", "--json"], repo, env).stdout)
    effect = headline["metrics/headline/overfitting.json"]["underfits_low_vs_mid.effect"]
    assert None not in (effect["old"], effect["new"])  # ids name roles, so the same key lines up across degrees
    run([sys.executable, "stages/compare.py", "HEAD", "--out", str(repo / "cmp.html")], repo, env)
    page = (repo / "cmp.md").read_text()
    assert "overfitting.degrees" in page and "variants.2.test_mse.mean" in page
    assert page.index("Verdicts that changed") < page.index("Params that differ")


def _queue_status(repo: Path, env: dict, names: set[str]) -> dict[str, str]:
    """`dvc queue status` as {experiment name: Queued|Running|Failed|Success}."""
    out = run(["dvc", "queue", "status"], repo, env).stdout
    return {parts[1]: parts[-1] for parts in map(str.split, out.splitlines()) if len(parts) >= 4 and parts[1] in names}


def _live_queue_workers(repo: Path) -> dict[str, int | None]:
    """This repo's queue workers still running ({record: pid}), from the record dvc-task keeps for each one.

    `dvc queue status` cannot tell: its "Worker status" line relies on a celery broadcast the workers do not
    answer, and reads "0 active, 0 idle" even while they run experiments (treeverse/dvc#10427, still so in 3.67).
    """
    live = {}
    for record in (repo / ".dvc/tmp/exps/celery").glob("dvc-exp-worker-*.json"):
        try:
            info = json.loads(record.read_text())
        except FileNotFoundError:  # removed by the worker's own clean-up
            continue
        except ValueError:  # being rewritten: ask again later
            live[record.name] = None
            continue
        if info.get("returncode") is None and info.get("pid"):
            try:
                os.kill(info["pid"], 0)
            except ProcessLookupError:
                continue
            live[record.name] = info["pid"]
    return live


def test_queued_experiments_run_in_parallel(project, tmp_path):
    """A small grid through DVC's queue: two `-S` experiments queued, run by two workers at once, compared."""
    import contextlib
    import signal
    import time

    repo, env = project
    noise = {"queued-noise-02": 0.2, "queued-noise-04": 0.4}
    params_before = (repo / "params.yaml").read_bytes()
    metrics_before = (repo / "metrics/overfitting.json").read_bytes()
    assert yaml.safe_load(params_before)["overfitting"]["noise_std"] not in noise.values()
    head = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    index = run(["git", "write-tree"], repo, env).stdout.strip()
    # Queued experiments start from HEAD plus the stashed tracked changes: commit the workspace (as
    # test_exp_run_with_override_and_metrics_diff does) so they start from the results already built.
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "queue baseline", "--allow-empty"], repo, env)
    baseline = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    finished = False
    try:
        for name, value in noise.items():
            run(["dvc", "exp", "run", "--queue", "-n", name, "-S", f"overfitting.noise_std={value}"], repo, env)
        assert (repo / "params.yaml").read_bytes() == params_before  # queueing leaves the workspace alone
        # The workers are daemons that inherit this command's stdout: with a pipe (capture_output), waiting
        # for its end would wait for the workers to exit, i.e. for the whole queue. A file does not block.
        log = tmp_path / "queue-start.log"
        with log.open("w") as out:
            r = subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=repo, env=env, stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and "Started '2'" in log.read_text(), log.read_text()
        deadline, both_running, status = time.monotonic() + 300, False, {}
        while time.monotonic() < deadline:
            status = _queue_status(repo, env, set(noise))
            both_running |= sorted(status.values()) == ["Running", "Running"]
            if len(status) == len(noise) and all(s in ("Success", "Failed") for s in status.values()):
                finished = True
                break
            time.sleep(1)
        if not finished or any(s != "Success" for s in status.values()):
            logs = {n: subprocess.run(["dvc", "queue", "logs", n], cwd=repo, env=env, capture_output=True,
                                      text=True).stdout[-3000:] for n in noise}
            pytest.fail(f"queue {'finished' if finished else 'timed out after 300 s'} with {status}:\n"
                        + "\n".join(f"--- dvc queue logs {n}\n{text}" for n, text in logs.items()))
        assert both_running, "the two experiments were never running at the same time"

        rows = json.loads(run(["dvc", "exp", "show", "--json"], repo, env).stdout)
        base = next(r for r in rows if r["rev"] == baseline)
        exps = {e["name"]: e for e in base["experiments"] or []}
        assert set(noise) <= set(exps), f"experiments of {baseline[:7]}: {sorted(exps)}"
        mse = {}
        for name, value in noise.items():
            exp, rev = exps[name], exps[name]["revs"][0]
            assert (exp.get("executor") or {}).get("state", "success") == "success" and rev["error"] is None, exp
            assert rev["data"]["params"]["params.yaml"]["data"]["overfitting"]["noise_std"] == value
            assert rev["data"]["metrics"]["metrics/headline/overfitting.json"]["data"]  # the default columns
            full = run(["git", "show", f"{rev['rev']}:metrics/overfitting.json"], repo, env).stdout
            variants = json.loads(full)["variants"]
            mse[name] = {v: s["test_mse"]["mean"] for v, s in variants.items()}
        low, high = mse["queued-noise-02"], mse["queued-noise-04"]
        assert set(low) == set(high) and all(high[v] > low[v] for v in low), mse  # same seeds, twice the noise
        assert (repo / "params.yaml").read_bytes() == params_before  # the workspace never saw either run
        assert (repo / "metrics/overfitting.json").read_bytes() == metrics_before
    finally:
        # Workers leave on their own 10 s after the queue empties; `stop` makes them leave after their
        # current task (--kill: at once). Then the queue is emptied and HEAD and the index put back. Nothing
        # here asserts, so a failure above is the one reported.
        def cleanup(*cmd: str) -> None:
            subprocess.run(cmd, cwd=repo, env=env, capture_output=True, stdin=subprocess.DEVNULL)

        cleanup("dvc", "queue", "stop", *([] if finished else ["--kill"]))
        deadline = time.monotonic() + 60
        while _live_queue_workers(repo) and time.monotonic() < deadline:
            time.sleep(1)
        left = _live_queue_workers(repo)
        for pid in filter(None, left.values()):  # workers this test started that ignored `stop`
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        cleanup("dvc", "queue", "remove", "--all")
        cleanup("git", "reset", "-q", "--soft", head)
        cleanup("git", "read-tree", index)
    assert not left, f"queue workers still running 60 s after `dvc queue stop` (sent SIGTERM): {left}"
    assert run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip() == head
    assert run(["git", "write-tree"], repo, env).stdout.strip() == index
