"""The package's text files, and how their placeholders are filled.

``templates/`` holds the files the builders write out (scripts, a README, a pyproject,
nbgrader's configuration); ``lessons/<language>/`` the lesson notebooks' texts
(:mod:`grader.assign.notebooks`). A placeholder is ``${name}``, a lowercase name in braces,
filled with :class:`string.Template`; every other ``$`` (LaTeX in the lessons, shell variables
in the scripts, ``${ROOT:-/autograder}``) is plain text. A placeholder without a value is an
error naming the file, never left in the output.
"""

from __future__ import annotations

import string
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LESSONS = HERE / "lessons"
LANGUAGE = "en"


class TextError(ValueError):
    """A text file is missing or malformed; the message names it."""


class Fill(string.Template):
    # Only ${lowercase_name} is a placeholder: the three other groups can never match.
    flags = 0
    pattern = r"\$(?:(?P<escaped>(?!))|(?P<named>(?!))|\{(?P<braced>[a-z][a-z0-9_]*)\}|(?P<invalid>(?!)))"


def fill(text: str, values: dict, source: str = "<text>") -> str:
    """``text`` with its ``${name}`` placeholders replaced by ``values[name]``."""
    try:
        return Fill(text).substitute(values)
    except KeyError as error:
        raise TextError(f"{source}: no value for the placeholder ${{{error.args[0]}}}") from None


def placeholders(text: str) -> set[str]:
    """The names of the placeholders in ``text``."""
    return {match.group("braced") for match in Fill.pattern.finditer(text)}


def read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TextError(f"{path} is missing") from None


def template(name: str, /, **values) -> str:
    """The template ``templates/<name>``, filled with ``values``."""
    path = TEMPLATES / name
    return fill(read(path), values, str(path))


def lesson_path(name: str, language: str = LANGUAGE) -> Path:
    return LESSONS / language / name
