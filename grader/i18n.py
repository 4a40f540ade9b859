"""The language the grader speaks: English (the source) or Chinese, through gettext.

Every sentence the grader prints goes through :func:`_` (``_("... {name} ...").format(...)``:
the placeholders stay in the message so that a translation can move them). The catalogs are
the ``.po`` files in ``grader/locale/<lang>/LC_MESSAGES/grader.po``, read with the standard
:mod:`gettext` machinery (compiled in memory: nothing binary is kept beside them).

Each room of the grader keeps its own catalog file (``grader.po`` for the grading path,
``checks.po`` for the checks, ...): every ``.po`` file of a language's folder is read.

The language is, in order: :func:`set_language` (``--lang``), the ``GRADER_LANG`` variable,
the rubric's ``language`` setting (a Chinese release sets it), the environment's locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG`` beginning with ``zh``), else English.
"""

from __future__ import annotations

import ast
import contextlib
import gettext
import io
import os
import struct
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


def language(default: str | None = None) -> str:
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
        _catalogs[lang] = gettext.GNUTranslations(io.BytesIO(compile_po(catalog_text(lang))))
    return _catalogs[lang]


def catalog_files(lang: str) -> list[Path]:
    return sorted((LOCALE / lang / "LC_MESSAGES").glob("*.po"))


def catalog_text(lang: str) -> str:
    """Every .po file of ``lang`` as one catalog (a header, then every file's entries)."""
    header = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    return header + "\n".join(path.read_text(encoding="utf-8") for path in catalog_files(lang))


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
        text = str.format(self, *args, **kwargs)
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


# -- catalogs ---------------------------------------------------------------------------------
def read_po(text: str) -> dict:
    """msgid -> msgstr of a .po file (the subset the kit writes: no plurals, no contexts)."""
    entries: dict = {}  # a later entry with the same msgid wins
    key = None
    current: dict = {}
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line or line.startswith("#"):
            if "msgid" in current:
                entries[current["msgid"]] = current.get("msgstr", "")
            current, key = {}, None
            continue
        if line.startswith("msgid "):
            if "msgid" in current:
                entries[current["msgid"]] = current.get("msgstr", "")
                current = {}
            key, line = "msgid", line[len("msgid "):]
        elif line.startswith("msgstr "):
            key, line = "msgstr", line[len("msgstr "):]
        if key is None or not (line.startswith('"') and line.endswith('"')):
            raise ValueError(f"cannot read this .po line: {raw!r}")
        current[key] = current.get(key, "") + ast.literal_eval(line)
    return entries


def compile_po(text: str) -> bytes:
    """The GNU .mo bytes of a .po text (what msgfmt writes)."""
    entries = {key: value for key, value in read_po(text).items() if value or key == ""}
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    start = 7 * 4 + 16 * len(keys)
    offsets, offset = [], 0
    for k in keys:
        offsets += [len(k.encode()), start + offset]
        offset += len(k.encode()) + 1
    str_offsets, offset = [], 0
    for k in keys:
        str_offsets += [len(entries[k].encode()), start + len(ids) + offset]
        offset += len(entries[k].encode()) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    return header + struct.pack(f"{len(offsets)}i", *offsets) + \
        struct.pack(f"{len(str_offsets)}i", *str_offsets) + ids + strs
