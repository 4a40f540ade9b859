"""The package's text files, and how their placeholders are filled.

``templates/`` holds the files the builders write out (scripts, a pyproject, nbgrader's
configuration), and in ``templates/<language>/`` those written in a language (the students'
README); ``lessons/<language>/`` the lesson notebooks' texts (:mod:`grader.assign.notebooks`),
and ``lessons/glossary.toml`` the course's terms in every language, which both languages'
lessons draw from (:func:`glossary`). A placeholder is ``${name}``, a lowercase name in braces,
filled with :class:`string.Template`; every other ``$`` (LaTeX in the lessons, shell variables
in the scripts, ``${ROOT:-/autograder}``) is plain text. A placeholder without a value is an
error naming the file, never left in the output.
"""

from __future__ import annotations

import functools
import string
import tomllib
from pathlib import Path

from grader.i18n import LANGUAGES, _

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LESSONS = HERE / "lessons"
LANGUAGE = "en"  # the default; every builder takes a ``language`` of LANGUAGES
GLOSSARY = LESSONS / "glossary.toml"


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
        raise TextError(f"{source}: " + _("no value for the placeholder {placeholder}").format(
            placeholder=f"${{{error.args[0]}}}")) from None


def placeholders(text: str) -> set[str]:
    """The names of the placeholders in ``text``."""
    return {match.group("braced") for match in Fill.pattern.finditer(text)}


def read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TextError(_("{path} is missing").format(path=path)) from None


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise TextError(_("unknown language {language}; choose from {languages}").format(
            language=repr(language), languages=_(", ").join(LANGUAGES)))
    return language


def template(name: str, /, language: str | None = None, **values) -> str:
    """The template ``templates/<name>`` (``templates/<language>/<name>`` for a text written in
    a language), filled with ``values``."""
    path = TEMPLATES / check_language(language) / name if language else TEMPLATES / name
    return fill(read(path), values, str(path))


def template_strings(name: str, language: str) -> dict:
    """The short texts of ``templates/<language>/<name>``, a TOML table."""
    path = TEMPLATES / check_language(language) / name
    try:
        return tomllib.loads(read(path))
    except tomllib.TOMLDecodeError as error:
        raise TextError(f"{path}: {error}") from None


def lesson_path(name: str, language: str = LANGUAGE) -> Path:
    return LESSONS / check_language(language) / name


@functools.lru_cache(maxsize=None)
def glossary() -> dict:
    """term -> {language: the term in that language}, from ``lessons/glossary.toml``; every
    entry names the term in every language."""
    try:
        data = tomllib.loads(read(GLOSSARY))
    except tomllib.TOMLDecodeError as error:
        raise TextError(f"{GLOSSARY}: {error}") from None
    for term, names in data.items():
        missing = [lang for lang in LANGUAGES if not (isinstance(names, dict) and str(names.get(lang, "")).strip())]
        if missing:
            raise TextError(f"{GLOSSARY}: " + _("[{term}] has no {languages} name").format(
                term=term, languages=_(", ").join(missing)))
    return {term: {lang: names[lang] for lang in LANGUAGES} for term, names in data.items()}
