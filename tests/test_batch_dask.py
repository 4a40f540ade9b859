"""`grader batch --scheduler` on a real Dask cluster started here: a scheduler and two
single-threaded workers on loopback, launched with `dask scheduler` / `dask worker`."""

import csv
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS, ctrl_c_reaches_it
from tests.dask_cluster import Cluster
from tests.planted_bugs import BUGS, apply_bug

PARTS = ("conv", "layers")
KILLER_PLUGIN = ROOT / "tests" / "dask_worker_killer.py"


@pytest.fixture
def cluster_factory(tmp_path):
    clusters = []

    def start(**options):
        clusters.append(Cluster(tmp_path / f"cluster{len(clusters)}"))
        clusters[-1].start(**options)
        return clusters[-1]

    try:
        yield start
    finally:
        for cluster in clusters:
            cluster.close()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The reference, the stubs and two planted-bug copies, with the local pool's gradebook."""
    root = tmp_path_factory.mktemp("class")
    bugs = [next(bug for bug in BUGS if bug.file == f"{part}.py") for part in PARTS]
    for name, source in (("reference", SOLUTIONS), ("stubs", ASSIGNMENTS)):
        (root / name).mkdir()
        for part in PARTS:
            (root / name / f"{part}.py").write_text((source / f"{part}.py").read_text())
    for bug in bugs:
        (root / f"bug-{bug.id}").mkdir()
        for part in PARTS:
            text = (SOLUTIONS / f"{part}.py").read_text()
            (root / f"bug-{bug.id}" / f"{part}.py").write_text(apply_bug(bug, text) if bug.part == part else text)
    local = tmp_path_factory.mktemp("local")
    _batch(root, local, "--jobs", "2")
    return root, (local / "gradebook.csv").read_bytes(), local


def _command(root, out, *extra):
    parts = [arg for part in PARTS for arg in ("--part", part)]
    return [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), *parts, "--timeout", "10", *extra]


def _batch(root, out, *extra, check=True, env=None, timeout=1200):
    run = subprocess.run(_command(root, out, *extra), capture_output=True, text=True, cwd=ROOT,
                         timeout=timeout, env=env)
    if check:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


def _gradings(process):
    """The grading processes (grader.batch.one) running below a worker."""
    try:
        below = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in below:
        try:
            # run as a module, or forked from the preloaded process (whose command line it keeps)
            if "grader.batch.one" in child.cmdline() or (
                    "grader.batch.preloaded" in child.cmdline() and "grader.batch.preloaded" in child.parent().cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _rows(gradebook: bytes):
    return {row["id"]: row for row in csv.DictReader(gradebook.decode().splitlines())}


@pytest.mark.slow
def test_cluster_gradebook_is_the_local_pools(classroom, cluster_factory, tmp_path):
    root, local, local_out = classroom
    cluster = cluster_factory()
    _batch(root, tmp_path / "out", "--scheduler", cluster.address)
    assert (tmp_path / "out" / "gradebook.csv").read_bytes() == local
    for name in ("checks.csv", "signatures.csv"):  # the class report too
        assert (tmp_path / "out" / name).read_bytes() == (local_out / name).read_bytes(), name
    assert _rows(local)["reference"]["status"] == "graded" and float(_rows(local)["reference"]["total"]) > 0


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_no_row(classroom, cluster_factory, tmp_path):
    root, local, _local_out = classroom
    cluster = cluster_factory()
    out = tmp_path / "out"
    batch = subprocess.Popen(_command(root, out, "--scheduler", cluster.address), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: list(out.glob("students/*/state.json")) or batch.poll() is not None, 600, "a first student")
        victim, lost = None, []
        _wait(lambda: batch.poll() is not None or any(_gradings(w) for w in cluster.workers), 600,
              "a grading on a worker")
        for worker in cluster.workers:
            lost = _gradings(worker)
            if lost:
                victim = worker
                break
        assert victim is not None, "the batch ended before a worker could be killed"
        cluster.kill(victim)  # the whole worker, nanny included: a lost node
        _, errors = batch.communicate(timeout=1200)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 0, errors[-3000:]
    assert (out / "gradebook.csv").read_bytes() == local
    # The killed worker's grading process went with it.
    _wait(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in lost), 30,
          "the orphaned grading process to end")


@pytest.mark.slow
def test_a_student_that_kills_every_worker_gets_an_error_row(classroom, cluster_factory, tmp_path):
    root, local, _local_out = classroom
    small = tmp_path / "class"
    for name in ("reference", "killer"):
        (small / name).mkdir(parents=True)
        for part in PARTS:
            (small / name / f"{part}.py").write_text((root / "reference" / f"{part}.py").read_text())
    cluster = cluster_factory(preload=KILLER_PLUGIN)
    run = _batch(small, tmp_path / "out", "--scheduler", cluster.address)
    rows = _rows((tmp_path / "out" / "gradebook.csv").read_bytes())
    assert rows["killer"]["status"].startswith("error: grading this student killed its Dask worker")
    assert float(rows["killer"]["total"]) == 0
    assert rows["reference"] == _rows(local)["reference"]
    assert "killed its Dask worker" in (tmp_path / "out" / "students" / "killer" / "feedback.md").read_text()
    del run


@pytest.mark.slow
def test_ctrl_c_stops_the_gradings_on_the_workers(cluster_factory, tmp_path):
    # Slow students: each call of conv_output_size takes 3 s, so a grading lasts minutes unless stopped.
    slow = (SOLUTIONS / "conv.py").read_text() + (
        "\n\nimport time as _time\n_size = conv_output_size\n\n\n"
        "def conv_output_size(*args, **kwargs):\n    _time.sleep(3)\n    return _size(*args, **kwargs)\n")
    for name in ("slow1", "slow2"):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "conv.py").write_text(slow)
    cluster = cluster_factory()
    batch = subprocess.Popen(_command(tmp_path / "class", tmp_path / "out", "--scheduler", cluster.address),
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             preexec_fn=ctrl_c_reaches_it)
    try:
        _wait(lambda: batch.poll() is not None or all(_gradings(w) for w in cluster.workers), 600,
              "a grading on each worker")
        time.sleep(2)
        assert batch.poll() is None
        batch.send_signal(signal.SIGINT)
        _, errors = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 130, errors[-3000:]
    _wait(lambda: not any(_gradings(w) for w in cluster.workers), 30, "the gradings to stop")


@pytest.mark.slow
def test_unreachable_scheduler_and_a_worker_without_the_kit_are_one_line_errors(classroom, cluster_factory,
                                                                                 tmp_path):
    root, _, _local_out = classroom
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s")
    run = _batch(root, tmp_path / "a", "--scheduler", f"tcp://127.0.0.1:{port}", check=False, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith(f"grader: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    run = _batch(root, tmp_path / "b", "--scheduler", "no-port-here", check=False)
    assert run.returncode == 2 and "expected tcp://HOST:PORT" in run.stderr

    # A node without the kit: its `import grader` fails.
    shadow = tmp_path / "shadow" / "grader"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'grader'\", name='grader')\n")
    cluster = cluster_factory(workers=1, worker_env=dict(os.environ, PYTHONPATH=str(shadow.parent)))
    run = _batch(root, tmp_path / "c", "--scheduler", cluster.address, check=False, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "cannot import the grader" in run.stderr and "every node" in run.stderr


def test_without_dask_a_one_line_error(monkeypatch):
    from grader.batch.cluster import DaskExecutor
    from grader.errors import UsageError

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(UsageError, match="needs Dask"):
        DaskExecutor("tcp://127.0.0.1:8786")
