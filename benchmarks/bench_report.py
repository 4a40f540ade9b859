"""The class report of a class of 1,000: the time to build it and the size of what it writes.

A handful of real gradings (the reference, the stubs and planted-bug copies of layers.py, all
of layers' checks) are each written as `grader batch` writes a student, then copied to 1,000
students (every 50th one a hand-in that could not be graded); `grader report` is timed on them.

    python benchmarks/bench_report.py [--students 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import batch  # noqa: E402
from grader.batch import report  # noqa: E402
from grader.batch.students import Student  # noqa: E402
from grader.runner import grade  # noqa: E402
from tests.planted_bugs import BUGS, apply_bug  # noqa: E402

PART = "layers"
BUG_IDS = ("linear_dw_transposed", "relu_gradient_one_at_zero", "cross_entropy_summed",
           "cross_entropy_gradient_not_averaged", "dropout_backward_not_scaled")


def real_gradings(work: Path) -> list:
    """(name, report) of the reference, the stubs and a planted bug each."""
    sources = {"reference": (ROOT / "solutions" / "layers.py").read_text(),
               "stubs": (ROOT / "assignments" / "layers.py").read_text()}
    for bug in BUGS:
        if bug.id in BUG_IDS:
            sources[bug.id] = apply_bug(bug, sources["reference"])
    graded = []
    for name, text in sources.items():
        folder = work / "class" / name
        folder.mkdir(parents=True)
        (folder / "layers.py").write_text(text)
        started = time.perf_counter()
        graded.append((name, grade(folder, parts=[PART], include_hidden=True)))
        print(f"  graded {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return graded


def synthesize(out: Path, graded: list, size: int) -> None:
    """``size`` students, each a copy of one real grading (their own id and time)."""
    templates = []
    for number, (name, result) in enumerate(graded):
        batch._finish(out / "templates", Student(name, name, out), f"key{number}", result, [], result.status, False)
        templates.append(out / "templates" / "students" / name)
    students = []
    for index in range(size):
        student = Student(f"student{index:04d}", f"student{index:04d}", out)
        students.append(student)
        if index % 50 == 49:
            batch._finish(out, student, "broken", None, ["the zip file is corrupt"],
                          "error: the zip file is corrupt", False)
            continue
        template = templates[index % len(templates)]
        target = out / "students" / student.slug
        target.mkdir(parents=True)
        results = json.loads((template / "results.json").read_text())
        results["execution_time"] = round(results["execution_time"] * (0.5 + (index * 37 % 100) / 100), 3)
        (target / "results.json").write_text(json.dumps(results))
        state = json.loads((template / "state.json").read_text())
        (target / "state.json").write_text(json.dumps({**state, "id": student.id}))
        shutil.copyfile(template / "feedback.md", target / "feedback.md")
    shutil.rmtree(out / "templates")
    batch.write_gradebook(out, students, [PART])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as work:
        work = Path(work)
        graded = real_gradings(work)
        out = work / "out"
        synthesize(out, graded, args.students)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            written = report.write(out)
            times.append(time.perf_counter() - started)
        sizes = {name: path.stat().st_size for name, path in written.items()}
        mistakes = len(report.load(out).mistakes)
    print(f"class of {args.students} ({len(graded)} real gradings copied): report built in "
          f"{statistics.median(times):.2f} s (median of {args.repeat}; min {min(times):.2f} s)")
    for name, size in sizes.items():
        print(f"  {name}: {size / 1024:.0f} KiB")
    print(f"  {mistakes} signature(s)")


if __name__ == "__main__":
    main()
