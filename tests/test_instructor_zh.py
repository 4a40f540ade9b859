"""The instructors' side in Chinese (instructor.po): the class report, `grader batch`'s lines and
`grader similar` speak the command's language, whatever language the class was graded in, and
the files programs read (CSV, JSON, the gradebook) are byte for byte the same in every language.

Checked through the catalog, not against copied translations: every message of these files has
Chinese, the Chinese page shows the catalog's words and none of the English ones."""

from __future__ import annotations

import html
import re
import string

import pytest

from grader import batch, cli, i18n
from grader.batch import report as class_report
from grader.errors import EXIT_OK, EXIT_USAGE
from tests.similar_class import make_class
from tests.test_catalogs import extracted
from tests.test_i18n import CJK, english_runs
from tests.test_report import SCALED, _check, _synthetic, _write_class

# the files whose messages are the instructors' (batch/__init__.py is also grader.po's room: test_i18n)
FILES = ("batch/report.py", "batch/__init__.py", "batch/cluster.py", "similar.py")
ZH = i18n.catalog("zh")


def used_by(*files: str) -> list[str]:
    """The msgids marked (``_`` or ``N_``) in ``files`` (paths under grader/)."""
    return sorted(message for message, places in extracted().items()
                  if any(place.rsplit(":", 1)[0] in files for place in places))


def _placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture(autouse=True)
def _no_chosen_language(monkeypatch):
    """The language comes from each test's --lang or speaking(), not from this machine."""
    for name in ("GRADER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "_rubric_language", lambda: None)


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """The same small class as `grader batch` stores it (no grading), its feedback once in English
    and once in Chinese; one student failed a hidden check."""
    from grader.results import FAILED, Report

    folders = {}
    for language in ("en", "zh"):
        out = tmp_path_factory.mktemp(f"graded-{language}")
        hidden = _check("layers.softmax_cross_entropy", FAILED, 0, SCALED, "dx differs", hidden=True)
        with i18n.speaking(language):
            _write_class(out, {**_synthetic(), "fay": Report("fay", [hidden], ["layers"])})
        folders[language] = out
    return folders


def _files(out) -> dict:
    """Every file of a batch's folder but the page, as bytes."""
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and path.name != "report.html"}


def _rebuild(out, language: str, capsys) -> str:
    assert cli.main(["report", str(out), "--lang", language]) == EXIT_OK
    said = ZH["class report: {path}"] if language == "zh" else "class report: {path}"
    assert capsys.readouterr().out == said.format(path=out / "report.html") + "\n"
    return (out / "report.html").read_text(encoding="utf-8")


def _prose(page: str) -> str:
    """The page's own words: the text outside the style, the students' messages (<pre>), code,
    and the signature's English words (<b>)."""
    page = re.sub(r"<(style|pre|code|b)\b[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def leftover_english(page: str, file: str) -> list[str]:
    """The English of ``file``'s messages found on ``page``: a piece of two words or more between
    placeholders in the page's own words, or a heading (a capitalised phrase) as a whole element."""
    prose, found = _prose(page), []
    for message in used_by(file):
        found += [piece.strip() for piece in re.split(r"\{[^{}]*\}", message)
                  if len(piece.split()) >= 2 and piece.strip() in prose]
        if re.fullmatch(r"[A-Z][a-z]+( [a-z]+)*", message) and f">{message}<" in page:
            found.append(message)
    return found


# -- the catalog -----------------------------------------------------------------------------------
@pytest.mark.parametrize("file", FILES)
def test_every_instructor_message_has_chinese_with_the_same_placeholders(file):
    found = used_by(file)
    assert found, file
    for message in found:
        assert ZH.get(message), f"{file}: no Chinese for {message!r}"
        assert _placeholders(ZH[message]) == _placeholders(message), message
        words = re.search(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}|^grader:", "", message))
        assert CJK.search(ZH[message]) or not words, f"{file}: left in English: {message!r}"


# -- the class report --------------------------------------------------------------------------------
@pytest.mark.parametrize("graded_in", ["en", "zh"])
def test_the_report_rebuilt_in_chinese_speaks_the_catalog_s_chinese(classes, graded_in, capsys):
    page = _rebuild(classes[graded_in], "zh", capsys)
    assert '<html lang="zh-CN">' in page
    for key, title in class_report.SECTIONS:
        assert f'<section id="{key}">\n<h2>{ZH[title]}</h2>' in page, title
    for heading in ("Class report", "Check", "Pass rate", "Mean score", "Example message", "Why"):
        assert f">{ZH[heading]}<" in page, heading
    assert ZH[" (hidden)"] in page
    assert leftover_english(page, "batch/report.py") == []
    assert english_runs(_prose(page)) == [], english_runs(_prose(page))
    # the rubric's Chinese titles; the students' own words and the signature stay as they were
    assert "反向传播" in page and "axes in another order" in page and "dw has shape (3, 2)" in page


def test_the_report_rebuilt_in_english_from_a_chinese_batch_is_english(classes, capsys):
    page = _rebuild(classes["zh"], "en", capsys)
    assert '<html lang="en">' in page
    assert not CJK.search(_prose(page)), [line for line in _prose(page).splitlines() if CJK.search(line)]
    for key, title in class_report.SECTIONS:
        assert f"<h2>{title}</h2>" in page


@pytest.mark.parametrize("graded_in", ["en", "zh"])
def test_csv_and_json_files_are_byte_identical_in_both_languages(classes, graded_in, capsys):
    out = classes[graded_in]
    _rebuild(out, "en", capsys)
    english = _files(out)
    _rebuild(out, "zh", capsys)
    assert _files(out) == english
    assert {"checks.csv", "signatures.csv", "gradebook.csv"} <= set(english)
    assert not CJK.search(english["checks.csv"].decode())  # the rubric's English titles


def test_the_report_follows_grader_lang_and_the_rubric_like_every_command(classes, capsys, monkeypatch):
    out = classes["en"]
    monkeypatch.setenv("GRADER_LANG", "zh")
    assert '<html lang="zh-CN">' in _rebuild_plain(out, capsys)
    monkeypatch.delenv("GRADER_LANG")
    monkeypatch.setattr(cli, "_rubric_language", lambda: "zh")  # a zh release's rubric
    assert '<html lang="zh-CN">' in _rebuild_plain(out, capsys)
    assert '<html lang="en">' in _rebuild(out, "en", capsys)  # --lang outranks it
    assert i18n.language() == "en"  # nothing sticks after the command


def _rebuild_plain(out, capsys) -> str:
    assert cli.main(["report", str(out)]) == EXIT_OK
    assert CJK.search(capsys.readouterr().out)
    return (out / "report.html").read_text(encoding="utf-8")


def test_the_page_names_chinese_fonts_and_renders_them(classes, capsys):
    page = _rebuild(classes["en"], "zh", capsys)
    fonts = re.search(r"font-family:([^;]+);", page).group(1)
    for font in ('"Noto Sans CJK SC"', '"Microsoft YaHei"', '"PingFang SC"', "sans-serif"):
        assert font in fonts


def test_a_refusal_of_grader_report_is_one_chinese_line(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nowhere"), "--lang", "zh"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and CJK.search(error)
    assert ZH["{out} is not a folder: name the --out folder of a `grader batch`"].split("{out}")[1] in error


# -- grader batch's lines ------------------------------------------------------------------------------
def test_batch_s_own_lines_speak_the_language(classes, capsys):
    out = classes["en"]
    with i18n.speaking("zh"):
        batch.write_class_report(out, False)
        progress = batch.Progress(3, 1)
        progress.advance(failed=True)
    printed = capsys.readouterr()
    assert printed.out == ZH["class report: {path}"].format(path=out / "report.html") + "\n"
    assert ZH["{count} student(s) unchanged since the last run: skipped"].format(count=1) in printed.err
    assert "2/3 名学生" in printed.err and "students" not in printed.err
    assert '<html lang="zh-CN">' in (out / "report.html").read_text(encoding="utf-8")


# -- grader similar ----------------------------------------------------------------------------------
def test_grader_similar_in_chinese_writes_the_same_csv(tmp_path, capsys):
    root = make_class(tmp_path / "class", copied="cy")
    runs = {}
    for language in ("en", "zh"):
        out = tmp_path / language / "similar.csv"
        assert cli.main(["similar", str(root), "--out", str(out), "--top", "2", "--lang", language]) == EXIT_OK
        runs[language] = capsys.readouterr().out
    assert (tmp_path / "en" / "similar.csv").read_bytes() == (tmp_path / "zh" / "similar.csv").read_bytes()
    assert CJK.search(runs["zh"]) and not CJK.search(runs["en"])
    index = (tmp_path / "zh" / "similar-pairs" / "index.html").read_text(encoding="utf-8")
    pair = (tmp_path / "zh" / "similar-pairs" / "pair-001.html").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in index and 'lang="zh-CN"' in pair
    assert f"<h1>{ZH['Most similar pairs']}</h1>" in index and ZH["side by side"] in index
    assert ZH["all pairs"] in pair
    for page in (index, pair):
        assert leftover_english(page, "similar.py") == []


# -- --help in both languages --------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["report", "similar"])
def test_help_in_both_languages(command, capsys, monkeypatch):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    english = capsys.readouterr().out
    assert "--lang" in english and not CJK.search(english)
    for argv in ([command, "--lang", "zh", "--help"], [command, "--lang=zh", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        assert CJK.search(capsys.readouterr().out), argv
    monkeypatch.setenv("GRADER_LANG", "zh")
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    chinese = re.sub(r"\s", "", capsys.readouterr().out)  # argparse wraps the help
    lang_help = next(ZH[message] for message in used_by("cli.py") if message.startswith(
        "the language of the pages" if command == "similar" else "the report's language, whatever"))
    assert re.sub(r"\s", "", lang_help) in chinese


def test_the_lang_of_a_bundle_command_is_not_the_language_it_speaks(capsys):
    """release's --lang is the bundle's language: its help stays in the instructor's."""
    with pytest.raises(SystemExit):
        cli.main(["release", "--lang", "zh", "--help"])
    assert not CJK.search(capsys.readouterr().out)
