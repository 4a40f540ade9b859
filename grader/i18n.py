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
import re
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


def speaking_as_installed():
    """Speaks what the installed kit speaks outside a command (a notebook's cells, Gradescope's
    run): ``GRADER_LANG``, else the installed rubric's language (a zh release says zh), else
    the locale's."""
    from grader import rubric  # the rubric's own messages are translated through this module

    return speaking(resolve(None, rubric.load().settings.language))


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


_SPACE_BETWEEN_CHINESE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


class Message(str):
    """A sentence in the current language that remembers what it is: its ``msgid`` (the English
    source, placeholders and all) and its ``english`` rendering. ``format`` keeps both, so a
    verdict's diagnosis can name the message it gave without reading its translated words."""

    msgid: str
    english: str

    def __new__(cls, text: str, msgid: str, english: str | None = None):
        self = super().__new__(cls, text)
        self.msgid = msgid
        self.english = msgid if english is None else english
        return self

    def format(self, *args, **kwargs) -> "Message":
        # a value ending in Chinese before a template's " 的…" ("`conv1` 的输出" + " 的形状是"): no
        # space between two Chinese characters
        text = _SPACE_BETWEEN_CHINESE.sub("", str.format(self, *args, **kwargs))
        try:
            english = str.format(self.msgid, *map(in_english, args),
                                 **{key: in_english(value) for key, value in kwargs.items()})
        except (KeyError, IndexError, ValueError, TypeError):  # never at the cost of the sentence itself
            english = text
        return Message(text, self.msgid, english)

    def __reduce__(self):
        return Message, (str(self), self.msgid, self.english)


def in_english(value):
    """A :class:`Message` as it reads in English; anything else as it is."""
    return value.english if isinstance(value, Message) else value


def _(message: str) -> Message:
    """``message`` in the current language (English where the catalog has no entry)."""
    return Message(translation().gettext(message), message)


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
