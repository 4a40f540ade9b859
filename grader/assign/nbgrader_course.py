"""``grader course``: the lesson notebooks as an nbgrader course; and the helpers that the
notebooks' cells call.

In the notebooks (students and nbgrader alike):

- ``assert_check("conv.conv2d_forward")`` grades the part's file in the notebook's
  folder (the one its ``%%part_file`` cell wrote) with the grader: it prints PASS, or
  raises ``AssertionError`` with the check's message when the check scores nothing, or
  returns the score when it earns part of its points (the cell's value, which nbgrader
  takes as partial credit). A graded test cell of nbgrader is one such call, worth the
  rubric's points (the student's own cells run in the same kernel and can replace this
  function: nbgrader's points are for a notebook that plays fair, the official ones come from
  ``grader batch`` on ``submitted/``, see the README). The whole part is graded once (public and, where the grader has
  them, hidden checks, as ``grader check`` / ``grader batch`` do) and kept until a file
  of the folder changes.
- ``fresh_import("conv")`` (or several names) imports the student's files anew after
  the cell that writes one ran again (for the figures that use the student's code).
- ``show_report("conv")`` prints the grader's report of the part (``show_report("conv",
  "../assignments")``: of the files in ``assignments/``).
- ``%load_ext grader.assign.nbgrader_course`` then ``%%part_file conv.py`` (the file cell):
  writes the cell into ``conv.py`` unless that file holds code the cell did not write.

For instructors (needs the kit's ``solutions/``): ``write_course(out)`` writes an
nbgrader course folder::

    nbgrader_config.py
    source/cnn/01_conv.ipynb ...

one assignment holding every part's notebook in the rubric's order, since a part imports
the files of the parts before it (``modules.py`` imports ``conv.py``, ...). Then, in that
folder, ``nbgrader generate_assignment cnn``, ``nbgrader autograde cnn``, as usual. Command
line: ``grader course --out DIR [--part conv ...] [--lang en|zh]`` (the notebooks' language). The instructors' machine (which
autogrades) needs this kit, hidden checks included; the students' Jupyter needs the student
bundle of ``grader release`` installed, for the check cells and the figures, never the
instructors' kit.

The course's ``nbgrader_config.py`` (``templates/nbgrader_config.py.in``) does two things
that nbgrader needs here: a long cell timeout (a part's first test cell grades the whole
part; training LeNet-5 takes a while), and a preprocessor
(:func:`drop_helper_solutions_preprocessor`) placed before nbgrader's own, so that a
solution region at column 0 (the private helpers of a solution) disappears from the
student's version, as in ``grader stubs``, instead of becoming a module-level
``raise NotImplementedError()`` that would stop the file from importing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
import sys
import tempfile
import warnings
from pathlib import Path

from grader import config, i18n
from grader import rubric as rubric_module
from grader.i18n import _
from grader.errors import UsageError
from grader.assign import markers, outputs, texts

ASSIGNMENT = "cnn"
COURSE_ID = "cnn-from-scratch"

_reports: dict = {}


# -- in the notebooks ------------------------------------------------------------------------
def _folder_key(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            continue
    return digest.hexdigest()


@contextlib.contextmanager
def _quiet_stderr():
    """Nothing reaches the notebook's stderr while grading: nbgrader scores a test cell that
    wrote to stderr zero, and a library's warning must not cost a student points."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _report_key(part: str, folder: Path) -> tuple:
    return part, str(folder), _folder_key(folder)


def part_report(part: str, folder=None):
    """The grader's report of ``part`` for the files in ``folder`` (default: the working
    folder, the notebook's own), graded once per version of the folder's files."""
    return _graded(part, folder)[0]


def _graded(part: str, folder=None) -> tuple:
    """(:func:`part_report`'s report, whether it was graded by this call: it then said so)."""
    from grader.runner import grade

    folder = Path(folder or os.getcwd()).resolve()
    key = _report_key(part, folder)
    graded_now = key not in _reports
    if graded_now:
        file = rubric_module.load().parts.get(part, f"{part}.py")
        print(_("Grading {file} in {folder}").format(file=file, folder=folder))
        with _quiet_stderr():
            _reports[key] = grade(folder, parts=[part], include_hidden=True)
    return _reports[key], graded_now


# -- the file cell: %%part_file conv.py ---------------------------------------------------------
def load_ipython_extension(ipython) -> None:
    """``%load_ext grader.assign.nbgrader_course``: the ``%%part_file`` cell magic."""
    ipython.register_magic_function(part_file, magic_kind="cell")


def part_file(line: str, cell: str) -> None:
    """``%%part_file conv.py [--force]``: writes the cell into that file of the notebook's
    folder, unless the file holds code this cell did not write (a file edited in an editor, or
    copied from assignments/): that is never overwritten without ``--force``. Says so in the
    notebook's language."""
    with i18n.speaking_as_installed():
        _write_part_file(line, cell)


def _write_part_file(line: str, cell: str) -> None:
    words = line.split()
    if not words or any(word.startswith("-") and word != "--force" for word in words):
        print(_("usage: %%part_file FILE.py [--force]"))
        return
    path = Path(words[0]).resolve()
    if path.exists() and not ("--force" in words or _ours(path)):
        if path.read_text(encoding="utf-8", errors="replace") == cell:
            print(_("{path} already holds this cell's code").format(path=path))
            return
        print(_("{path} holds code that this cell did not write (edited in an editor, or copied "
                "from assignments/?): it was NOT overwritten, and the checks below grade it as it is. "
                "To replace it with this cell's code, change the cell's first line to "
                "%%part_file {name} --force and run it again.").format(path=path, name=path.name))
        return
    existed = path.exists()
    path.write_text(cell, encoding="utf-8")
    _record(path).parent.mkdir(parents=True, exist_ok=True)
    _record(path).write_text(hashlib.sha256(cell.encode("utf-8")).hexdigest())
    print((_("Overwriting {path}") if existed else _("Writing {path}")).format(path=path))


def _record(path: Path) -> Path:
    """Where the digest of what the file cell last wrote to ``path`` is kept (the grader's cache)."""
    return config.cache_folder("notebooks") / hashlib.sha256(str(path).encode()).hexdigest()


def _ours(path: Path) -> bool:
    """``path`` holds exactly what a file cell wrote there last."""
    try:
        return _record(path).read_text().strip() == hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return False


def assert_check(check_id: str, folder=None):
    """Runs the grader's check ``check_id`` on the notebook's files: prints PASS when it passes;
    raises ``AssertionError`` with the grader's explanation when it scores nothing; returns the
    score when it earns part of its points (nbgrader then gives that partial credit). The error
    shows in the notebook as the explanation alone, without the grader's call stack."""
    with i18n.speaking_as_installed():
        part = check_id.partition(".")[0]
        try:
            report = part_report(part, folder)
        except ValueError as error:  # a part the installed grader does not know
            raise _failed(_("the grader cannot check {id}: {error}").format(id=check_id, error=error)) from None
        for result in report.checks:
            if result.id == check_id:
                if result.passed or result.score > 0:
                    print(result.notebook_text())
                    return None if result.passed else result.score
                raise _failed(result.notebook_text())
        raise _failed(_("the installed grader has no check {id}").format(id=check_id))


def _failed(explanation: str) -> AssertionError:
    """The AssertionError a check cell raises (nbgrader scores a cell that raises as 0), shown by
    IPython as ``explanation`` alone: its traceback would be the grader's code, twenty lines of
    English above the explanation, which would then be printed twice."""
    error = AssertionError(explanation)
    error._render_traceback_ = explanation.splitlines
    return error


def show_report(part: str, folder=None) -> None:
    """Prints the grader's report of ``part``, as ``grader check --part PART`` does; where it
    grades now, under the line that says what it grades, in place of the report's own header."""
    with i18n.speaking_as_installed():
        folder = Path(folder or os.getcwd()).resolve()
        report, graded_now = _graded(part, folder)
        print(report.render_text(show_hidden_inputs=False, with_header=not graded_now))
        for line in report.save_artifacts(folder):  # the replay's arrays, a learning curve
            print(line)


def fresh_import(*names: str, folder=None):
    """Imports the student's modules ``names`` from the notebook's folder, anew: the exercise
    modules imported before are forgotten, so an edited file is read again. One name gives
    one module, several give a tuple."""
    folder = str(Path(folder or os.getcwd()).resolve())
    config.limit_numpy_threads()  # the lessons' cells run the student's code at the grader's pace
    sys.dont_write_bytecode = True  # a rewritten file must never meet a stale .pyc
    if folder not in sys.path:
        sys.path.insert(0, folder)
    for file_name in rubric_module.load().parts.values():
        sys.modules.pop(Path(file_name).stem, None)
    importlib.invalidate_caches()
    modules = tuple(importlib.import_module(name) for name in names)
    return modules[0] if len(modules) == 1 else modules


# -- nbgrader's side -------------------------------------------------------------------------
def drop_module_level_solutions(source: str, filename: str = "<cell>") -> str:
    """Removes the solution regions that start at column 0 (markers included), leaving the
    indented ones to nbgrader; blank lines are then evened out as ``grader stubs`` does."""
    return markers.even_blank_lines(markers.replace_regions(
        source, lambda region: None if region.indent else "", filename))


_drop_helper_class = None


def drop_helper_solutions_preprocessor():
    """The nbgrader preprocessor that applies :func:`drop_module_level_solutions` to every
    solution cell (built on first use: importing nbgrader takes seconds, and the student kit
    does without it)."""
    global _drop_helper_class
    if _drop_helper_class is None:
        from nbgrader import utils
        from nbgrader.preprocessors import NbGraderPreprocessor

        class DropHelperSolutions(NbGraderPreprocessor):
            """Column-0 solution regions of solution cells vanish from the student version."""

            def preprocess_cell(self, cell, resources, index):
                if cell.cell_type == "code" and utils.is_solution(cell):
                    cell.source = drop_module_level_solutions(cell.source)
                return cell, resources

        DropHelperSolutions.__module__ = __name__
        _drop_helper_class = DropHelperSolutions
    return _drop_helper_class


def configure(c) -> None:
    """Settings of this kit's nbgrader course (called from its ``nbgrader_config.py``)."""
    from nbgrader.converters import GenerateAssignment

    c.Execute.timeout = config.DEFAULTS.notebook_cell_timeout  # nbgrader's 30 s is shorter than a part's grading
    defaults = GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()
    drop = drop_helper_solutions_preprocessor()
    c.GenerateAssignment.preprocessors = [drop] + [p for p in defaults if p is not drop]


def write_course(out, parts=None, assignment: str = ASSIGNMENT, course_id: str = COURSE_ID,
                 solutions_dir=None, language: str = texts.LANGUAGE) -> list[Path]:
    """Writes an nbgrader course folder: ``nbgrader_config.py`` and
    ``source/<assignment>/NN_<part>.ipynb`` for ``parts`` (default: every part of the rubric),
    in ``language``."""
    import nbformat

    from grader.assign import notebooks

    rubric = rubric_module.load()
    # every notebook built before anything is written: a missing lesson writes nothing
    built = {part: notebooks.source_notebook(part, solutions_dir=solutions_dir, rubric=rubric, language=language)
             for part in parts or rubric.parts}
    out = Path(out)
    source = out / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(texts.template("nbgrader_config.py.in", course_id=repr(course_id)))
    written = []
    for part, notebook in built.items():
        path = source / notebooks.notebook_name(part, rubric)
        nbformat.write(notebook, path)
        written.append(path)
    return written


def run(args) -> int:
    """``grader course --out DIR [--part P ...] [--lang en|zh]``."""
    config.require_instructor_kit("course")
    from grader.assign import notebooks

    assignment = getattr(args, "assignment", None) or ASSIGNMENT
    rubric_module.load().check_parts(args.parts)
    outputs.folder(args.out)
    try:
        written = write_course(args.out, args.parts, assignment,
                               language=getattr(args, "lang", None) or texts.LANGUAGE)
    except (notebooks.InstructorOnly, notebooks.LessonError, texts.TextError, markers.MarkerError) as error:
        raise UsageError(str(error)) from None
    print(_("wrote {count} notebook(s) and nbgrader_config.py to {out}/; then, there:").format(
        count=len(written), out=args.out)
          + f"\n  nbgrader generate_assignment {assignment}\n  nbgrader autograde {assignment}")
    return 0
