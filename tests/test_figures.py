"""The zh notebooks' figures: Chinese labels where matplotlib finds a Chinese font, English
otherwise; every label of the lessons' code has its Chinese in locale/zh/figures.toml."""

from __future__ import annotations

import re
import tomllib
import types
import warnings

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text
import pytest

from grader import figures
from grader.assign import notebooks
from tests.helpers import ROOT

LABEL = re.compile(r'(?:set_title|set_xlabel|set_ylabel|suptitle|title|xlabel|ylabel|label)\s*[(=]\s*f?"((?:[^"\\]|\\.)*)"')


def lesson_labels() -> set[str]:
    """The English labels the lessons' plotting code writes (``{}`` for an f-string's fields)."""
    labels = set()
    for path in sorted((ROOT / "grader" / "assign" / "lessons" / "en").glob("*.md")):
        body = re.sub(r"\A\+\+\+\n.*?\n\+\+\+\n", "", path.read_text(encoding="utf-8"), flags=re.S)
        for code in re.findall(r"```python\n(.*?)```", body, flags=re.S):
            for text in LABEL.findall(code):
                text = re.sub(r"\{[^{}]*\}", "{}", text.replace("\\n", "\n"))
                if re.search("[A-Za-z]{2}", text) and text != "ReLU":
                    labels.add(text)
    return labels


def test_a_label_is_translated_with_its_computed_parts_and_an_unknown_one_is_kept():
    assert figures.translate("accuracy") == "准确率"
    assert figures.translate("read as 7") == "认成 7"
    assert figures.translate("output 28×28: 0.25 at (3, 4)") == "输出 28×28：0.25，位于 (3, 4)"
    assert figures.translate("something new") == "something new"


def test_every_label_of_the_lessons_has_its_chinese():
    english = tomllib.loads(figures.TABLE.read_text(encoding="utf-8"))
    assert len(lesson_labels()) >= 60

    def wildcard(label):
        return re.compile("(.+?)".join(map(re.escape, label.split("{}"))), re.S)

    missing = sorted(label for label in lesson_labels()
                     if not any(pattern.fullmatch(label) for pattern, _ in figures.table())
                     and not any(wildcard(label).fullmatch(key) for key in english))
    assert not missing, f"labels without Chinese in {figures.TABLE.name}: {missing}"


def test_without_a_chinese_font_the_labels_stay_english(monkeypatch):
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    before = matplotlib.text.Text.set_text
    assert figures.chinese_labels() is False
    assert matplotlib.text.Text.set_text is before


def test_with_a_chinese_font_the_labels_are_chinese(monkeypatch):
    monkeypatch.setattr(matplotlib.text.Text, "set_text", matplotlib.text.Text.set_text)
    with matplotlib.rc_context():
        assert figures.chinese_labels("DejaVu Sans") is True
        assert matplotlib.rcParams["font.family"][0] == "DejaVu Sans"
        figure, axes = plt.subplots()
        axes.set_title("accuracy")
        axes.set_xlabel("read as 3")
        assert (axes.get_title(), axes.get_xlabel()) == ("准确率", "认成 3")
        plt.close(figure)


def test_the_simplified_chinese_face_is_chosen(monkeypatch):
    from matplotlib import font_manager
    faces = ["DejaVu Sans", "Noto Sans CJK HK", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Serif CJK SC",
             "WenQuanYi Micro Hei"]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [types.SimpleNamespace(name=name) for name in faces])
    assert figures.cjk_font() == "Noto Sans CJK SC"
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [types.SimpleNamespace(name="DejaVu Sans")])
    assert figures.cjk_font() is None


def missing_glyphs(font: str) -> list[str]:
    """The warnings matplotlib gives while drawing every Chinese label of the table in ``font``."""
    chinese = list(tomllib.loads(figures.TABLE.read_text(encoding="utf-8")).values())
    with matplotlib.rc_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.chinese_labels(font)
        figure, axes = plt.subplots(figsize=(4, 0.3 * len(chinese)))
        for row, label in enumerate(chinese):
            axes.text(0, row, label.replace("{}", "3"))
        axes.set_ylim(-1, len(chinese))
        figure.canvas.draw()
        plt.close(figure)
    return [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]


@pytest.mark.skipif(figures.cjk_font() is None, reason="no Chinese font installed (.ci/run installs fonts-noto-cjk)")
def test_the_installed_chinese_font_draws_every_label(monkeypatch):
    monkeypatch.setattr(matplotlib.text.Text, "set_text", matplotlib.text.Text.set_text)
    assert missing_glyphs(figures.cjk_font()) == []


def test_a_font_without_chinese_is_caught_missing_glyphs(monkeypatch):
    monkeypatch.setattr(matplotlib.text.Text, "set_text", matplotlib.text.Text.set_text)
    assert missing_glyphs("DejaVu Sans")


def test_only_the_zh_notebooks_start_with_the_figure_cell():
    def first_code(language):
        cells = notebooks.student_notebook("conv", language=language).cells
        return next(cell.source for cell in cells if cell.cell_type == "code")
    assert first_code("zh").startswith("from grader.figures import chinese_labels")
    assert "chinese_labels" not in first_code("en")
