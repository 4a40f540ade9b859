"""The zh notebooks' figures: Chinese labels where matplotlib finds a font with Chinese glyphs
(Debian's ``fonts-noto-cjk``, or any family of :data:`CJK_FAMILIES`), the lessons' English labels
otherwise (without such a font a Chinese label would show as boxes).

The labels' Chinese lives in ``locale/zh/figures.toml``: the English label of the lessons' code
(``{}`` for a part computed at run time) -> the Chinese one (its ``{}`` filled in the same order).
A label the table does not know stays as it is.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "locale" / "zh" / "figures.toml"
CJK_FAMILIES = ("Noto Sans CJK", "Noto Serif CJK", "Source Han Sans", "Source Han Serif", "WenQuanYi",
                "Droid Sans Fallback", "AR PL", "SimHei", "SimSun", "Microsoft YaHei", "PingFang", "Heiti")
SIMPLIFIED = (" SC", " CN", " GB")  # the endings of a family's Simplified Chinese face


def cjk_font() -> str | None:
    """The font family matplotlib knows that draws Chinese, or None: the first of
    :data:`CJK_FAMILIES`, in its Simplified Chinese face where it has several (fonts-noto-cjk
    gives "Noto Sans CJK HK/JP/KR/SC/TC", whose glyphs differ in shape)."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return min((name for name in names if name.startswith(CJK_FAMILIES)), default=None,
               key=lambda name: (next(i for i, family in enumerate(CJK_FAMILIES) if name.startswith(family)),
                                 not name.endswith(SIMPLIFIED), name))


@functools.lru_cache(maxsize=None)
def table() -> tuple:
    """(pattern, Chinese) pairs, a pattern matching a whole English label."""
    entries = tomllib.loads(TABLE.read_text(encoding="utf-8"))
    return tuple((re.compile("(.+?)".join(map(re.escape, english.split("{}"))), re.S), chinese)
                 for english, chinese in entries.items())


def translate(label: str) -> str:
    """``label`` in Chinese where the table knows it, else unchanged."""
    for pattern, chinese in table():
        match = pattern.fullmatch(label)
        if match:
            parts = iter(match.groups())
            return re.sub(r"\{\}", lambda _: next(parts), chinese)
    return label


def chinese_labels(font: str | None = None) -> bool:
    """Draws figures with Chinese labels from now on if a Chinese font is at hand (``font``, else
    :func:`cjk_font`); returns whether it did. Without one, nothing changes."""
    font = font or cjk_font()
    if font is None:
        return False
    import matplotlib
    import matplotlib.text

    # first in font.family, not in font.sans-serif: matplotlib falls back glyph by glyph only
    # along font.family (so "⋆", which the CJK fonts lack, comes from DejaVu Sans)
    matplotlib.rcParams["font.family"] = [font, *matplotlib.rcParams["font.family"]]
    matplotlib.rcParams["axes.unicode_minus"] = False
    set_text = matplotlib.text.Text.set_text
    if not getattr(set_text, "translates", False):
        def translated(self, s):
            return set_text(self, translate(s) if isinstance(s, str) else s)
        translated.translates = True
        matplotlib.text.Text.set_text = translated
    return True
