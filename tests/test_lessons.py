"""The lesson files and templates: the lesson format is read exactly as documented, a malformed
or missing lesson is a clear error, every part of the rubric has its lesson, and a
non-editable install ships the package's text files."""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest

from grader import cli
from grader import rubric as rubric_module
from grader.assign import notebooks, texts
from grader.assign.notebooks import LessonError, parse_lesson
from tests.helpers import ROOT

GOOD = '''+++
title = "Convolution"
names = "`f`"
summary = """A \\
summary."""
+++

<!-- markdown -->

## One

text

<!-- code -->
```python
x = 1

y = 2
```
<!-- your file -->
<!-- markdown -->
after
'''


def test_the_documented_format():
    lesson = parse_lesson(GOOD, "good.md")
    assert (lesson.title, lesson.names, lesson.summary, lesson.needs) == ("Convolution", "`f`", "A summary.", None)
    assert lesson.before == (("markdown", "## One\n\ntext"), ("code", "x = 1\n\ny = 2"))
    assert lesson.after == (("markdown", "after"),)


@pytest.mark.parametrize("change, words", [
    (lambda t: t.replace("+++\n", "", 1), "front matter"),
    (lambda t: t.replace('names = "`f`"\n', ""), "missing names"),
    (lambda t: t.replace('names = "`f`"\n', 'names = "`f`"\ncolour = "red"\n'), "unknown colour"),
    (lambda t: t.replace("<!-- your file -->\n", ""), "no <!-- your file -->"),
    (lambda t: t + "<!-- your file -->\n", "a second"),
    (lambda t: t.replace("```python\n", ""), "exactly one ```python block"),
    (lambda t: t.replace("y = 2\n", "y = 2\n```\n```python\nz = 3\n"), "exactly one ```python block"),
    (lambda t: t.replace("<!-- markdown -->\n\n## One", "stray\n<!-- markdown -->\n\n## One"), "outside a cell"),
    (lambda t: t.replace("after\n", ""), "empty markdown cell"),
])
def test_a_malformed_lesson_is_an_error_naming_the_file(change, words):
    with pytest.raises(LessonError, match=rf"^bad\.md.*{words}"):
        parse_lesson(change(GOOD), "bad.md")


def test_every_part_of_the_rubric_has_a_lesson_and_a_missing_one_is_an_error(monkeypatch, tmp_path, capsys):
    for part in rubric_module.load().parts:
        assert notebooks.load_lesson(part).title
    real = rubric_module.load()
    extended = rubric_module.Rubric({"nolesson": "conv.py", **real.parts}, real.entries)
    monkeypatch.setattr(rubric_module, "load", lambda *a, **k: extended)
    with pytest.raises(LessonError, match=r"nolesson\.md is missing"):
        notebooks.student_notebook_texts()
    assert cli.main(["notebooks", "--out", str(tmp_path / "nb")]) == 2
    assert "nolesson.md is missing" in capsys.readouterr().err
    assert not (tmp_path / "nb").exists()


def test_placeholders_are_filled_and_a_missing_value_is_an_error():
    assert texts.fill("a ${x} $y $$ ${Y} $\\alpha$", {"x": 1}) == "a 1 $y $$ ${Y} $\\alpha$"
    with pytest.raises(texts.TextError, match=r"^f\.md: no value for the placeholder \$\{x\}"):
        texts.fill("${x}", {}, "f.md")
    for path in texts.LESSONS.rglob("*.md"):
        assert texts.placeholders(path.read_text()) <= set(notebooks.lesson_values()), path


def test_a_non_editable_install_ships_the_text_files():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        patterns = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["grader"]
    package = ROOT / "grader"
    files = [p for folder in (texts.TEMPLATES, texts.LESSONS) for p in folder.rglob("*") if p.is_file()]
    assert len(files) >= 12
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_numbers_in_the_lessons_are_the_graders():
    from grader.checks import networks

    built = {part: "\n".join(cell.source for cell in notebooks.student_notebook(part).cells)
             for part in ("networks", "train")}
    for count in networks.PARAMETER_COUNTS.values():
        assert f"{count:,}" in built["networks"]
    settings = rubric_module.load().settings
    for threshold in (settings.full_marks_accuracy, settings.zero_marks_accuracy):
        assert f"{threshold:.0%}" in built["train"]
    assert f"{rubric_module.load().settings.train_timeout / 60:g} minutes" in built["train"]


def test_the_train_docstrings_quote_the_graders_thresholds():
    """The stub's docstring is plain text (no placeholders): a test keeps its numbers true."""
    settings = rubric_module.load().settings
    text = (ROOT / "solutions" / "train.py").read_text()
    assert f"full marks from {settings.full_marks_accuracy:.0%}" in text
    assert f"partial credit down to {settings.zero_marks_accuracy:.0%}" in text
    assert "97%" not in text


def test_the_datasets_texts_quote_the_full_marks_bar():
    """The split's rationale names the grader's bar (Settings), not a bar of its own; the only
    other accuracy it quotes is what the reference LeNet-5 reaches (about 98%)."""
    bar = f"{rubric_module.load().settings.full_marks_accuracy:.0%}"
    for path in (ROOT / "datasets" / "README.md", ROOT / "datasets" / "README.zh.md", ROOT / "grader" / "data.py"):
        text = path.read_text(encoding="utf-8")
        assert bar in text, path
        assert set(re.findall(r"\b9\d%", text)) <= {bar, "98%"}, path
