"""The student's path (issue 19): the grader run where students run it, a report that says each
thing once, a replay that compares, and nothing left behind in the student's folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import i18n
from grader import rubric as rubric_module
from grader.cli import submission_of
from grader.errors import UsageError
from tests.conftest import ASSIGNMENTS, ROOT, SOLUTIONS

PART_FILES = rubric_module.load().parts


def run_grader(*args, cwd):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


# -- which submission a command means -------------------------------------------------------------
def test_inside_the_submission_folder_it_is_the_submission(tmp_path):
    shutil.copyfile(ASSIGNMENTS / "conv.py", tmp_path / "conv.py")
    assert submission_of(None, PART_FILES, here=tmp_path) == (Path("."), None)


def test_above_it_assignments_is_the_submission(tmp_path):
    (tmp_path / "assignments").mkdir()
    folder, part = submission_of(None, PART_FILES, here=tmp_path)
    assert (folder.name, part) == ("assignments", None)


def test_an_exercise_file_grades_that_part_of_its_folder(tmp_path):
    (tmp_path / "assignments").mkdir()
    shutil.copyfile(ASSIGNMENTS / "conv.py", tmp_path / "assignments" / "conv.py")
    folder, part = submission_of("assignments/conv.py", PART_FILES, here=tmp_path)
    assert (str(folder), part) == ("assignments", "conv")


def test_a_bare_part_name_gets_the_command_to_type(tmp_path):
    (tmp_path / "assignments").mkdir()
    with pytest.raises(UsageError, match=r"grader check assignments --part conv"):
        submission_of("conv", PART_FILES, here=tmp_path)
    shutil.copyfile(ASSIGNMENTS / "pooling.py", tmp_path / "pooling.py")
    with pytest.raises(UsageError, match=r"type: grader check --part pooling$"):
        submission_of("pooling", PART_FILES, here=tmp_path)


def test_other_files_and_missing_folders_are_refused(tmp_path):
    (tmp_path / "notes.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match="not an exercise file"):
        submission_of("notes.py", PART_FILES, here=tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        submission_of("conv.py", PART_FILES, here=tmp_path)
    with pytest.raises(UsageError, match="no exercise file here"):
        submission_of(None, PART_FILES, here=tmp_path)


def test_the_refusals_speak_chinese(tmp_path):
    with i18n.speaking("zh"), pytest.raises(UsageError, match="grader check --part conv"):
        submission_of("conv", PART_FILES, here=tmp_path)
    with i18n.speaking("zh"), pytest.raises(UsageError) as refused:
        submission_of("notes.py", PART_FILES, here=tmp_path)
    assert "不是练习文件" in str(refused.value)


@pytest.mark.slow
def test_grader_check_inside_assignments_leaves_nothing_behind(tmp_path):
    work = tmp_path / "assignments"
    shutil.copytree(SOLUTIONS, work)
    run = run_grader("check", "--part", "conv", "-q", "--json", "results.json", cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads((work / "results.json").read_text())["score"] > 0
    left = sorted(p.name for p in work.iterdir())
    assert left == sorted([*(p.name for p in SOLUTIONS.iterdir()), "results.json"]), left
    run = run_grader("check", "assignments/pooling.py", "-q", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("Total: "), run.stdout + run.stderr
    assert not (tmp_path / ".hypothesis").exists() and not (work / ".hypothesis").exists()


@pytest.mark.slow
def test_a_syntax_error_shows_the_students_own_path(tmp_path):
    work = tmp_path / "mine"
    work.mkdir()
    (work / "pooling.py").write_text("def max_pool2d_forward(:\n    pass\n")
    run = run_grader("check", work / "pooling.py", cwd=tmp_path)
    assert run.returncode == 1
    assert str(work / "pooling.py") in run.stdout and "grader-scratch-" not in run.stdout, run.stdout


# -- a report that says each thing once -----------------------------------------------------------
def _result(name, status="failed", unwritten=False, part="conv"):
    from grader.results import CheckResult

    return CheckResult(f"{part}.{name}", part, name, name, 1.0, status=status, summary="wrong",
                       unwritten=unwritten)


def test_a_failing_backward_says_its_forward_fails_too():
    from grader.runner import _forward_fails

    assert _forward_fails(_result("conv2d_backward"), {"conv2d_forward"}) == \
        "your conv2d_forward fails too: fix it first"
    assert _forward_fails(_result("conv2d_backward"), set()) == ""
    assert _forward_fails(_result("conv2d_backward", unwritten=True), {"conv2d_forward"}) == ""
    assert _forward_fails(_result("conv2d_forward"), {"conv2d_forward"}) == ""
    with i18n.speaking("zh"):
        assert "也未通过" in _forward_fails(_result("relu_backward"), {"relu_forward"})


def test_the_terminal_says_a_part_note_once_before_the_first_check_it_concerns(capsys):
    from grader.cli import TerminalObserver

    observer = TerminalObserver(quiet=False, verbose=False)
    observer.part_started("modules", pending=["this part runs your conv.py"])
    observer.check_finished(_result("Linear", unwritten=True, part="modules"))
    observer.check_finished(_result("Conv2d", status="passed", part="modules"))
    assert "conv.py" not in capsys.readouterr().out
    observer.check_finished(_result("MaxPool2d", part="modules"))
    observer.check_finished(_result("AvgPool2d", part="modules"))
    out = capsys.readouterr().out
    assert out.count("this part runs your conv.py") == 1
    assert out.index("this part runs your conv.py") < out.index("MaxPool2d")


@pytest.mark.slow
def test_on_the_stubs_no_part_note_and_no_line_repeats_it():
    from grader.runner import grade

    report = grade(ASSIGNMENTS, parts=["conv", "layers", "modules"], references=None)
    assert report.notes == {}, report.notes
    text = report.render_text()
    assert "fix it first" not in text and "fix those first" not in text
