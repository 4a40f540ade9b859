"""Grades a class of 40 with the local pool (--jobs 2) and on a local Dask cluster of two
single-threaded workers, and prints the time per student of each and the cluster's overhead.

The class: the reference, the stubs, planted-bug copies (tests/planted_bugs.py) and copies of
the reference, over cheap parts. The cluster (`dask scheduler`, two `dask worker`s on loopback)
is started before the clock starts, as an instructor's cluster would be.

    python benchmarks/bench_cluster.py [--parts conv pooling batchnorm layers] [--size 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["conv", "pooling", "batchnorm", "layers"])
    parser.add_argument("--size", type=int, default=40)
    args = parser.parse_args()
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
        remote = grade(root, work / "dask", args.parts, "--scheduler", cluster.address)
        load_after = os.getloadavg()
        same = (work / "local" / "gradebook.csv").read_bytes() == (work / "dask" / "gradebook.csv").read_bytes()
        print(f"{count} submissions, parts {' '.join(args.parts)}, {os.cpu_count()} cores")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
        print(f"--jobs 2:          {local:7.1f} s   {local / count:5.2f} s per student")
        print(f"cluster, 2 workers: {remote:6.1f} s   {remote / count:5.2f} s per student")
        print(f"cluster overhead per student: {(remote - local) / count:+.2f} s "
              f"({(remote - local) / local * 100:+.1f} %)   identical gradebooks: {same}")
    finally:
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
