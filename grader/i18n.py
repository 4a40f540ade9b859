"""The language the grader speaks: English (the source) or Chinese, through gettext.

Every sentence the grader prints goes through :func:`_` (``_("... {name} ...").format(...)``:
the placeholders stay in the message so that a translation can move them). The catalogs are
the ``.po`` files in ``grader/locale/<lang>/LC_MESSAGES/grader.po``, read and compiled (in
memory: nothing binary is kept beside them) by Babel, served by the standard :mod:`gettext`.
A message kept in a constant is marked with :func:`N_` so that extraction finds it
(tests/test_catalogs.py extracts every marked message and compares with the catalogs).

Each room of the grader keeps its own catalog file (``grader.po`` for the grading path,
``checks.po`` for the checks, ...): every ``.po`` file of a language's folder is read.

The language is, in order: :func:`set_language` (``--lang``), the ``GRADER_LANG`` variable,
the rubric's ``language`` setting (a Chinese release sets it), the environment's locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG`` beginning with ``zh``), else English.
"""

from __future__ import annotations

import contextlib
import gettext
import io
import os
from pathlib import Path

LANGUAGES = ("en", "zh")
DOMAIN = "grader"
LOCALE = Path(__file__).resolve().parent / "locale"

_chosen: str | None = None
_catalogs: dict = {}


def set_language(language: str | None) -> None:
    """Fixes the language of this process (``None``: back to the environment's)."""
    global _chosen
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose from {', '.join(LANGUAGES)}")
    _chosen = language


@contextlib.contextmanager
def speaking(lang: str | None):
    """Speaks ``lang`` inside the block (``None``: as before), then what was chosen before."""
    global _chosen
    before = _chosen
    if lang is not None:
        set_language(lang)
    try:
        yield
    finally:
        _chosen = before


def resolve(flag: str | None = None, rubric_language: str | None = None) -> str:
    """The language a command speaks, the one place its order is worked out: ``flag`` (``--lang``),
    else :func:`set_language`'s, else ``GRADER_LANG``, else ``rubric_language`` (the rubric's
    ``[settings]``), else the locale, else English."""
    if flag is not None and flag not in LANGUAGES:
        raise ValueError(f"unknown language {flag!r}; choose from {', '.join(LANGUAGES)}")
    return flag or language(default=rubric_language)


def language(default: str | None = None) -> str:
    """The language spoken now: :func:`set_language`'s, else ``GRADER_LANG``, else ``default``,
    else the locale (commands ask :func:`resolve`, which puts ``--lang`` first)."""
    if _chosen:
        return _chosen
    variable = os.environ.get("GRADER_LANG", "")
    if variable in LANGUAGES:
        return variable
    if default in LANGUAGES:
        return default
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def translation(lang: str | None = None) -> gettext.NullTranslations:
    lang = lang or language()
    if lang == "en":
        return gettext.NullTranslations()
    if lang not in _catalogs:
        from babel.messages.mofile import write_mo

        compiled = io.BytesIO()
        write_mo(compiled, read_catalog(lang))
        compiled.seek(0)
        _catalogs[lang] = gettext.GNUTranslations(compiled)
    return _catalogs[lang]


def catalog_files(lang: str) -> list[Path]:
    return sorted((LOCALE / lang / "LC_MESSAGES").glob("*.po"))


def read_catalog(lang: str):
    """Every .po file of ``lang`` as one :class:`babel.messages.catalog.Catalog`."""
    from babel.messages.catalog import Catalog

    merged = Catalog(locale=lang, domain=DOMAIN, charset="utf-8")
    for path in catalog_files(lang):
        for message in _read(path.read_bytes()):
            if message.id:
                merged[message.id] = message
    return merged


def catalog(lang: str) -> dict:
    """msgid -> msgstr of every .po file of ``lang``."""
    return {message.id: message.string for message in read_catalog(lang) if message.id}


def _(message: str) -> str:
    """``message`` in the current language (English where the catalog has no entry)."""
    return translation().gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for extraction where it is kept to be translated later (``_(CONSTANT)``)."""
    return message


# -- catalogs ---------------------------------------------------------------------------------
def read_po(text: str) -> dict:
    """msgid -> msgstr of a .po text."""
    return {message.id: message.string for message in _read(text.encode("utf-8")) if message.id}


def _read(data: bytes):
    from babel.messages.pofile import read_po as babel_read_po

    return babel_read_po(io.BytesIO(data), charset="utf-8", abort_invalid=True)
