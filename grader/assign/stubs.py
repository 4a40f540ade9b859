"""``grader stubs``: the student stubs of ``assignments/``, generated from ``solutions/``.

Solution code sits between nbgrader's markers ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(:mod:`grader.assign.markers`). An indented region (a function body) becomes
``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as nbgrader does; a region at
column 0 (a private helper of the solution) is removed entirely. The exercise files are the
rubric's ``[parts]``.
"""

from __future__ import annotations

from pathlib import Path

from grader import config
from grader import rubric as rubric_module
from grader.errors import UsageError
from grader.i18n import _
from grader.assign import docstrings, markers, outputs, texts


def _stub_region(region: markers.Region) -> str:
    if not region.indent:
        return ""
    return f"{region.indent}# YOUR CODE HERE\n{region.indent}raise NotImplementedError()\n"


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """The student's version of a solution file (a :class:`markers.MarkerError` if its markers
    do not pair up)."""
    return markers.even_blank_lines(markers.replace_regions(source, _stub_region, filename))


def exercise_files(rubric=None) -> tuple:
    """The exercise files, in the rubric's order."""
    return tuple((rubric or rubric_module.load()).parts.values())


def stub_sources(solutions_dir: Path = config.SOLUTIONS, rubric=None,
                 language: str = texts.LANGUAGE) -> dict[str, str]:
    """Stub text per exercise file present in ``solutions_dir``, its docstrings in ``language``."""
    rubric = rubric or rubric_module.load()
    sources = {}
    for part, name in rubric.parts.items():
        path = Path(solutions_dir) / name
        if path.exists():
            sources[name] = strip_solutions(docstrings.translate(path.read_text(), part, language), str(path))
    return sources


def write_stubs(solutions_dir: Path, out_dir: Path, force: bool = False) -> list[Path]:
    """Writes the stubs that differ from ``out_dir``'s files and returns them. A file of
    ``out_dir`` that differs from its stub (edited by hand, or the solution changed) is
    overwritten only with ``force``; otherwise nothing is written and ``FileExistsError`` says
    which files differ."""
    out_dir = Path(out_dir)
    sources = stub_sources(solutions_dir)
    changed = {name: text for name, text in sources.items()
               if not (out_dir / name).exists() or (out_dir / name).read_text() != text}
    differing = sorted(name for name in changed if (out_dir / name).exists())
    if differing and not force:
        raise FileExistsError(_("{files} differ(s) from what {solutions} generates (edited by hand, or the "
                                "solution changed): --force overwrites").format(
            files=_(", ").join(str(out_dir / n) for n in differing), solutions=solutions_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in changed.items():
        (out_dir / name).write_text(text)
    return [out_dir / name for name in changed]


def run(args) -> int:
    """``grader stubs [--solutions DIR] [--out DIR] [--force]``."""
    solutions = Path(args.solutions or config.SOLUTIONS)
    out = Path(args.out or config.ASSIGNMENTS)
    config.require_instructor_kit("stubs")
    if not solutions.is_dir():
        raise UsageError(_("{solutions} is not a folder of solutions").format(solutions=solutions)) from None
    outputs.folder(out)
    try:
        count = len(stub_sources(solutions))
        if not count:
            raise UsageError(_("{solutions} holds none of the exercise files ({files})").format(
                solutions=solutions, files=_(", ").join(exercise_files()))) from None
        written = write_stubs(solutions, out, force=args.force)
    except (FileExistsError, markers.MarkerError) as error:
        raise UsageError(str(error)) from None
    print(_("{written} stub file(s) written to {out}/, {fresh} already up to date").format(
        written=len(written), out=out, fresh=count - len(written)))
    return 0
