"""The zh notebooks' figures: Chinese labels where matplotlib finds a Chinese font, English
otherwise; every label of the lessons' code has its Chinese in locale/zh/figures.toml."""

from __future__ import annotations

import ast
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


def test_the_learning_curve_the_grader_draws_in_a_notebook_has_its_chinese():
    """grader/checks/train.py draws learning_curve.png; graded in a zh notebook, its labels pass
    through the same table (titles 'training {key}', key one of train_lenet's history keys)."""
    labels = {re.sub(r"\{[^{}]*\}", "{}", text) for text in LABEL.findall((ROOT / "grader" / "checks" / "train.py").read_text())}
    assert labels == {"epoch", "training {}"}
    drawn = {label.replace("{}", key) for label in labels for key in ("loss", "accuracy")}
    assert not [label for label in drawn if figures.translate(label) == label]


# arguments that are matplotlib's or NumPy's words, not labels
NOT_LABELS = {"loc", "textcoords", "color", "cmap", "ha", "va", "linestyle", "marker", "boxstyle", "fontweight",
              "edgecolor", "facecolor", "arrowstyle", "xycoords", "interpolation", "aspect", "origin"}
STAYS_ENGLISH = {"AlexNet\n2012", "Clarifai\n2013", "GoogLeNet\n2014"}  # an entry's name and year


def phrases(code: str) -> set[str]:
    """The English phrases (two words or more) among the string literals of a lesson's plotting
    code, wherever they go before reaching a figure (a list of names, a dict's keys, an f-string
    with ``{}`` for its fields), leaving out keyword arguments such as ``loc="upper right"``."""
    code = re.sub(r"\$\{\w+\}", "0", "\n".join(line for line in code.splitlines()
                                             if not line.lstrip().startswith("%")))
    tree = ast.parse(code)
    skipped = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg in NOT_LABELS}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(value) for value in node.values)
        if isinstance(node, ast.Call) and (getattr(node.func, "attr", None) == "einsum"
                                           or getattr(node.func, "id", None) == "print"):
            skipped.update(id(arg) for arg in node.args)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(value.value if isinstance(value, ast.Constant) else "{}" for value in node.values)
        else:
            continue
        if re.search(r"[a-z]{3,}", text) and re.search(r"\S\s+\S", text) and not re.search("[\u4e00-\u9fff]", text):
            found.add(text)
    for node in ast.walk(tree):  # a single word listed beside phrases is a label too ("blur")
        items = node.keys if isinstance(node, ast.Dict) else node.elts if isinstance(node, (ast.List, ast.Tuple)) else []
        words = [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
        if any(word in found for word in words):
            found.update(word for word in words if re.fullmatch(r"[a-z]{3,}", word))
    return found


def test_every_phrase_the_zh_lessons_may_draw_has_its_chinese():
    """Labels that reach a figure through a variable (a list of panel names, a dict of views) are
    not in the label calls that test_every_label_of_the_lessons_has_its_chinese reads."""
    keys = [" ".join(key.split()) for key in tomllib.loads(figures.TABLE.read_text(encoding="utf-8"))]
    patterns = [re.compile("(.+?)".join(map(re.escape, key.split("{}"))), re.S) for key in keys]
    found = set()
    for path in sorted((ROOT / "grader" / "assign" / "lessons" / "zh").glob("*.md")):
        body = re.sub(r"\A\+\+\+\n.*?\n\+\+\+\n", "", path.read_text(encoding="utf-8"), flags=re.S)
        for code in re.findall(r"```python\n(.*?)```", body, flags=re.S):
            if re.search(r"\b(plt|ax|axes|fig)\b", code):
                found |= {(path.stem, text) for text in phrases(code)}
    assert len(found) >= 40

    def covered(text):
        """A key fits the phrase, the phrase (its {} filled) fits a key, or the phrase is a piece
        of a key (a name that a label pattern puts together with more words)."""
        text = " ".join(text.split())
        as_pattern = re.compile("(.+?)".join(map(re.escape, text.split("{}"))), re.S)
        return any(pattern.fullmatch(text.replace("{}", "7")) or as_pattern.fullmatch(key) or text in key
                   for pattern, key in zip(patterns, keys))

    missing = sorted(f"{part}: {text!r}" for part, text in found if text not in STAYS_ENGLISH and not covered(text))
    assert not missing, f"phrases without Chinese in {figures.TABLE.name}:\n" + "\n".join(missing)


def test_a_phrase_passed_through_a_variable_is_found():
    code = ('names = ["vertical edges", "blur"]\nax.legend(loc="upper right")\nax.set_title(f"a {x} digit")\n'
            'print("this is no label")\nax.axis("off")\n')
    assert phrases(code) == {"vertical edges", "blur", "a {} digit"}


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
