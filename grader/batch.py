"""``grader batch``: grades a whole class, resumably, one process per student.

Layout of ``--out``::

    gradebook.csv                  one row per student, sorted by id
    students/<id>/results.json     Gradescope's format
    students/<id>/feedback.md      what the student reads
    students/<id>/state.json       written last: the key (submission + grader) it was graded with

A student is graded again only when its submission or the grader changed; every
file is replaced atomically, and the gradebook is rebuilt from the state files, so
a batch killed half-way and run again ends with the same gradebook as one that
ran through.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import grader
from grader import report as report_module
from grader import rubric as rubric_module
from grader.runner import CALL_TIMEOUT
from grader.unpack import HandInError, clear, collect

STUDENT_TIME_LIMIT = 3600.0


@dataclass
class Student:
    id: str
    slug: str
    source: Path


def discover(root: Path) -> list[Student]:
    """A folder or .zip per student; nbgrader's ``submitted/<student>/<assignment>/`` works as it is
    (the assignment folder is looked through like any nested folder)."""
    students, slugs = [], set()
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        student_id = entry.stem if entry.is_file() else entry.name
        student_id = student_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        slug = re.sub(r"[^A-Za-z0-9._-]", "_", student_id)[:80] or "student"
        if slug in slugs or slug.startswith("."):
            slug = f"{slug}-{hashlib.sha256(entry.name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
        slugs.add(slug)
        students.append(Student(student_id, slug, entry))
    return students


def grader_fingerprint() -> str:
    """Changes whenever the grader's code, rubric or pinned libraries change."""
    digest = hashlib.sha256()
    package = Path(grader.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    import hypothesis
    import numpy
    import torch
    digest.update(f"{numpy.__version__} {torch.__version__} {hypothesis.__version__}".encode())
    return digest.hexdigest()


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w", newline="") as stream:
        stream.write(text)
    os.replace(temporary, path)


def run(args) -> int:
    root, out = Path(args.submissions), Path(args.out)
    if not root.is_dir():
        print(f"grader: {root} is not a folder of submissions", file=sys.stderr)
        return 2
    rubric = rubric_module.load()
    parts = args.parts or list(rubric.parts)
    unknown = set(parts) - set(rubric.parts)
    if unknown:
        print(f"grader: unknown part(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    students = discover(root)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = (grader_fingerprint() + ":" + ",".join(parts)
                   + f":{bool(args.show_hidden_inputs)}:{args.timeout}")
    staging = Path(tempfile.mkdtemp(prefix="grader-batch-"))
    try:
        pending = _prepare(students, staging, out, fingerprint)
        progress = Progress(len(students), len(students) - len(pending))
        _grade_all(pending, parts, out, root, max(1, args.jobs), args.show_hidden_inputs, progress,
                   args.timeout)
        progress.finish()
    finally:
        clear(staging)
    write_gradebook(out, students, parts)
    print(f"gradebook: {out / 'gradebook.csv'}")
    return 0


def _prepare(students, staging: Path, out: Path, fingerprint: str) -> list:
    """Unpacks every hand-in; returns those whose state is missing or stale."""
    pending = []
    for student in students:
        folder = staging / student.slug
        try:
            notes = collect(student.source, folder)
            key = hashlib.sha256((folder_digest(folder) + fingerprint).encode()).hexdigest()
        except HandInError as error:
            notes, key = [str(error)], hashlib.sha256(
                (f"error:{error}" + fingerprint).encode()).hexdigest()
            folder = None
        state_file = out / "students" / student.slug / "state.json"
        try:
            if json.loads(state_file.read_text()).get("key") == key:
                continue
        except (OSError, ValueError):
            pass
        pending.append((student, folder, notes, key))
    return pending


def _grade_all(pending, parts, out: Path, root: Path, jobs: int, show_hidden: bool, progress,
               timeout: float) -> None:
    running: list = []
    queue = list(pending)
    while queue or running:
        while queue and len(running) < jobs:
            student, folder, notes, key = queue.pop(0)
            if folder is None:
                _finish(out, student, key, None, notes, "error: " + notes[0], show_hidden)
                progress.advance(failed=True)
                continue
            result_file = folder.parent / f"{student.slug}.result.json"
            command = [sys.executable, "-m", "grader.batch", str(folder), str(result_file),
                       "--hide", str(root.resolve()), "--hide", str(out.resolve()),
                       "--hide", str(folder.parent.resolve())]
            for part in parts:
                command += ["--part", part]
            command += ["--timeout", str(timeout)]
            env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                       start_new_session=True)
            running.append((process, time.monotonic(), student, folder, notes, key, result_file))
        time.sleep(0.05)
        for item in list(running):
            process, started, student, folder, notes, key, result_file = item
            if process.poll() is None and time.monotonic() - started < STUDENT_TIME_LIMIT:
                continue
            if process.poll() is None:
                process.kill()
            process.wait()
            running.remove(item)
            error = process.stderr.read().decode("utf-8", "replace")[-2000:]
            process.stderr.close()
            try:
                data = json.loads(result_file.read_text())
            except (OSError, ValueError):
                _finish(out, student, key, None, notes + [error.strip()],
                        "error: grading did not finish", show_hidden)
                progress.advance(failed=True)
                continue
            status = "violation" if data["violation"] else "graded"
            files = Path(str(result_file) + ".files")
            if files.is_dir():
                for produced in files.iterdir():
                    target = out / "students" / student.slug / produced.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(produced, target)
            _finish(out, student, key, data, notes, status, show_hidden)
            progress.advance(failed=data["score"] < data["max_score"])


def _finish(out: Path, student: Student, key: str, data, notes, status: str, show_hidden: bool) -> None:
    folder = out / "students" / student.slug
    report = report_from_dict(data) if data else None
    results = (report_module.gradescope_results(report, show_hidden_inputs=show_hidden) if report
               else {"score": 0, "output": status, "tests": []})
    if notes:
        results["output"] = "\n".join(notes + [results.get("output", "")]).strip()
    report_module.write_json_atomically(folder / "results.json", results)
    write_text_atomically(folder / "feedback.md", render_feedback(student, report, notes, status, show_hidden))
    totals = report.part_totals() if report else {}
    state = {"key": key, "id": student.id, "status": status,
             "total": report.score if report else 0.0,
             "parts": {part: total[0] for part, total in totals.items()}}
    report_module.write_json_atomically(folder / "state.json", state)


def report_from_dict(data):
    from grader.runner import CheckResult, Report
    checks = [CheckResult(**check) for check in data["checks"]]
    return Report(data["submission"], checks, data["parts"], 0.0)


def render_feedback(student: Student, report, notes, status: str, show_hidden: bool) -> str:
    lines = [f"# Feedback for {student.id}", ""]
    lines += [f"> {note}" for note in notes]
    if report is None:
        lines += ["", f"**Not graded**: {status}.", ""]
        return "\n".join(lines)
    lines += ["", f"**Total: {report.score:g} / {report.max_score:g}**", ""]
    totals = report.part_totals()
    for part in report.parts:
        lines += [f"## {part}.py: {totals[part][0]:g} / {totals[part][1]:g}", ""]
        for check in (c for c in report.checks if c.part == part):
            mark = "passed" if check.passed else "failed"
            hidden = " (hidden check)" if check.hidden else ""
            lines.append(f"- **{check.name}**: {check.title}{hidden}: {check.score:g}/{check.max_score:g}, {mark}")
            if not check.passed:
                body = check.output if (show_hidden or not check.hidden) else (
                    check.summary + "\n(a hidden check: its inputs are not shown)")
                lines += ["", "  ```", *("  " + line for line in body.splitlines()), "  ```"]
        lines.append("")
    return "\n".join(lines)


def write_gradebook(out: Path, students, parts) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "total", *parts, "status"])
    for student in sorted(students, key=lambda s: s.id):
        try:
            state = json.loads((out / "students" / student.slug / "state.json").read_text())
        except (OSError, ValueError):
            writer.writerow([student.id, 0, *(0 for _ in parts), "error: not graded"])
            continue
        writer.writerow([student.id, f"{state['total']:g}",
                         *(f"{state['parts'].get(part, 0):g}" for part in parts), state["status"]])
    write_text_atomically(out / "gradebook.csv", buffer.getvalue())


class Progress:
    """One line on stderr: students done, failures so far, time left."""

    def __init__(self, total: int, skipped: int):
        self.total, self.done, self.failed = total, skipped, 0
        self.fresh, self.started = 0, time.monotonic()
        self.tty = sys.stderr.isatty()
        if skipped:
            print(f"{skipped} student(s) unchanged since the last run: skipped", file=sys.stderr)

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.fresh += 1
        self.failed += int(failed)
        elapsed = time.monotonic() - self.started
        left = elapsed / self.fresh * (self.total - self.done)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} students, "
                f"{self.failed} below full marks, {_clock(elapsed)} elapsed, ~{_clock(left)} left")
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty and self.fresh:
            print(file=sys.stderr)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def grade_one(argv: list[str]) -> int:
    """The per-student process: grades a clean folder, writes the report as JSON."""
    parser = argparse.ArgumentParser(prog="grader.batch")
    parser.add_argument("folder")
    parser.add_argument("result")
    parser.add_argument("--part", action="append", dest="parts")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=CALL_TIMEOUT)
    args = parser.parse_args(argv)
    import torch

    from grader.runner import grade
    from grader.worker.client import Limits

    torch.set_num_threads(1)
    report = grade(args.folder, parts=args.parts, include_hidden=True, call_timeout=args.timeout,
                   limits=Limits(hide=tuple(args.hide)))
    data = {"submission": report.submission, "parts": report.parts, "score": report.score,
            "max_score": report.max_score, "violation": any(c.violation for c in report.checks),
            "checks": [{key: value for key, value in vars(check).items() if key != "artifacts"}
                       for check in report.checks]}
    for name, blob in report.artifacts().items():
        Path(args.result + ".files").mkdir(exist_ok=True)
        (Path(args.result + ".files") / name).write_bytes(blob)
    report_module.write_json_atomically(args.result, data)
    return 0


if __name__ == "__main__":
    sys.exit(grade_one(sys.argv[1:]))
