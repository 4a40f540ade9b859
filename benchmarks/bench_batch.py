"""Grades a class of 20 submissions (--size) with --jobs 1 and --jobs 2 and prints the speed-up.

The class: the reference solution, the stubs, and planted-bug copies of the
reference (tests/planted_bugs.py), over the layer parts.

    python benchmarks/bench_batch.py [--parts conv pooling batchnorm layers] [--size 20]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.planted_bugs import BUGS, apply_bug  # noqa: E402


def make_class(root: Path, parts: list[str], size: int = 20) -> None:
    files = [f"{part}.py" for part in parts]
    for name, source in (("reference", ROOT / "solutions"), ("stubs", ROOT / "assignments")):
        (root / name).mkdir()
        for file in files:
            shutil.copy(source / file, root / name / file)
    bugs = [bug for bug in BUGS if bug.file in files][: size - 2]
    for bug in bugs:
        folder = root / f"bug-{bug.id}"
        folder.mkdir()
        for file in files:
            text = (ROOT / "solutions" / file).read_text()
            (folder / file).write_text(apply_bug(bug, text) if file == bug.file else text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["conv", "pooling", "batchnorm", "layers"])
    parser.add_argument("--size", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        (work / "class").mkdir()
        make_class(work / "class", args.parts, args.size)
        count = len(list((work / "class").iterdir()))
        times = {}
        for jobs in (1, 2):
            command = [sys.executable, "-m", "grader", "batch", str(work / "class"), "--out",
                       str(work / f"out{jobs}"), "--jobs", str(jobs)]
            for part in args.parts:
                command += ["--part", part]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[jobs] = time.perf_counter() - start
        same = (work / "out1" / "gradebook.csv").read_bytes() == (work / "out2" / "gradebook.csv").read_bytes()
        print(f"{count} submissions, parts {' '.join(args.parts)}")
        print(f"--jobs 1: {times[1]:7.1f} s")
        print(f"--jobs 2: {times[2]:7.1f} s")
        print(f"speed-up: {times[1] / times[2]:.2f}x   identical gradebooks: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
