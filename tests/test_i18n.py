"""The grading path in Chinese: every message of this room (grader.po) and every rubric title and
hint has a Chinese version, ``--lang``, GRADER_LANG and the rubric's language choose it, and a
Chinese report holds no English sentence in the lines this room writes.

The checks' own messages (summaries, evidence, examples) come from checks.po, another room's
catalog: the report assertions below leave those lines out (the indented lines under a check,
except the rubric's hint)."""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import string
import subprocess
import sys

import pytest

from grader import i18n, runner
from grader import rubric as rubric_module
from grader.results import HIDDEN_NOTE, GRADER_ERROR, CheckResult
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS, grader
from tests.planted_bugs import BUGS, plant

ROOM_FILES = ["grader/results.py", "grader/runner.py", "grader/cli.py", "grader/batch/__init__.py",
              "grader/batch/unpack.py", "grader/batch/grading.py",
              "grader/worker/client.py", "grader/assign/nbgrader_course.py", "grader/assign/gradescope.py"]
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = r"[A-Za-z]+(?:['’-][A-Za-z]+)*"
ENGLISH_RUN = re.compile(rf"{WORD}(?:\s+{WORD}){{3,}}")
CODE_TOKEN = re.compile(r"\S*[_.()\[\]/0-9]\S*")


def english_runs(text: str) -> list[str]:
    """Runs of 4+ plain English words once code spans and identifiers (any token holding one of
    _ . ( ) [ ] / or a digit: names, calls, numbers, shapes, paths) are removed."""
    text = re.sub(r"`[^`\n]*`", " ", text)
    return ENGLISH_RUN.findall(CODE_TOKEN.sub(" ", text))


def untranslated(lines) -> list[str]:
    """Lines with an English word (not code) and no Chinese: a short sentence left in English."""
    return [line for line in lines if not CJK.search(line)
            and re.search(r"[A-Za-z]{2,}", CODE_TOKEN.sub(" ", re.sub(r"`[^`\n]*`", " ", line)))]


def messages(path) -> list[str]:
    """The literal msgids of ``_("...")`` calls in a source file."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
            and node.args and isinstance(node.args[0], ast.Constant)]


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def room_lines(report: str) -> list[str]:
    """The lines of a terminal report that this room writes: everything but the checks' own
    indented lines (the hint, from the rubric, is this room's)."""
    hint = i18n.translation("zh").gettext("Hint: {hint}").split("{")[0]
    return [line for line in report.splitlines()
            if not line.startswith(" " * 9) or line.strip().startswith(hint)]


# -- the catalogs --------------------------------------------------------------------------------
def test_the_heuristic_finds_an_english_sentence_and_spares_code():
    assert english_runs("提示：this is not translated at all") == ["this is not translated at all"]
    assert untranslated(["Total: 3/4 (1.0 s)", "== conv.py  0/19", "总分：3/4"]) == ["Total: 3/4 (1.0 s)"]
    assert english_runs("前向计算，与 F.conv2d 对照；x (2, 3, 8, 8), conv2d_forward(x, w, b)") == []
    assert english_runs("`np.pad with mode constant`") == []


@pytest.mark.parametrize("path", ROOM_FILES)
def test_every_message_has_chinese_with_the_same_placeholders(path):
    found = messages(path)
    assert found, f"{path} has no _() message"
    catalog = i18n.catalog("zh")
    for message in found + ([HIDDEN_NOTE] if path == "grader/results.py" else []):
        assert catalog.get(message), f"{path}: no Chinese for {message!r}"
        assert placeholders(catalog[message]) == placeholders(message), message
        words = re.search(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}|^grader:", "", message))  # the program's name stays
        assert CJK.search(catalog[message]) or not words, message  # not left in English


def test_a_missing_translation_is_found(tmp_path, monkeypatch):
    (tmp_path / "x.py").write_text('from grader.i18n import _\nprint(_("a sentence nobody translated"))\n')
    monkeypatch.setattr("tests.test_i18n.ROOT", tmp_path)
    with pytest.raises(AssertionError, match="no Chinese"):
        test_every_message_has_chinese_with_the_same_placeholders("x.py")


def test_every_rubric_check_has_a_chinese_title_and_hint():
    for entry in rubric_module.load().entries:
        assert CJK.search(entry.title_zh), f"{entry.id} has no title_zh"
        assert CJK.search(entry.hint_zh), f"{entry.id} has no hint_zh"
        assert english_runs(entry.title_zh + "\n" + entry.hint_zh) == [], entry.id


def test_an_english_only_rubric_still_grades_in_english():
    entry = rubric_module.Entry("conv.x", "conv", "x", "English title", 1.0, "English hint")
    assert (entry.title_in("zh"), entry.hint_in("zh")) == ("English title", "English hint")
    assert dataclasses.replace(entry, title_zh="中文").title_in("zh") == "中文"


def test_statuses_and_notes_speak_the_language():
    result = CheckResult("conv.x", "conv", "x", "t", 1.0, status=GRADER_ERROR, summary="s", hidden=True)
    before = i18n._chosen
    with i18n.speaking("zh"):
        shown = result.message(show_inputs=False)
    assert "隐藏检查" in shown and "hidden" not in shown
    assert i18n._chosen == before


def test_a_value_ending_in_chinese_joins_a_chinese_template_without_a_space():
    with i18n.speaking("zh"):
        label = i18n._("output of {label}").format(label="`conv1`")
        message = i18n._("{label} has shape {shape}, expected {expected}").format(
            label=label, shape=(2, 1), expected=(2, 2))
    assert message.startswith("`conv1` 的输出的形状是 (2, 1)"), message   # Latin beside Chinese keeps its space
    assert message.english == "output of `conv1` has shape (2, 1), expected (2, 2)"
    assert message.msgid == "{label} has shape {shape}, expected {expected}"


# -- the reports ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_stubs_report_in_chinese():
    run = grader("check", ASSIGNMENTS, "--part", "conv", "--part", "layers", "--lang", "zh",
                 env={"GRADER_LANG": ""})
    assert run.returncode == 1, run.stderr
    assert CJK.search(run.stdout)
    assert english_runs("\n".join(room_lines(run.stdout))) == [], run.stdout
    assert untranslated(room_lines(run.stdout)) == [], run.stdout
    titles = {e.title_zh for e in rubric_module.load().select(["conv", "layers"])}
    assert all(title in run.stdout for title in titles)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    for name in ("conv.py", "layers.py"):
        shutil.copyfile(SOLUTIONS / name, folder / name)
    for bug_id in ("conv_output_size_no_padding", "cross_entropy_summed"):
        plant(next(bug for bug in BUGS if bug.id == bug_id), folder)
    return folder


@pytest.mark.slow
def test_a_planted_bug_report_in_chinese(planted):
    run = grader("check", planted, "--part", "conv", "--part", "layers", env={"GRADER_LANG": "zh"})
    assert run.returncode == 1, run.stderr
    lines = room_lines(run.stdout)
    assert any(line.strip().startswith("提示：") for line in lines), run.stdout  # a hint is shown
    assert english_runs("\n".join(lines)) == [], run.stdout
    assert untranslated(lines) == [], run.stdout
    assert "总分：" in run.stdout


@pytest.mark.slow
def test_the_english_report_stays_english(planted):
    run = grader("check", planted, "--part", "conv", env={"GRADER_LANG": "", "LANG": "C.UTF-8",
                                                          "LC_ALL": "", "LC_MESSAGES": ""})
    assert not CJK.search(run.stdout + run.stderr), run.stdout
    assert "Hint: (size + 2*padding - kernel) // stride + 1" in run.stdout
    assert run.stdout.splitlines()[0].startswith("Grading ")


def test_a_usage_error_in_chinese_is_one_line():
    run = grader("check", ROOT / "no-such-folder", "--lang", "zh")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert CJK.search(run.stderr) and english_runs(run.stderr) == []


@pytest.mark.slow
def test_the_rubric_language_is_the_default_and_is_restored(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(name, "C.UTF-8")
    loaded = rubric_module.load()
    chinese = dataclasses.replace(loaded, settings=loaded.settings.replace(language="zh"))
    report = runner.grade(ASSIGNMENTS, parts=["conv"], rubric=chinese)
    assert [c.title for c in report.checks] == [e.title_zh for e in chinese.select(["conv"])]
    assert i18n.language() == "en"  # restored after the run
    english = runner.grade(ASSIGNMENTS, parts=["conv"], rubric=chinese, language="en")
    assert [c.title for c in english.checks] == [e.title for e in chinese.select(["conv"])]
    monkeypatch.setenv("GRADER_LANG", "en")  # the environment's choice outranks the rubric's
    assert not CJK.search(runner.grade(ASSIGNMENTS, parts=["conv"], rubric=chinese).checks[0].title)


@pytest.mark.slow
def test_a_chinese_release_grades_in_chinese(tmp_path):
    bundle = tmp_path / "bundle"
    built = grader("release", "--out", bundle, "--lang", "zh", timeout=300)
    assert built.returncode == 0, built.stderr
    run = subprocess.run([sys.executable, "-m", "grader", "check", "assignments", "--part", "conv"],
                         cwd=bundle, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(bundle), "LANG": "C.UTF-8",
                              "HOME": str(tmp_path)})
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("正在评分"), run.stdout
    assert english_runs("\n".join(room_lines(run.stdout))) == [], run.stdout
    assert untranslated(room_lines(run.stdout)) == [], run.stdout


@pytest.mark.slow
def test_batch_feedback_in_chinese(planted, tmp_path):
    """--lang reaches each student's grading process (the titles, hints and sentences of its
    report) and the feedback written by the batch itself."""
    root = tmp_path / "class"
    shutil.copytree(planted, root / "alice")
    run = grader("batch", root, "--out", tmp_path / "out", "--part", "conv", "--lang", "zh",
                 env={"GRADER_LANG": "en"}, timeout=600)
    assert run.returncode == 0, run.stderr
    feedback = (tmp_path / "out" / "students" / "alice" / "feedback.md").read_text(encoding="utf-8")
    assert feedback.startswith("# alice 的反馈") and "总分：" in feedback, feedback
    assert rubric_module.load().select(["conv"])[0].title_zh in feedback
    headings = [line for line in feedback.splitlines() if line.startswith(("#", "- **", "**"))]
    assert untranslated(headings) == [], feedback


@pytest.mark.slow
def test_gradescope_and_notebooks_follow_the_language(planted, tmp_path, monkeypatch):
    from grader.assign import gradescope, nbgrader_course

    monkeypatch.setenv("GRADER_LANG", "zh")  # as a zh zip's or course's rubric would say
    submission = tmp_path / "root" / "submission"
    submission.mkdir(parents=True)
    shutil.copyfile(planted / "conv.py", submission / "conv.py")
    data = gradescope.autograde(tmp_path / "root", parts=["conv"])
    assert "已评分的文件：conv.py。" in data["output"] and "总分" not in data["output"]
    assert untranslated([test["name"] for test in data["tests"]]) == []
    assert {test["status"] for test in data["tests"]} == {"passed", "failed"}  # Gradescope's words
    with pytest.raises(AssertionError, match="^未通过 conv_output_size：输出尺寸公式"):
        nbgrader_course.assert_check("conv.conv_output_size", folder=planted)
    assert i18n._chosen is None


@pytest.mark.slow
def test_a_grading_process_that_runs_out_of_time_says_so_in_chinese():
    from grader.batch.grading import GradingFailed, grade_files

    files = {"conv.py": (SOLUTIONS / "conv.py").read_bytes()}
    with pytest.raises(GradingFailed, match="^评分用时超过 0.01 秒"):
        grade_files(files, ["conv"], {}, time_limit=0.01, language="zh")


def test_the_report_s_header_and_the_learning_curve_line_speak_chinese_to_the_end():
    """The two lines a notebook's report shows that ended in English: the versions in ASCII
    parentheses, the learning curve's last epoch as 'loss 0.0142, accuracy 0.996'."""
    from types import SimpleNamespace

    from grader.checks.train import _learning_curve
    from grader.results import header

    versions = {"numpy": "2.4.6", "torch": "2.13.0"}
    history = {"loss": [0.5, 0.0142], "accuracy": [0.9, 0.996]}
    ctx = SimpleNamespace(worker=SimpleNamespace(get=lambda *args, **kwargs: SimpleNamespace(value=history)),
                          artifacts={})
    with i18n.speaking("en"):
        assert header("notebooks", versions) == "Grading notebooks  (numpy 2.4.6, torch 2.13.0)"
        assert _learning_curve(ctx, None).endswith("(2 epochs; last: loss 0.0142, accuracy 0.996).")
    with i18n.speaking("zh"):
        assert header("notebooks", versions) == "正在评分：notebooks（numpy 2.4.6、torch 2.13.0）"
        assert _learning_curve(ctx, None).endswith("（2 轮；最后一轮：损失 0.0142、准确率 0.996）。")
