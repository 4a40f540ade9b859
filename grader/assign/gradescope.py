"""Gradescope: ``grader gradescope --out FILE [--lang en|zh]`` builds the autograder zip; inside Gradescope,
``grader autograde`` (``python -m grader autograde``) grades one submission.

The zip (Gradescope unpacks it into ``/autograder/source``)::

    setup.sh           run once when Gradescope builds the image: a Python >= 3.11 virtual
                       environment in /autograder/venv with this kit installed (editable, so
                       that the grader hides its own folder from the students' code)
    run_autograder     run for every submission: grades it, writes results.json
    pyproject.toml     the grader's dependencies (no notebooks, no nbgrader, no pytest)
    grader/            the grader WITH its hidden checks
    datasets/          the digits of the training part
    solutions/         the reference files, for official grading: a part runs with the
                       reference file in place of a used file that fails its own checks
                       (readable by root only, and hidden from the students' code)

and no solution code anywhere else (:func:`grader.assign.leaks.member_leaks` before writing). The scripts
are ``templates/setup.sh`` and ``templates/run_autograder``. With ``--lang zh`` the zip's
``grader/rubric.toml`` names Chinese as its language, so that the feedback speaks it.

``run_autograder`` (and :func:`autograde`) follow Gradescope's layout under a root folder,
``$AUTOGRADER_ROOT`` (default ``/autograder``): the submission's ``.py`` files are read from
``submission/`` (at its top level or in one folder inside it, as ``grader batch`` reads a
hand-in), graded with the public and the hidden checks, and ``results/results.json`` is
written in Gradescope's format (``score``, ``execution_time``, ``output`` and one test per
check: ``name``, ``score``, ``max_score``, ``status``, ``output``, ``visibility`` -- hidden
checks are ``after_published`` and never show their inputs -- and ``tags``). Whatever
happens, a results.json is written: a hand-in that cannot be graded scores 0 with a message
that says why. ``$AUTOGRADER_PYTHON`` names the Python to run (default the venv's);
``$AUTOGRADER_PARTS`` (space-separated) grades only those parts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from grader import config
from grader.errors import UsageError
from grader.i18n import _
from grader.assign import leaks, outputs, texts

DEFAULT_ROOT = "/autograder"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class GradescopeError(RuntimeError):
    pass


def run(args) -> int:
    """``grader gradescope --out FILE``."""
    config.require_instructor_kit("gradescope")
    try:
        out = build_zip(Path(args.out), getattr(args, "lang", None) or texts.LANGUAGE)
    except (GradescopeError, texts.TextError, ValueError) as error:
        raise UsageError(str(error)) from None
    with zipfile.ZipFile(out) as archive:
        count = len(archive.namelist())
    print(_("Gradescope autograder written to {out} ({count} files, hidden checks included, no "
            "solutions). Upload it as the assignment's autograder (Ubuntu base image).").format(out=out, count=count))
    return 0


# -- the zip --------------------------------------------------------------------------------
def autograder_pyproject() -> str:
    from grader.assign import release

    return release.derived_pyproject(
        "cnn-exercise-kit-autograder",
        "The CNN exercise kit's grader, hidden checks included, for Gradescope")


def zip_members(language: str = texts.LANGUAGE) -> dict:
    """Archive name -> (bytes, mode) of everything the autograder zip holds."""
    from grader.assign.release import DATA_FILES, rubric_with_language

    texts.check_language(language)
    members = {
        "setup.sh": (texts.template("setup.sh", torch_index=TORCH_CPU_INDEX).encode(), 0o755),
        "run_autograder": (texts.template("run_autograder").encode(), 0o755),
        "pyproject.toml": (autograder_pyproject().encode(), 0o644),
    }
    for path in sorted(config.PACKAGE.rglob("*")):
        relative = path.relative_to(config.ROOT)
        if (not path.is_file() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo")
                or any(part.startswith(".") for part in relative.parts)):
            continue
        members[relative.as_posix()] = (path.read_bytes(), 0o644)
    if language != texts.LANGUAGE:
        rubric = rubric_with_language(config.RUBRIC_FILE.read_text(encoding="utf-8"), language)
        members[config.RUBRIC_FILE.relative_to(config.ROOT).as_posix()] = (rubric.encode(), 0o644)
    # The reference files: official grading stands one in for a student's file that fails its
    # own checks, so that a bug costs points only in its own part. The worker never sees them
    # (it runs as a user of its own, and the source folder is hidden from it).
    for path in sorted(config.SOLUTIONS.glob("*.py")):
        members[f"solutions/{path.name}"] = (path.read_bytes(), 0o600)
    for name in DATA_FILES:
        path = config.ROOT / "datasets" / name
        if not path.is_file():
            raise GradescopeError(_("{path} is missing").format(path=path))
        members[f"datasets/{name}"] = (path.read_bytes(), 0o644)
    return members


def _is_autograder(path: Path) -> bool:
    """Whether ``path`` is a zip that this command wrote (which a new build may replace)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "run_autograder" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def build_zip(out: Path, language: str = texts.LANGUAGE) -> Path:
    out = outputs.file(out)
    if out.exists() and not _is_autograder(out):
        raise GradescopeError(_("{out} exists and is not an earlier autograder zip: pick a new name").format(out=out))
    members = zip_members(language)
    problems = leaks.member_leaks({name: member for name, member in members.items()
                                   if not name.startswith("solutions/")})
    if problems:
        raise GradescopeError(_("the autograder would hold solution code:") + "\n  " + "\n  ".join(problems[:20]))
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, (data, mode) in sorted(members.items()):
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return out


# -- inside Gradescope --------------------------------------------------------------------
def autograde(root, parts=None) -> dict:
    """Grades ``root/submission`` and writes ``root/results/results.json``; returns its data."""
    root = Path(root)
    submission, results = root / "submission", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    from grader import i18n

    try:
        with i18n.speaking_as_installed():  # a zh zip says zh
            data = _grade_submission(submission, results, parts)
    except Exception:  # noqa: BLE001 - whatever happens, Gradescope gets a results.json
        traceback.print_exc()  # stdout and stderr reach the instructors only
        data = _no_grade(_("The autograder failed on this submission (an error in the grader, not in "
                           "your code). Please tell the course staff."))
    data.setdefault("execution_time", round(time.perf_counter() - started, 3))
    from grader import atomic

    atomic.write_json(results / "results.json", data)
    return data


def _no_grade(message: str) -> dict:
    from grader.results import NotGraded

    return NotGraded(message).to_gradescope()


def _grade_submission(submission: Path, results: Path, parts) -> dict:
    from grader.batch.unpack import HandInError, collect
    from grader.runner import grade

    if not submission.is_dir():
        return _no_grade(_("No submission was found."))
    work = Path(tempfile.mkdtemp(prefix="gradescope-submission-"))
    try:
        try:
            notes = collect(submission, work)
        except HandInError as error:
            return _no_grade(_("Your submission could not be graded: {error}. Upload your .py files "
                               "(conv.py, pooling.py, ...), at the top level or in one folder, or as a "
                               ".zip.").format(error=error))
        report = grade(work, parts=parts, include_hidden=True,
                       hide=(str(submission.resolve()), str(results.resolve())), named_by_name=True)
        print(report.render_text(show_hidden_inputs=True))  # the instructors' log
        found = sorted(path.name for path in work.glob("*.py"))
        return report.to_gradescope(notes=[_("Files graded: {files}.").format(files=_(", ").join(found)), *notes])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def autograde_command(args) -> int:
    """``grader autograde [--root DIR] [--part P ...]``: what run_autograder calls inside
    Gradescope. The root defaults to ``$AUTOGRADER_ROOT`` (else /autograder), the parts to
    ``$AUTOGRADER_PARTS`` (space-separated; else all)."""
    root = Path(getattr(args, "root", None) or os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT))
    parts = getattr(args, "parts", None) or os.environ.get("AUTOGRADER_PARTS", "").split() or None
    data = autograde(root, parts)
    print(_("score {score}: results written to {path}").format(score=data.get("score"),
                                                               path=root / "results" / "results.json"))
    return 0
