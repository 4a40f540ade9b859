"""Text as a terminal shows it: CJK characters take two columns, so columns of a report are
padded by display width, not by ``len``; and the spacing rule of Chinese text, no space beside
full-width punctuation (a message assembled from parts, ``{label} 与…`` with a label ending in
"）", would otherwise show one)."""

from __future__ import annotations

import re
import unicodedata

FULL_WIDTH_PUNCTUATION = "，。：；、！？（）“”"
_SPACE_BESIDE = re.compile(rf"(?<=[{FULL_WIDTH_PUNCTUATION}]) +(?=\S)|(?<=\S) +(?=[{FULL_WIDTH_PUNCTUATION}])")


def width(text: str) -> int:
    """Columns ``text`` takes: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(columns - width(text), 0)


def rjust(text: str, columns: int) -> str:
    return " " * max(columns - width(text), 0) + text


def tidy(text: str) -> str:
    """``text`` without spaces beside full-width punctuation (indentation kept)."""
    return _SPACE_BESIDE.sub("", text)
