"""Grades a class of 40 with the local pool (--jobs 2) and on a local Dask cluster of two
single-threaded workers, and prints the time per student of each and the cluster's overhead.

The class: the reference, the stubs, planted-bug copies (tests/planted_bugs.py) and copies of
the reference, over cheap parts. The cluster (`dask scheduler`, two `dask worker`s on loopback)
is started before the clock starts, as an instructor's cluster would be, with the workers'
profiler off as the README recommends (``--dask-defaults`` keeps it on).

    python benchmarks/bench_cluster.py [--parts conv pooling batchnorm layers] [--size 40] [--rounds 2] [--dask-defaults]
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
    parser.add_argument("--rounds", type=int, default=1, help="runs of each, in alternating order")
    parser.add_argument("--dask-defaults", action="store_true", help="keep the workers' profiler on")
    args = parser.parse_args()
    if not args.dask_defaults:
        os.environ["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] = "False"
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    clusters = []
    try:
        root = work / "class"
        root.mkdir()
        make_class(root, args.parts, args.size)
        for index in range(args.size - len(list(root.iterdir()))):
            shutil.copytree(root / "reference", root / f"reference-copy{index}")
        count = len(list(root.iterdir()))
        load_before = os.getloadavg()
        times = {"local": [], "dask": []}
        dask_cpu = []
        same = True
        for round_ in range(args.rounds):  # alternating order; the fastest run of each counts
            for how in (("local", "dask") if round_ % 2 == 0 else ("dask", "local")):
                out = work / f"{how}{round_}"
                if how == "local":
                    times[how].append(grade(root, out, args.parts, "--jobs", "2"))
                else:  # a fresh cluster, up only while it grades
                    cluster = Cluster(work / f"cluster{round_}")
                    clusters.append(cluster)
                    cluster.start(workers=2)
                    dask_processes = [psutil.Process(process.pid) for process in cluster.processes]
                    dask_processes += [child for process in dask_processes
                                       for child in process.children(recursive=True)]
                    cpu_before = [sum(p.cpu_times()[:2]) for p in dask_processes]
                    times[how].append(grade(root, out, args.parts, "--scheduler", cluster.address))
                    dask_cpu.append(sum(sum(p.cpu_times()[:2]) - before
                                        for p, before in zip(dask_processes, cpu_before)))
                    cluster.close()
            same &= (work / f"local{round_}" / "gradebook.csv").read_bytes() == \
                (work / f"dask{round_}" / "gradebook.csv").read_bytes()
        load_after = os.getloadavg()
        local, remote = min(times["local"]), min(times["dask"])
        print(f"{count} submissions, parts {' '.join(args.parts)}, {os.cpu_count()} cores, workers' profiler "
              f"{'on' if args.dask_defaults else 'off'}, {args.rounds} round(s)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
        for name, how in (("--jobs 2:          ", "local"), ("cluster, 2 workers:", "dask")):
            best = times[how].index(min(times[how]))
            print(f"{name} {min(times[how]):6.1f} s   {min(times[how]) / count:5.2f} s per student   "
                  f"(each grading's own clock: {grading_seconds(work / f'{how}{best}') / count:5.2f} s; "
                  f"all runs: {', '.join(f'{t:.0f}' for t in times[how])} s)")
        print(f"CPU used by Dask itself (scheduler, nannies, workers) per run: "
              f"{', '.join(f'{c:.1f}' for c in dask_cpu)} s")
        print(f"cluster overhead per student: {(remote - local) / count:+.2f} s "
              f"({(remote - local) / local * 100:+.1f} %)   identical gradebooks: {same}")
    finally:
        for cluster in clusters:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
