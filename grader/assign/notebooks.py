"""``grader notebooks``: the lesson notebooks, one per part of the rubric, built with nbformat.

Each notebook is: what the part is and why (the lesson, with figures drawn when the notebook
runs), the part's whole file in one ``%%part_file <part>.py`` cell (after the ``%load_ext`` that defines it) (taken from
``solutions/`` with its solution regions), cells that use the student's code (figures), and
one graded test cell per rubric check (``assert_check(id)``, worth the check's points; a
hidden check's call sits in nbgrader's ``### BEGIN HIDDEN TESTS`` region).

Two versions come out of it:

- the *source* version (solutions and hidden tests in it): an nbgrader course's ``source/``
  notebook (:mod:`grader.assign.nbgrader_course`); instructors only;
- the *student* version, what nbgrader's ``generate_assignment`` makes of the source: the
  solution regions become the stubs of ``assignments/`` (:mod:`grader.assign.stubs`), the
  hidden tests vanish. ``notebooks/`` holds it and the student release ships it.

After editing a lesson, the solutions or the rubric, ``grader notebooks`` rewrites
``notebooks/`` (a test fails while it is stale).

The lesson files
----------------
The parts are the rubric's ``[parts]``, in order; in language ``L`` (``en``, the default, or
``zh``: ``grader notebooks --lang zh``) part ``p`` needs ``lessons/L/p.md`` (a missing one is an
error). The frame around every lesson (the heading, "how this notebook works", the check
cells' texts) is ``lessons/L/_notebook.toml``. The lessons of both languages have the same
cells and the same code (comments and printed strings aside); each is written in its own
language, not translated word for word. A lesson file::

    +++
    title = "Convolution"
    names = "`conv_output_size`, ..."
    needs = "conv.py, ..."        # optional: the earlier files this part imports
    terms = ["convolution", ...]  # optional: its key terms, keys of lessons/glossary.toml
    summary = \"\"\"...\"\"\"
    +++
    <!-- markdown -->
    ...a markdown cell...
    <!-- code -->
    ```python
    ...a code cell: exactly one fenced python block...
    ```
    <!-- your file -->
    <!-- markdown -->
    ...cells after the student's file cell...

TOML front matter between two ``+++`` lines (``title``, ``names``, ``summary``, optionally
``needs`` and ``terms``; nothing else); then a line ``<!-- markdown -->`` or ``<!-- code -->`` starts a
cell, and the line ``<!-- your file -->`` (exactly once) marks where the ``%%part_file`` cell
goes: the cells before it come before the file cell, the others after it. Leading and
trailing blank lines of a cell are dropped. Placeholders ``${name}`` anywhere in the file are
filled when the notebooks are built, from the grader's own constants (:func:`lesson_values`),
so that a number a lesson quotes cannot drift from the number the grader uses. Cells before
the file cell use NumPy and matplotlib only; cells after it may import the student's files
(``fresh_import``).

The frame's ``${terms}`` (where a language's frame has it) lists the lesson's terms from the
glossary, in the notebook's language with the other language's name beside it: the Chinese
frame has it, so that a student meets each term under both names.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader import config
from grader import rubric as rubric_module
from grader.errors import UsageError
from grader.i18n import _
from grader.assign import docstrings, markers, outputs, texts
from grader.assign.stubs import strip_solutions

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
FRONT_KEYS = {"title", "names", "summary", "needs", "terms"}
MARKDOWN, CODE, YOUR_FILE = "<!-- markdown -->", "<!-- code -->", "<!-- your file -->"
FRAME = "_notebook.toml"


class InstructorOnly(RuntimeError):
    """Building the notebooks needs the kit's solutions/, which the student release lacks."""


class LessonError(ValueError):
    """A lesson file is missing or does not follow the format; the message names it."""


@dataclass(frozen=True)
class Lesson:
    title: str
    names: str
    summary: str
    needs: str | None
    before: tuple  # (kind, text) cells before the file cell
    after: tuple   # (kind, text) cells after it
    terms: tuple = ()  # keys of the glossary


def parts(rubric=None) -> list[str]:
    return list((rubric or rubric_module.load()).parts)


def notebook_name(part: str, rubric=None) -> str:
    return f"{parts(rubric).index(part) + 1:02d}_{part}.ipynb"


# -- the lesson files ------------------------------------------------------------------------
TIME_UNITS = {"en": ("minutes", "s"), "zh": ("分钟", "秒")}


@functools.lru_cache(maxsize=None)
def lesson_values(language: str = texts.LANGUAGE) -> dict:
    """The values of the lessons' placeholders: the grader's own constants and settings, so
    that a number a lesson quotes is the number the grader uses."""
    from grader.checks import networks, train

    counts = dict(networks.PARAMETER_COUNTS)
    values = {f"{name.lower()}_parameters": f"{count:,}" for name, count in counts.items()}
    settings = rubric_module.load().settings
    limit = settings.train_timeout
    minutes, (minute_word, second_word) = limit / 60, TIME_UNITS[language]
    values.update(
        parameter_counts=repr(counts),
        full_marks=f"{settings.full_marks_accuracy:.0%}",
        full_marks_accuracy=repr(settings.full_marks_accuracy),
        zero_marks=f"{settings.zero_marks_accuracy:.0%}",
        overfit_digits=str(train.OVERFIT_DIGITS), overfit_steps=str(train.OVERFIT_STEPS),
        overfit_lr=f"{train.OVERFIT_LR:g}", overfit_accuracy=f"{train.OVERFIT_ACCURACY:.0%}",
        train_time_limit=(f"{minutes:g} {minute_word}" if minutes == int(minutes)
                          else f"{limit:g} {second_word}"))
    return values


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def parse_lesson(text: str, source: str = "<lesson>") -> Lesson:
    """A lesson file's text (placeholders filled) as a :class:`Lesson`."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "+++" or "+++" not in (line.strip() for line in lines[1:]):
        raise LessonError(f"{source}:1: " + _("a lesson starts with TOML front matter between two +++ lines"))
    close = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    try:
        front = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError as error:
        raise LessonError(f"{source}: " + _("front matter: {error}").format(error=error)) from None
    missing = {"title", "names", "summary"} - set(front)
    unknown = set(front) - FRONT_KEYS
    if missing or unknown:
        problems = ([_("missing {keys}").format(keys=_(", ").join(sorted(missing)))] if missing else []) \
            + ([_("unknown {keys}").format(keys=_(", ").join(sorted(unknown)))] if unknown else [])
        raise LessonError(f"{source}: " + _("front matter: {error}").format(error=_("; ").join(problems)))
    terms = front.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(term, str) for term in terms):
        raise LessonError(f"{source}: " + _("front matter: {error}").format(
            error=_("terms is a list of the glossary's keys")))
    unknown_terms = [term for term in terms if term not in texts.glossary()]
    if unknown_terms:
        raise LessonError(f"{source}: " + _("front matter: {error}").format(
            error=_("terms {terms} are not in {glossary}").format(terms=_(", ").join(unknown_terms),
                                                                  glossary=texts.GLOSSARY.name)))
    sections = {False: [], True: []}  # after the file cell?
    after, cell = False, None  # cell: (kind, first line number, lines)
    seen_file = None

    def finish():
        if cell is None:
            return
        kind, start, body = cell
        body = _trim(body)
        if not body:
            raise LessonError(f"{source}:{start}: " + _("an empty {kind} cell").format(kind=kind))
        if kind == "code":
            if body[0].strip() != "```python" or body[-1].strip() != "```" or len(body) < 3 \
                    or any(line.lstrip().startswith("```") for line in body[1:-1]):
                raise LessonError(f"{source}:{start}: "
                                  + _("a code cell holds exactly one ```python block and nothing else"))
            body = _trim(body[1:-1])
        sections[after].append((kind, "\n".join(body)))

    for number, line in enumerate(lines[close + 1:], start=close + 2):
        marker = line.strip()
        if marker in (MARKDOWN, CODE, YOUR_FILE):
            finish()
            cell = None
            if marker == YOUR_FILE:
                if seen_file is not None:
                    raise LessonError(f"{source}:{number}: " + _("a second {marker} (the first is at line "
                                                                   "{line})").format(marker=YOUR_FILE, line=seen_file))
                seen_file, after = number, True
            else:
                cell = ("markdown" if marker == MARKDOWN else "code", number, [])
        elif cell is not None:
            cell[2].append(line)
        elif line.strip():
            raise LessonError(f"{source}:{number}: " + _("text outside a cell (start a cell with {markdown} "
                                                         "or {code})").format(markdown=MARKDOWN, code=CODE))
    finish()
    if seen_file is None:
        raise LessonError(f"{source}: " + _("no {marker} line: where does the student's file go?").format(
            marker=YOUR_FILE))
    return Lesson(front["title"], front["names"], front["summary"], front.get("needs"),
                  tuple(sections[False]), tuple(sections[True]), tuple(terms))


def load_lesson(part: str, language: str = texts.LANGUAGE) -> Lesson:
    path = texts.lesson_path(f"{part}.md", language)
    if not path.is_file():
        raise LessonError(_("{path} is missing: every part of the rubric needs its lesson ({part} has "
                            "none)").format(path=path, part=part))
    return parse_lesson(texts.fill(texts.read(path), lesson_values(language), str(path)), str(path))


def load_frame(language: str = texts.LANGUAGE) -> dict:
    path = texts.lesson_path(FRAME, language)
    try:
        return tomllib.loads(texts.read(path))
    except tomllib.TOMLDecodeError as error:
        raise LessonError(f"{path}: {error}") from None


# -- building --------------------------------------------------------------------------------
def _cell(kind: str, source: str, nbgrader: dict | None = None):
    import nbformat.v4 as v4

    cell = v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source)
    cell.pop("id", None)  # ids are assigned below, stable across builds
    if nbgrader is not None:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return cell


def _grade_id(part: str, suffix: str) -> str:
    return f"{part}-{suffix}".replace(".", "-").replace("_", "-")


def _terms(lesson: Lesson, frame: dict, language: str) -> str:
    """The lesson's terms, each in ``language`` with its name in the other language(s)."""
    if not lesson.terms or "terms" not in frame:  # a frame without ${terms} lists none
        return ""
    glossary = texts.glossary()
    names = []
    for term in lesson.terms:
        own = glossary[term][language]
        others = [glossary[term][lang] for lang in sorted(glossary[term]) if lang != language
                  and glossary[term][lang].lower() != own.lower()]
        names.append(texts.fill(frame["term"], {"term": own, "other": " / ".join(others)}, FRAME)
                     if others else own)
    return texts.fill(frame["terms"], {"terms": frame["term_separator"].join(names)}, FRAME)


def _intro(part: str, lesson: Lesson, frame: dict, rubric, language: str) -> str:
    needs = "\n\n" + texts.fill(frame["needs"], {"needs": lesson.needs}, FRAME) if lesson.needs else ""
    return texts.fill(frame["intro"].strip("\n"), dict(
        number=parts(rubric).index(part) + 1, count=len(rubric.parts), title=lesson.title,
        summary=lesson.summary, part=part, names=lesson.names, needs=needs,
        terms=_terms(lesson, frame, language)), FRAME)


def _points(points: float, frame: dict) -> str:
    return texts.fill(frame["point" if points == 1 else "points"], {"points": f"{points:g}"}, FRAME)


def _check_cells(part: str, rubric, frame: dict) -> list:
    entries = rubric.select([part], include_hidden=True)
    if not entries:
        return [_cell("markdown", frame["no_checks"].strip("\n"))]
    public_points = sum(e.points for e in entries if not e.hidden)
    hidden_points = sum(e.points for e in entries if e.hidden)
    hidden_note = texts.fill(frame["hidden_note"], {"points": f"{hidden_points:g}"}, FRAME) if hidden_points else ""
    cells = [_cell("markdown", texts.fill(frame["checks"].strip("\n"), dict(
        part=part, points=f"{public_points:g}", hidden_note=hidden_note), FRAME))]
    hidden_number = 0
    for entry in entries:
        points = _points(entry.points, frame)
        call = f'from grader.assign.nbgrader_course import assert_check\nassert_check("{entry.id}")'
        if entry.hidden:
            hidden_number += 1
            grade_id = _grade_id(part, f"hidden-{hidden_number}")
            comment = texts.fill(frame["hidden_test"], {"points": points}, FRAME)
            source = f"{comment}\n{markers.HIDDEN_TESTS.begin}\n{call}\n{markers.HIDDEN_TESTS.end}"
        else:
            grade_id = _grade_id(part, entry.id.partition(".")[2])
            comment = texts.fill(frame["public_test"], {"name": entry.name, "points": points}, FRAME)
            source = f"{comment}\n{call}"
        cells.append(_cell("code", source, {"grade": True, "solution": False, "locked": True,
                                            "task": False, "grade_id": grade_id,
                                            "points": entry.points}))
    cells.append(_cell("markdown", frame["report"]))
    cells.append(_cell("code", f'from grader.assign.nbgrader_course import show_report\nshow_report("{part}")'))
    return cells


def source_notebook(part: str, solutions_dir=None, rubric=None, language: str = texts.LANGUAGE):
    """The nbgrader *source* notebook of ``part`` in ``language``: solution regions and hidden
    tests in it."""
    import nbformat.v4 as v4

    rubric = rubric or rubric_module.load()
    rubric.check_parts([part])
    solution_file = Path(solutions_dir or config.SOLUTIONS) / rubric.parts[part]
    if not solution_file.is_file():
        raise InstructorOnly(_("{path} not found: the notebooks are built from the kit's solutions/, which "
                               "only the instructors' copy of the kit holds").format(path=solution_file))
    lesson, frame = load_lesson(part, language), load_frame(language)
    solution = solution_file.read_text()
    markers.regions(solution, str(solution_file))  # a file with broken markers builds nothing
    solution = docstrings.translate(solution, part, language)
    cells = [_cell("markdown", _intro(part, lesson, frame, rubric, language))]
    if frame.get("setup", "").strip():
        cells.append(_cell("code", frame["setup"].strip("\n")))
    cells += [_cell(kind, text) for kind, text in lesson.before]
    cells.append(_cell("markdown", texts.fill(frame["your_code"].strip("\n"), {"part": part}, FRAME)))
    cells.append(_cell("code", "%load_ext grader.assign.nbgrader_course"))
    cells.append(_cell("code", f"%%part_file {rubric.parts[part]}\n" + solution,
                       {"grade": False, "solution": True, "locked": False, "task": False,
                        "grade_id": _grade_id(part, "file")}))
    cells += [_cell(kind, text) for kind, text in lesson.after]
    cells += _check_cells(part, rubric, frame)
    for number, cell in enumerate(cells):
        cell["id"] = f"{part}-{number:02d}"
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def without_hidden_tests(source: str, filename: str = "<cell>") -> str:
    """A test cell as nbgrader releases it: its hidden-test regions removed, markers included."""
    return markers.replace_regions(source, lambda region: "", filename, markers.HIDDEN_TESTS)


def student_version(notebook, name: str = "<notebook>"):
    """What nbgrader's ``generate_assignment`` makes of a source notebook (see the course's
    configuration): stubs for the solution regions, hidden tests removed, no outputs."""
    notebook = copy.deepcopy(notebook)
    for number, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        where = f"{name} cell {number}"
        if cell.cell_type == "code" and meta.get("solution"):
            cell.source = strip_solutions(cell.source, where)
        if meta.get("grade"):
            cell.source = without_hidden_tests(cell.source, where)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def student_notebook(part: str, solutions_dir=None, rubric=None, language: str = texts.LANGUAGE):
    return student_version(source_notebook(part, solutions_dir, rubric, language), notebook_name(part, rubric))


def student_notebook_texts(solutions_dir=None, rubric=None, language: str = texts.LANGUAGE) -> dict:
    """File name -> the text of the student notebook, for every part of the rubric."""
    import nbformat

    rubric = rubric or rubric_module.load()
    return {notebook_name(part, rubric):
            nbformat.writes(student_notebook(part, solutions_dir, rubric, language)) + "\n"
            for part in rubric.parts}


def write_student_notebooks(out_dir=config.NOTEBOOKS, solutions_dir=None, rubric=None,
                            language: str = texts.LANGUAGE) -> list[Path]:
    out_dir = Path(out_dir)
    built = student_notebook_texts(solutions_dir, rubric, language)  # all built before any is written
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        (out_dir / name).write_text(text)
    return [out_dir / name for name in built]


def run(args) -> int:
    """``grader notebooks [--out DIR] [--lang en|zh]``: notebooks/ holds the English ones, so
    another language needs its own ``--out``."""
    config.require_instructor_kit("notebooks")
    language = getattr(args, "lang", None) or texts.LANGUAGE
    if language != texts.LANGUAGE and not getattr(args, "out", None):
        raise UsageError(_("--lang {language} needs --out DIR ({folder}/ holds the {default} notebooks)").format(
            language=language, folder=config.NOTEBOOKS.name, default=texts.LANGUAGE)) from None
    out = Path(getattr(args, "out", None) or config.NOTEBOOKS)
    outputs.folder(out)
    try:
        written = write_student_notebooks(out, language=language)
    except (InstructorOnly, LessonError, texts.TextError, markers.MarkerError) as error:
        raise UsageError(str(error)) from None
    print(_("wrote {count} notebook(s) to {out}/").format(count=len(written), out=out))
    return 0
