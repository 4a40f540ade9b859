"""``grader similar`` on the test class, then on a class of N students, timed.

1. The class of tests/test_similar.py (four independent correct solutions and a disguised
   copy of each in turn): the copy's score against the best pair of independent solutions.
2. A class of N students (default 200; each a disguised copy of one of the four, so every
   student hands in real code) graded by the command line: wall time, pairs per second.

    python benchmarks/bench_similar.py [--students N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import similar  # noqa: E402
from tests.similar_class import INDEPENDENT, disguise, make_class, read_class, stub_files, student  # noqa: E402


def separation(scratch: Path) -> None:
    print("copy of   copy's score   best other pair")
    for original in sorted(INDEPENDENT):
        pairs = similar.similar_pairs(read_class(make_class(scratch / original, copied=original)), stub_files())
        copy = next(p.score for p in pairs if {p.a, p.b} == {original, "zed"})
        other = max((p for p in pairs if {p.a, p.b} != {original, "zed"}), key=lambda p: p.score)
        print(f"{original:8}  {copy:12.4f}   {other.score:.4f} ({other.a}, {other.b})")


def big_class(root: Path, size: int) -> None:
    originals = make_class(root / "originals")
    stubs = stub_files()
    for number in range(size):
        source = originals / sorted(INDEPENDENT)[number % len(INDEPENDENT)]
        copy = student(root / "class" / f"student{number:04d}", [])
        for path in source.glob("*.py"):
            if path.read_text() != stubs[path.name]:
                (copy / path.name).write_text(disguise(path.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        separation(scratch / "separation")
        big_class(scratch / "big", args.students)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "similar", str(scratch / "big" / "class"),
                        "--out", str(scratch / "report.csv")], check=True, cwd=ROOT)
        seconds = time.perf_counter() - started
        pairs = args.students * (args.students - 1) // 2
        print(f"{args.students} students, {pairs} pairs: {seconds:.1f} s wall "
              f"({pairs / seconds:.0f} pairs/s, imports and unpacking included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
