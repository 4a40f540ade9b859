"""`nbgrader autograde` against `grader batch` on the same class, per submission.

The class (the reference, the stubs, planted-bug copies) is handed in twice: as the nbgrader
course's notebooks (grader/assign/nbgrader_course.py, the file cells holding each student's files)
and as the same .py files for `grader batch --jobs 1` (nbgrader autogrades one student at a
time). Both grade the public and hidden checks; the totals are compared student by student.

    python benchmarks/bench_nbgrader.py [--parts conv pooling batchnorm layers] [--size 6]
"""

from __future__ import annotations

import argparse
import csv
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

import nbformat  # noqa: E402

from bench_batch import make_class  # noqa: E402
from grader.assign import notebooks  # noqa: E402
from grader.assign.nbgrader_course import ASSIGNMENT, write_course  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def run(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd, env=ENV)
    return time.perf_counter() - start


def hand_in(course: Path, student: str, files: Path, parts: list[str]) -> None:
    """The released notebooks of ``parts``, each file cell holding the student's file."""
    target = course / "submitted" / student / ASSIGNMENT
    target.mkdir(parents=True)
    for part in parts:
        name = notebooks.notebook_name(part)
        notebook = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
        cell = next(c for c in notebook.cells if c.source.startswith(f"%%part_file {part}.py"))
        cell.source = f"%%part_file {part}.py\n" + (files / f"{part}.py").read_text()
        nbformat.write(notebook, target / name)


def nbgrader_totals(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["conv", "pooling", "batchnorm", "layers"])
    parser.add_argument("--size", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    try:
        root, course = work / "class", work / "course"
        root.mkdir()
        make_class(root, args.parts, args.size)
        students = sorted(p.name for p in root.iterdir())
        write_course(course, parts=args.parts)
        run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"], course)
        for student in students:
            hand_in(course, student, root / student, args.parts)
        autograde = run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], course)
        command = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(work / "out"), "--jobs", "1"]
        for part in args.parts:
            command += ["--part", part]
        batch = run(command, ROOT)
        with open(work / "out" / "gradebook.csv", newline="") as stream:
            ours = {row["id"]: float(row["total"]) for row in csv.DictReader(stream)}
        theirs = nbgrader_totals(course)
        count = len(students)
        print(f"{count} submissions, parts {' '.join(args.parts)}, load average {os.getloadavg()[0]:.2f} (1 min)")
        print(f"nbgrader autograde:     {autograde:7.1f} s   {autograde / count:6.2f} s per submission")
        print(f"grader batch --jobs 1:  {batch:7.1f} s   {batch / count:6.2f} s per submission")
        print(f"same totals: {ours == theirs}" + ("" if ours == theirs else f"  grader {ours}  nbgrader {theirs}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
