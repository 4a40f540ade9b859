"""``grader batch``: grades a whole class, resumably, one process per student, on this machine
or on a Dask cluster.

Layout of ``--out``::

    gradebook.csv                  one row per student, sorted by id
    report.html, checks.csv,       the class report (grader.batch.report): rebuilt by
    signatures.csv                 `grader report OUT` without grading
    students/<id>/results.json     Gradescope's format
    students/<id>/feedback.md      what the student reads
    students/<id>/state.json       written last: the key (submission + grader) it was graded with

A student is graded again only when its submission or the grader changed, or when the grader
itself failed on it; every file is replaced atomically, and the gradebook is rebuilt from the
state files, so a batch killed half-way and run again ends with the same gradebook as one
that ran through, whatever ran the tasks.

The batch speaks one language (``--lang``, else GRADER_LANG, else the rubric's): the students'
feedback, the class report and the lines it prints. The files programs read keep their shape in
every language: the gradebook's columns and status words (only a hand-in problem's own words,
after ``error: ``, follow the language), results.json's keys and statuses, the report's CSV files.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import grader
from grader import atomic, config, i18n
from grader import rubric as rubric_module
from grader.batch.grading import decode_artifacts
from grader.batch.students import Student, discover
from grader.batch.unpack import HandInError, clear, collect
from grader.errors import EXIT_GRADER_ERROR, EXIT_OK, UsageError
from grader.i18n import _
from grader.results import GRADER_ERROR, NotGraded, Report

__all__ = ["run", "discover", "Student", "collect", "HandInError"]

REGRADED_STATUSES = (GRADER_ERROR,)


def grader_fingerprint() -> str:
    """Changes whenever the grader's code, rubric or pinned libraries change."""
    digest = hashlib.sha256()
    package = Path(grader.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    from grader.results import versions

    digest.update(json.dumps(versions(), sort_keys=True).encode())
    return digest.hexdigest()


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_folders(root: Path, out: Path) -> list[Student]:
    """The class's students, or a :class:`UsageError` saying what is wrong with the folders."""
    if not root.is_dir():
        raise UsageError(_("{root} is not a folder of submissions").format(root=root))
    if out.exists() and not out.is_dir():
        raise UsageError(_("--out {out} is a file: name a folder for the gradebook and feedback").format(out=out))
    root_real, out_real = root.resolve(), out.resolve()
    if out_real == root_real or root_real in out_real.parents:
        raise UsageError(_("--out {out} is inside the submissions folder {root}: the next run would grade it "
                           "as a student; pick a folder outside it").format(out=out, root=root))
    students = [s for s in discover(root) if s.source.resolve() not in (out_real, *out_real.parents)]
    if not students:
        raise UsageError(_("{root} holds no submissions (expected one folder or .zip per student)").format(root=root))
    return students


def check_parts_kept(out: Path, parts, rubric) -> None:
    """Refuses a run into an ``--out`` that holds grades of parts this run leaves out: every
    student would be graded again without them, and their grades would be gone."""
    given = set()
    for state in sorted((out / "students").glob("*/state.json")):
        try:
            given.update(json.loads(state.read_text()).get("parts", {}))
        except (OSError, ValueError, AttributeError):
            continue
    dropped = [part for part in rubric.parts if part in given and part not in parts]
    if dropped:
        raise UsageError(_("--out {out} holds the grades of {dropped}, which this run would replace by those "
                           "of {parts} alone: name another --out, or add --part {first}").format(
            out=out, dropped=_(", ").join(dropped), parts=_(", ").join(parts), first=dropped[0]))


def run(args) -> int:
    root, out = Path(args.submissions), Path(args.out)
    rubric = rubric_module.load()
    parts = args.parts or list(rubric.parts)
    rubric.check_parts(parts)
    students = check_folders(root, out)
    check_parts_kept(out, parts, rubric)
    warning = unconfined_warning(args)
    if warning:
        print(warning, file=sys.stderr)
    # the feedback's language, in the settings so that a change of language regrades
    language = i18n.resolve(getattr(args, "lang", None), rubric.settings.language)
    i18n.set_language(language)
    settings = rubric.settings.replace(language=language)
    if args.timeout is not None:
        settings = settings.replace(call_timeout=args.timeout)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = (grader_fingerprint() + ":" + ",".join(parts) + f":{bool(args.show_hidden_inputs)}"
                   + json.dumps(dataclasses.asdict(settings), sort_keys=True))
    staging = Path(tempfile.mkdtemp(prefix="grader-batch-"))
    try:
        pending = _prepare(students, staging, out, fingerprint, settings)
        progress = Progress(len(students), len(students) - len(pending))
        jobs = {}
        for student, folder, notes, key in pending:
            if folder is None:
                _finish(out, student, key, None, notes, "error: " + notes[0], args.show_hidden_inputs)
                progress.advance(failed=True)
                continue
            files = {path.name: path.read_bytes() for path in sorted(folder.glob("*.py"))}
            jobs[student.slug] = (student, files, notes, key)
        hide = [str(root.resolve()), str(out.resolve()), str(staging)]
        executor = _executor(args)
        task = dict(parts=parts, settings=dataclasses.asdict(settings), hide=hide,
                    time_limit=settings.student_time_limit, language=language)
        with executor:
            for slug, outcome in executor.run({slug: job[1] for slug, job in jobs.items()}, task):
                student, _files, notes, key = jobs[slug]
                if isinstance(outcome, Exception):
                    _finish(out, student, key, None, notes + [str(outcome)],
                            "error: " + str(outcome).splitlines()[0][:200], args.show_hidden_inputs)
                    progress.advance(failed=True)
                    continue
                report = Report.from_dict(outcome["report"])
                for name, blob in decode_artifacts(outcome).items():
                    atomic.write_bytes(out / "students" / student.slug / name, blob)
                _finish(out, student, key, report, notes, report.status, args.show_hidden_inputs)
                progress.advance(failed=report.score < report.max_score)
        progress.finish()
    finally:
        clear(staging)
    errors = write_gradebook(out, students, parts)
    print(_("gradebook: {path}").format(path=out / "gradebook.csv"))
    write_class_report(out, args.show_hidden_inputs)
    if errors:
        print(_("grader: the grader itself failed on {count} student(s) (status '{status}'): fix the cause "
                "and run the same command again to regrade them").format(count=errors, status=GRADER_ERROR),
              file=sys.stderr)
        return EXIT_GRADER_ERROR
    return EXIT_OK


def unconfined_warning(args) -> str | None:
    """What the instructors must know before grading here without the sandbox's confinement (on
    a Dask cluster the workers' machines confine, or not, by themselves)."""
    from grader.worker.sandbox import unconfined

    reason = None if getattr(args, "scheduler", None) else unconfined()
    if reason is None:
        return None
    return (f"grader: warning: {reason}, so the students' code runs as this user and sees every "
            "folder: it can read solutions/ and the other submissions, write into --out, and "
            "import torch past the import blocker. Grade official results as root on Linux "
            "(README: the worker's limits).")


def write_class_report(out: Path, show_hidden: bool) -> None:
    """The class report beside the gradebook, in the batch's language; a report that cannot be
    written costs no grade (the gradebook is written): one line saying why, and `grader report`
    to try again."""
    from grader.batch import report

    try:
        print(_("class report: {path}").format(path=report.write(out, show_hidden)["report.html"]))
    except (OSError, UsageError) as error:
        print(_("grader: the class report was not written ({error}); the gradebook was: fix the cause and "
                "run `grader report {out}`").format(error=error, out=out), file=sys.stderr)


def _executor(args):
    if getattr(args, "scheduler", None):
        from grader.batch.cluster import DaskExecutor

        return DaskExecutor(args.scheduler)
    from grader.batch.local import LocalExecutor

    return LocalExecutor(args.jobs)


def _prepare(students, staging: Path, out: Path, fingerprint: str, settings=config.DEFAULTS) -> list:
    """Unpacks every hand-in; returns those whose state is missing, stale or a grader error."""
    pending = []
    for student in students:
        folder = staging / student.slug
        try:
            notes = collect(student.source, folder, settings)
            key = hashlib.sha256((folder_digest(folder) + fingerprint).encode()).hexdigest()
        except HandInError as error:
            notes, key = [str(error)], hashlib.sha256(
                (f"error:{error}" + fingerprint).encode()).hexdigest()
            folder = None
        state_file = out / "students" / student.slug / "state.json"
        try:
            state = json.loads(state_file.read_text())
            if state.get("key") == key and state.get("status") not in REGRADED_STATUSES:
                continue
        except (OSError, ValueError, AttributeError):
            pass
        pending.append((student, folder, notes, key))
    return pending


def _finish(out: Path, student: Student, key: str, report: Report | None, notes, status: str,
            show_hidden: bool) -> None:
    folder = out / "students" / student.slug
    if report is not None:
        results = report.to_gradescope(show_hidden_inputs=show_hidden, notes=notes)
        feedback = report.render_markdown(_("Feedback for {student}").format(student=student.id), notes,
                                          show_hidden)
        fields = report.gradebook_fields()
    else:
        not_graded = NotGraded(status, list(notes), seconds=0.0)
        results = not_graded.to_gradescope()
        feedback = not_graded.render_markdown(_("Feedback for {student}").format(student=student.id))
        fields = not_graded.gradebook_fields()
    atomic.write_json(folder / "results.json", results)
    atomic.write_text(folder / "feedback.md", feedback)
    atomic.write_json(folder / "state.json", {"key": key, "id": student.id, **fields})


def write_gradebook(out: Path, students, parts) -> int:
    """Rebuilds gradebook.csv from the state files; returns how many rows are grader errors."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "total", *parts, "status"])
    errors = 0
    for student in sorted(students, key=lambda s: s.id):
        try:
            state = json.loads((out / "students" / student.slug / "state.json").read_text())
        except (OSError, ValueError):
            writer.writerow([student.id, 0, *(0 for part in parts), "error: not graded"])
            continue
        errors += state["status"] == GRADER_ERROR
        writer.writerow([student.id, f"{state['total']:g}",
                         *(f"{state['parts'].get(part, 0):g}" for part in parts), state["status"]])
    atomic.write_text(out / "gradebook.csv", buffer.getvalue())
    return errors


class Progress:
    """One line on stderr: students done, failures so far, time left (in the batch's language)."""

    def __init__(self, total: int, skipped: int):
        self.total, self.done, self.failed = total, skipped, 0
        self.fresh, self.started = 0, time.monotonic()
        self.tty = sys.stderr.isatty()
        if skipped:
            print(_("{count} student(s) unchanged since the last run: skipped").format(count=skipped),
                  file=sys.stderr)

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.fresh += 1
        self.failed += int(failed)
        elapsed = time.monotonic() - self.started
        left = elapsed / self.fresh * (self.total - self.done)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = f"[{'#' * filled}{'.' * (width - filled)}] " + _(
            "{done}/{total} students, {failed} below full marks, {elapsed} elapsed, ~{left} left").format(
                done=self.done, total=self.total, failed=self.failed, elapsed=_clock(elapsed), left=_clock(left))
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty and self.fresh:
            print(file=sys.stderr)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"

