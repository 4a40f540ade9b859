"""The student's path (issue 19): the grader run where students run it, a report that says each
thing once, a replay that compares, and nothing left behind in the student's folders."""

from __future__ import annotations

import contextlib

import dataclasses
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
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS, grader

PART_FILES = rubric_module.load().parts


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
    run = grader("check", "--part", "conv", "-q", "--json", "results.json", cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads((work / "results.json").read_text())["score"] > 0
    left = sorted(p.name for p in work.iterdir())
    assert left == sorted([*(p.name for p in SOLUTIONS.iterdir()), "results.json"]), left
    run = grader("check", "assignments/pooling.py", "-q", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("Total: "), run.stdout + run.stderr
    assert not (tmp_path / ".hypothesis").exists() and not (work / ".hypothesis").exists()


@pytest.mark.slow
def test_a_syntax_error_shows_the_students_own_path(tmp_path):
    work = tmp_path / "mine"
    work.mkdir()
    (work / "pooling.py").write_text("def max_pool2d_forward(:\n    pass\n")
    run = grader("check", work / "pooling.py", cwd=tmp_path)
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


def test_a_forward_failing_only_on_what_its_backward_does_not_read_leads_no_backward():
    from grader.results import diagnosis
    from grader.runner import _explains_a_backward

    from grader.results import CheckResult

    def failing(kind, output=None):
        return CheckResult("batchnorm.x", "batchnorm", "batchnorm_forward", "t", 1.0, diagnosis=diagnosis(kind, output))

    assert _explains_a_backward(failing("values", "out"))
    assert _explains_a_backward(failing("raised"))
    assert not _explains_a_backward(failing("values", "running_var after the call"))
    assert not _explains_a_backward(failing("running-mean-was-not-updated~1234", "running_mean"))
    assert not _explains_a_backward(failing("modified its input", "batchnorm_forward in evaluation mode running_mean"))
    assert not _explains_a_backward(failing("no ValueError", "training on a batch of shape (1, 3, 1, 1)"))


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


# -- backward hints name the commonest wrong code -------------------------------------------------
#: each planted backward bug -> what the hint of its function's public check must say of it (en, zh)
HINT_TELLS = {
    "conv_backward_assign_not_add": ("+=", "+="),
    "conv_backward_padding_not_cropped": ("top-left", "左上角"),
    "conv_backward_dw_first_sample": ("first sample", "第一个样本"),
    "conv_backward_db_batch_mean": ("not its mean", "取平均"),
    "conv_backward_stride_wrong_axis": ("vertical stride steps the rows", "竖直步幅管行"),
    "max_pool_backward_assign_not_add": ("+=", "+="),
    "max_pool_backward_offset_transposed": ("k // KW", "k // KW"),
    "max_pool_backward_all_tied_maxima": ("x == max", "x == max"),
    "avg_pool_backward_assign_not_add": ("dx[window] = g", "dx[window] = g"),
    "adaptive_pool_backward_no_area": ("without dividing", "没有除以"),
    "bn_backward_without_eps": ("var + eps", "var + eps"),
    "bn_backward_missing_mean_terms": ("dx = dout * gamma / std alone", "dx = dout * gamma / std"),
    "spatial_bn_backward_means_over_batch_only": ("not over the batch size N alone", "而不是只对批量大小 N"),
    "linear_dw_transposed": ("dw = x.T @ dout", "dw = x.T @ dout"),
    "relu_gradient_one_at_zero": ("x >= 0", "x >= 0"),
    "dropout_backward_not_scaled": ("forgetting the 1/(1-p) scale", "忘了 1/(1-p)"),
}


def test_every_backward_hint_names_what_the_planted_wrong_code_does():
    from tests import planted_bugs, planted_bugs_augment, planted_bugs_networks, planted_bugs_train

    bugs = [bug for module in (planted_bugs, planted_bugs_augment, planted_bugs_networks, planted_bugs_train)
            for bug in module.BUGS if bug.function.endswith("_backward")]
    assert set(HINT_TELLS) <= {bug.id for bug in bugs}, "a tell for a bug that is not planted"
    # every backward function with a planted bug has its commonest ones told (edge-case mutants
    # such as a uint8 argmax for kernels of 257 elements need not be)
    assert {bug.function for bug in bugs} == {bug.function for bug in bugs if bug.id in HINT_TELLS}
    public = rubric_module.load().select(include_hidden=False)
    for bug in (bug for bug in bugs if bug.id in HINT_TELLS):
        hints = [(entry.hint, entry.hint_zh) for entry in public if entry.name == bug.function]
        english, chinese = HINT_TELLS[bug.id]
        assert any(english in hint for hint, _ in hints), (bug.id, hints)
        assert any(chinese in hint_zh for _, hint_zh in hints), (bug.id, hints)
    for entry in public:  # and each backward check's hint starts from the commonest slip
        if entry.name.endswith("_backward") and entry.id != "pooling.max_pool2d_ties":
            assert entry.hint.startswith("The commonest slip") and entry.hint_zh.startswith("最常见的错误"), entry.id


# -- the replay compares --------------------------------------------------------------------------
def test_the_replay_prints_yours_and_the_expected_side_by_side(tmp_path):
    import numpy as np

    from grader import replay

    (tmp_path / "mod.py").write_text("def f(x):\n    return x * 2, x\n")
    x = np.arange(20.0)
    returned = (x * 2, x)
    expected = x * 2
    expected[3] = -1.0
    calls = [replay.Call("mod.f", (x,), {}, 7, result=returned)]
    lines, arrays = replay.script(calls, (returned[0], expected), "zh")
    assert lines[-1] == 'show(r1[0], data["a1"], language=\'zh\')', lines
    (tmp_path / "r.npz").write_bytes(replay.arrays_npz(arrays))
    (tmp_path / "again.py").write_text("\n".join(line.replace("{npz}", "r.npz") for line in lines))
    run = subprocess.run([sys.executable, "again.py"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("你的结果") and "期望值" in run.stdout.splitlines()[0]
    assert "20 个位置中有 1 个不同" in run.stdout and "[3]" in run.stdout, run.stdout


def test_a_method_call_is_described_on_the_call_that_made_its_object():
    from grader import replay
    from grader.worker.protocol import Ref

    made = replay.Call("modules.Linear", (400, 2000), {}, 3)
    asked = replay.Call((Ref(3), "state_dict"), (), {}, 4)
    assert replay.describe(asked, [made, asked]) == "modules.Linear(400, 2000).state_dict()"
    assert replay.describe(asked, [asked]) == "<object>.state_dict()"   # made before the recording


def test_the_replay_shows_an_array_the_call_updates_in_place(tmp_path):
    import numpy as np

    from grader import replay

    (tmp_path / "mod.py").write_text("def f(x, running):\n    running += x\n    return x\n")
    x, running = np.arange(20.0), np.zeros(20)
    after = running + x
    expected = after.copy()
    expected[5] = 0.0
    calls = [replay.Call("mod.f", (x, running), {}, 3, result=x, after=((x, after), {}))]
    lines, arrays = replay.script(calls, (after, expected), "en")
    assert lines[-1].startswith("show(argument1_1, "), lines
    (tmp_path / "r.npz").write_bytes(replay.arrays_npz(arrays))
    (tmp_path / "again.py").write_text("\n".join(line.replace("{npz}", "r.npz") for line in lines))
    run = subprocess.run([sys.executable, "again.py"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "they differ at 1 of 20 positions" in run.stdout and "[5]" in run.stdout, run.stdout


def test_the_comparison_in_english_names_shapes_and_agreement():
    import numpy as np

    from grader.replay import comparison

    assert "they differ in shape: yours (2,), expected (3,)" in comparison(np.zeros(2), np.zeros(3))
    assert "they agree" in comparison(np.ones(3), np.ones(3))
    assert comparison(None, np.ones(2)).startswith("expected:")
    assert "-0" not in comparison(np.array([1.0, -0.0]), np.array([2.0, -0.0]))


@pytest.mark.slow
def test_a_failing_check_replays_with_the_expected_value(tmp_path):
    from grader.runner import grade
    from tests.planted_bugs import BUGS, plant

    work = tmp_path / "work"
    shutil.copytree(SOLUTIONS, work)
    plant(next(bug for bug in BUGS if bug.id == "conv_backward_assign_not_add"), work)
    report = grade(work, parts=["conv"], references=None)
    [failed] = [check for check in report.checks if not check.passed]
    assert any(line.strip().startswith("show(r2[0], ") for line in failed.lines), failed.lines


@pytest.mark.slow
def test_a_call_that_hangs_outside_the_examples_shows_its_input(tmp_path):
    """A check's single call outside its examples (Linear's initialisation) is described from
    the recorded call; a hang inside the examples shows the drawn example that hung."""
    from grader.runner import grade

    (tmp_path / "modules.py").write_text("class Linear:\n    def __init__(self, *args, **kwargs):\n"
                                         "        while True:\n            pass\n")
    (tmp_path / "conv.py").write_text("def receptive_field(layers):\n    while True:\n        pass\n")
    rubric = rubric_module.load()
    chosen = {"modules.linear_init", "conv.receptive_field"}
    report = grade(tmp_path, parts=["conv", "modules"], call_timeout=5.0, references=None,
                   rubric=dataclasses.replace(rubric, entries=tuple(e for e in rubric.entries if e.id in chosen)))
    examples = {check.id: check.example for check in report.checks if not check.passed}
    assert examples == {"modules.linear_init": "modules.Linear(400, 2000)",
                        "conv.receptive_field": "layers=[(1, 1)]"}, examples


# -- a part that runs earlier files says it checks them first -------------------------------------
def test_the_terminal_says_which_parts_are_checked_first_and_their_progress(capsys):
    from grader.cli import TerminalObserver

    observer = TerminalObserver(quiet=False, verbose=False)
    observer.checking_first(["augment"], ["layers", "networks", "train"])
    observer.earlier_started("layers")
    observer.earlier_finished("layers", [_result("relu", status="passed"), _result("relu_backward")])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("augment.py runs your layers.py, networks.py, train.py: those are checked first")
    assert out[1].strip() == "checking layers.py first ..."
    assert out[2].strip().startswith("checked layers.py: 1 of 2 checks pass (")
    with i18n.speaking("zh"):
        observer.checking_first(["augment"], ["layers", "networks"])
    assert "layers.py、networks.py" in capsys.readouterr().out


@pytest.mark.slow
def test_grading_a_later_part_checks_the_files_it_runs_first(tmp_path):
    from grader.runner import Observer, grade

    heard = []

    class Listener(Observer):
        def checking_first(self, parts, earlier):
            heard.append(("first", tuple(parts), tuple(earlier)))

        def earlier_finished(self, part, results):
            heard.append(("done", part, len(results)))

    rubric = rubric_module.load()
    one_each = {}
    for entry in rubric.select():
        one_each.setdefault(entry.part, entry)
    small = dataclasses.replace(rubric, entries=tuple(one_each[p] for p in ("conv", "pooling", "batchnorm",
                                                                          "layers", "modules")))
    report = grade(SOLUTIONS, parts=["modules"], rubric=small, references=None, observer=Listener())
    assert heard[0] == ("first", ("modules",), ("conv", "pooling", "batchnorm", "layers"))
    assert [h[1] for h in heard[1:]] == ["conv", "pooling", "batchnorm", "layers"]
    assert report.parts == ["modules"] and report.score == report.max_score


# -- the notebooks' file cell never overwrites a student's file ------------------------------------
@contextlib.contextmanager
def _a_zh_release_s_rubric(monkeypatch):
    from grader import rubric

    zh = dataclasses.replace(rubric.load(), settings=rubric.load().settings.replace(language="zh"))
    with monkeypatch.context() as patched:
        for name in ("GRADER_LANG", "LC_ALL", "LC_MESSAGES"):
            patched.delenv(name, raising=False)
        patched.setenv("LANG", "en_US.UTF-8")
        patched.setattr(rubric, "load", lambda *args, **kwargs: zh)
        yield


def test_the_file_cell_writes_its_own_file_and_never_one_it_did_not_write(tmp_path, monkeypatch, capsys):
    from grader.assign.nbgrader_course import part_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    part_file("conv.py", "x = 1\n")
    assert (tmp_path / "conv.py").read_text() == "x = 1\n" and "Writing" in capsys.readouterr().out
    part_file("conv.py", "x = 2\n")  # the cell's own earlier text: replaced
    assert (tmp_path / "conv.py").read_text() == "x = 2\n"
    (tmp_path / "conv.py").write_text("x = 'mine, from an editor'\n")
    part_file("conv.py", "x = 3\n")
    said = capsys.readouterr().out
    assert (tmp_path / "conv.py").read_text() == "x = 'mine, from an editor'\n"
    assert "NOT overwritten" in said and "%%part_file conv.py --force" in said
    (tmp_path / "pooling.py").write_text("copied from assignments\n")
    with _a_zh_release_s_rubric(monkeypatch):  # and an English locale: the rubric's language is spoken
        part_file("pooling.py", "stub\n")
    assert (tmp_path / "pooling.py").read_text() == "copied from assignments\n"
    assert "没有被覆盖" in capsys.readouterr().out
    part_file("conv.py --force", "x = 4\n")
    assert (tmp_path / "conv.py").read_text() == "x = 4\n"
    assert not [p for p in tmp_path.iterdir() if p.name not in ("conv.py", "pooling.py", "cache")]


def test_the_lessons_gradient_check_and_digits_speak_the_notebook_s_language(monkeypatch):
    import numpy as np

    from grader.data import load_mnist
    from grader.gradcheck import check_gradients

    def forward(x):
        return 2 * x, None

    with _a_zh_release_s_rubric(monkeypatch):
        with pytest.raises(ValueError, match="的形状"):
            check_gradients(forward, lambda dout, cache: np.zeros(3), {"x": np.ones(2)}, show=False)
        with pytest.raises(ValueError, match="必须"):
            load_mnist("training")


def test_the_file_cell_is_a_part_file_cell_after_its_load_ext():
    from grader.assign import nbgrader_course, notebooks

    registered = []

    class FakeIPython:
        def register_magic_function(self, function, magic_kind):
            registered.append((function.__name__, magic_kind))

    nbgrader_course.load_ipython_extension(FakeIPython())
    assert registered == [("part_file", "cell")]
    cells = notebooks.student_notebook("conv").cells
    number = next(i for i, cell in enumerate(cells) if cell.source.startswith("%%part_file conv.py\n"))
    assert cells[number - 1].source == "%load_ext grader.assign.nbgrader_course"
    text = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert 'show_report("conv", "../assignments")' in text and "`notebooks/`" in text


def test_the_json_help_says_the_submission_folder_is_fine_in_both_languages():
    from grader.cli import build_parser

    def check_help():
        parser = build_parser()
        action = next(a for a in parser._subparsers._group_actions[0].choices["check"]._actions
                      if "--json" in a.option_strings)
        return action.help

    assert "the submission's folder is fine" in check_help() and "a .py file is refused" in check_help()
    with i18n.speaking("zh"):
        assert "写在提交文件夹里也可以" in check_help()
