"""Usage errors: each refusal said in one place, translated, with errors.py's exit code; the
language order worked out in one place."""

import ast

import pytest

from grader import cli, config, i18n
from grader import rubric as rubric_module
from grader.errors import EXIT_USAGE
from grader.runner import grade
from tests.helpers import ROOT, SOLUTIONS

INSTRUCTORS_COMMANDS = [["release", "--out", "{tmp}/bundle"], ["gradescope", "--out", "{tmp}/a.zip"],
                        ["stubs", "--out", "{tmp}/stubs"], ["notebooks", "--out", "{tmp}/nb"],
                        ["course", "--out", "{tmp}/course"]]


@pytest.fixture
def language():
    yield i18n.set_language
    i18n.set_language(None)


def test_no_command_returns_a_literal_exit_code():
    found = []
    for path in (ROOT / "grader").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and \
                    type(node.value.value) is int and node.value.value == EXIT_USAGE:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "raise UsageError instead of: " + ", ".join(found)


@pytest.mark.parametrize("lang, words", [("en", "is an instructors' command"), ("zh", "是教师命令")])
@pytest.mark.parametrize("command", INSTRUCTORS_COMMANDS, ids=lambda c: c[0])
def test_the_instructors_commands_refuse_a_student_bundle_in_one_translated_line(
        command, lang, words, tmp_path, monkeypatch, capsys, language):
    monkeypatch.setattr(config, "SOLUTIONS", tmp_path / "no-solutions")
    language(lang)
    assert cli.main([arg.format(tmp=tmp_path) for arg in command]) == EXIT_USAGE
    error = capsys.readouterr().err.strip()
    prefix = {"en": "grader: ", "zh": "grader："}[lang]
    assert error.startswith(f"{prefix}{command[0]} {words}") and "\n" not in error
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_part_is_refused_by_the_rubric_in_one_translated_message(tmp_path, capsys, language):
    rubric = rubric_module.load()
    with pytest.raises(rubric_module.UnknownPart) as refused:
        grade(SOLUTIONS, parts=["convv"])
    expected = str(refused.value)
    assert expected.startswith("unknown part(s): convv; choose from conv, pooling")
    (tmp_path / "class").mkdir()
    for command in (["check", str(SOLUTIONS)], ["batch", str(tmp_path / "class"), "--out", str(tmp_path / "o")],
                    ["course", "--out", str(tmp_path / "c")]):
        assert cli.main([*command, "--part", "convv"]) == EXIT_USAGE
        assert capsys.readouterr().err.strip() == f"grader: {expected}", command
    assert not (tmp_path / "o").exists() and not (tmp_path / "c").exists()
    language("zh")
    with pytest.raises(rubric_module.UnknownPart, match="未知的部分：convv"):
        rubric.check_parts(["convv"])


def test_the_language_order(monkeypatch, language):
    for name in ("GRADER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert i18n.resolve(None, None) == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.resolve(None, None) == "zh"          # the locale
    assert i18n.resolve(None, "en") == "en"          # the rubric's, over the locale
    monkeypatch.setenv("GRADER_LANG", "zh")
    assert i18n.resolve(None, "en") == "zh"          # GRADER_LANG, over the rubric's
    assert i18n.resolve("en", "zh") == "en"          # --lang, over everything
    with pytest.raises(ValueError):
        i18n.resolve("fr")


@pytest.mark.parametrize("arguments", [["batch", "{tmp}", "--out", "{tmp}/o", "--jobs", "0"],
                                       ["batch", "{tmp}", "--out", "{tmp}/o", "--jobs", "two"],
                                       ["batch", "{tmp}", "--out", "{tmp}/o", "--jobs", "2", "--scheduler", "tcp://h:1"]])
def test_jobs_below_one_or_beside_a_scheduler_is_a_usage_error(arguments, tmp_path, capsys):
    """`--jobs 0` was taken as one job and `--jobs` beside `--scheduler` was ignored, silently."""
    with pytest.raises(SystemExit) as stopped:
        cli.main([word.format(tmp=tmp_path) for word in arguments])
    assert stopped.value.code == EXIT_USAGE
    assert not (tmp_path / "o").exists()
    assert "--jobs" in capsys.readouterr().err
