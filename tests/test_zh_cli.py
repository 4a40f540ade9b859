"""A zh release speaks Chinese from its first word: the rubric's language is chosen before the
command line is read, so --help, usage errors and the refusals of the instructors' commands are
Chinese (argparse's own words, usage/options, stay English)."""

from __future__ import annotations

import pytest

from grader import cli, config


@pytest.fixture
def zh_rubric(monkeypatch):
    for name in ("GRADER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "_rubric_language", lambda: "zh")


def test_help_is_chinese_where_the_rubric_says_zh(zh_rubric, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "用公开检查为一个提交文件夹评分" in out and "写出发给学生的材料包（教师用）" in out


def test_help_stays_english_by_default(monkeypatch, capsys):
    for name in ("GRADER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "_rubric_language", lambda: None)
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    assert "grade only this part" in capsys.readouterr().out


def test_a_missing_folder_is_refused_in_chinese(zh_rubric, tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "nosuch")]) == 2
    err = capsys.readouterr().err
    assert "不是文件夹" in err and len(err.strip().splitlines()) == 1


def test_the_files_a_refusal_lists_are_separated_as_chinese_lists_are(zh_rubric, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "foo.py"]) == 2
    assert cli.main(["check", "--part", "nope"]) == 2
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("conv.py、pooling.py" in line or "conv、pooling" in line for line in err), err
    assert not any(", " in line for line in err), err


@pytest.mark.parametrize("command", [["stubs"], ["release", "--out", "x"], ["course", "--out", "x"],
                                     ["notebooks"], ["gradescope", "--out", "x.zip"]])
def test_an_instructors_command_is_refused_in_chinese_in_a_bundle(zh_rubric, monkeypatch, tmp_path, capsys, command):
    monkeypatch.setattr(config, "SOLUTIONS", tmp_path / "no-solutions")
    monkeypatch.chdir(tmp_path)
    assert cli.main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"grader：{command[0]} 是教师命令，") and "instructors" not in err
    assert "grader：grader" not in err, "the refusal names the program once"
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.zip").exists()


def test_the_language_chosen_for_one_command_does_not_stick(zh_rubric, tmp_path, capsys):
    cli.main(["check", str(tmp_path / "nosuch")])
    from grader.i18n import language
    assert language() == "en"


def test_the_instructors_commands_own_errors_are_chinese(zh_rubric, tmp_path, capsys):
    assert cli.main(["stubs", "--solutions", str(tmp_path / "nosuch"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"grader：{tmp_path / 'nosuch'} 不是存放参考答案的文件夹"
    assert cli.main(["release", "--out", str(config.SOLUTIONS)]) == 2
    assert "不能把材料包写入" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_lesson_and_marker_errors_are_chinese():
    from grader.assign import markers, notebooks
    from grader.i18n import speaking

    with speaking("zh"):
        with pytest.raises(notebooks.LessonError, match=r"^x\.md:1: 课文以两行 \+\+\+ 之间的 TOML 前置信息开头$"):
            notebooks.parse_lesson("no front matter", "x.md")
        with pytest.raises(notebooks.LessonError, match="前置信息：缺少 names、summary"):
            notebooks.parse_lesson('+++\ntitle = "t"\n+++\n', "x.md")
        with pytest.raises(markers.MarkerError, match="^f.py:1: ### END SOLUTION 前面没有 ### BEGIN SOLUTION$"):
            markers.regions("### END SOLUTION\n", "f.py")
