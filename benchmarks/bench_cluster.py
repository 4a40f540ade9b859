"""Grades a class of 40 with the local pool (--jobs 2) and on a local Dask cluster of two
single-threaded workers, and prints the time per student of each and the cluster's overhead.

The class: the reference, the stubs, planted-bug copies (tests/planted_bugs.py) and copies of
the reference, over cheap parts. The cluster (`dask scheduler`, two `dask worker`s on loopback)
is started before the clock starts, as an instructor's cluster would be, with the workers'
profiler off as the README recommends (``--dask-defaults`` keeps it on).

    python benchmarks/bench_cluster.py [--parts conv pooling batchnorm layers] [--size 40] [--dask-defaults]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_batch import make_class  # noqa: E402
from tests.dask_cluster import Cluster  # noqa: E402


def grade(root: Path, out: Path, parts: list[str], *how: str) -> float:
    command = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), *how]
    for part in parts:
        command += ["--part", part]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - start


def grading_seconds(out: Path) -> float:
    """The time spent grading inside the tasks (each report's own clock), summed over the class."""
    return sum(json.loads(path.read_text())["execution_time"] for path in out.glob("students/*/results.json"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["conv", "pooling", "batchnorm", "layers"])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--dask-defaults", action="store_true", help="keep the workers' profiler on")
    args = parser.parse_args()
    if not args.dask_defaults:
        os.environ["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] = "False"
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    cluster = Cluster(work / "cluster")
    try:
        root = work / "class"
        root.mkdir()
        make_class(root, args.parts, args.size)
        for index in range(args.size - len(list(root.iterdir()))):
            shutil.copytree(root / "reference", root / f"reference-copy{index}")
        count = len(list(root.iterdir()))
        load_before = os.getloadavg()
        local = grade(root, work / "local", args.parts, "--jobs", "2")
        cluster.start(workers=2)
        dask_processes = [psutil.Process(process.pid) for process in cluster.processes]
        dask_processes += [child for process in dask_processes for child in process.children(recursive=True)
                           if "grader" not in " ".join(child.cmdline())]
        cpu_before = [sum(p.cpu_times()[:2]) for p in dask_processes]
        remote = grade(root, work / "dask", args.parts, "--scheduler", cluster.address)
        dask_cpu = sum(sum(p.cpu_times()[:2]) - before for p, before in zip(dask_processes, cpu_before))
        load_after = os.getloadavg()
        same = (work / "local" / "gradebook.csv").read_bytes() == (work / "dask" / "gradebook.csv").read_bytes()
        print(f"{count} submissions, parts {' '.join(args.parts)}, {os.cpu_count()} cores, workers' profiler "
              f"{'on' if args.dask_defaults else 'off'}")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
        for name, seconds, out in (("--jobs 2:          ", local, "local"), ("cluster, 2 workers:", remote, "dask")):
            print(f"{name} {seconds:6.1f} s   {seconds / count:5.2f} s per student   "
                  f"(grading inside the tasks: {grading_seconds(work / out) / count:5.2f} s per student)")
        print(f"CPU used by Dask itself (scheduler, nannies, workers) during the run: {dask_cpu:.1f} s")
        print(f"cluster overhead per student: {(remote - local) / count:+.2f} s "
              f"({(remote - local) / local * 100:+.1f} %)   identical gradebooks: {same}")
    finally:
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
