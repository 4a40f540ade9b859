"""One validated Settings: every limit of a grading run lives there and nothing else repeats it."""

import dataclasses
import shutil
import zipfile
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from grader.batch.unpack import HandInError, collect
from grader.config import DEFAULTS, RUBRIC_FILE, Settings, SettingsError
from grader.errors import UsageError
from grader.worker.client import Limits, Worker
from tests.helpers import ROOT


def test_settings_of_the_wrong_kind_are_refused_in_one_message():
    with pytest.raises(SettingsError) as refused:
        DEFAULTS.replace(call_timeout="thirty", memory_bytes=-1, language="fr")
    message = str(refused.value)
    assert "\n" not in message
    for named in ("call_timeout='thirty'", "memory_bytes=-1", "language='fr'"):
        assert named in message
    assert isinstance(refused.value, UsageError) and isinstance(refused.value, ValueError)


@pytest.mark.parametrize("changes", [
    {"call_timeout": 0}, {"call_timeout": float("inf")}, {"threads": True}, {"cpu_seconds": 1.5},
    {"full_marks_accuracy": 1.5}, {"zero_marks_accuracy": 0.97},
    {"zero_marks_gain": 0.02}, {"full_marks_gain": -0.1}, {"notebook_cell_timeout": "an hour"}, {"copied_bytes": "64M"}])
def test_each_kind_of_setting_is_validated(changes):
    with pytest.raises(SettingsError):
        DEFAULTS.replace(**changes)


def test_unknown_settings_and_good_ones():
    with pytest.raises(SettingsError, match="call_timout"):
        DEFAULTS.replace(call_timout=3)
    assert DEFAULTS.replace(call_timeout=5, language="zh").call_timeout == 5  # an int is a number of seconds
    assert Settings() == DEFAULTS


def test_a_rubric_with_a_bad_setting_is_refused(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC_FILE.read_text(encoding="utf-8") + '\n[settings]\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="language='fr'"):
        rubric_module.load(path)


def test_the_worker_s_limits_are_the_settings_own():
    settings = DEFAULTS.replace(memory_bytes=1 << 30, cpu_seconds=60, file_bytes=1 << 20, processes=4)
    config = Limits.from_settings(settings, ("/x",)).config()
    assert (config["memory_bytes"], config["cpu_seconds"], config["file_bytes"], config["processes"]) == \
        (1 << 30, 60, 1 << 20, 4)
    assert {f.name for f in dataclasses.fields(Limits)} == {"settings", "hide"}  # no copied defaults
    assert Limits().settings is DEFAULTS


def test_the_worker_copies_at_most_the_settings_bytes(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n" * 10)   # 60 bytes each
    worker = Worker(str(tmp_path), limits=Limits(DEFAULTS.replace(copied_bytes=100)))
    scratch = worker._make_scratch()
    try:
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["a.py"]
    finally:
        shutil.rmtree(scratch)


def test_the_hand_in_caps_are_settings(tmp_path):
    archive = tmp_path / "hand-in.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(3):
            zipped.writestr(("conv.py", "pooling.py", "layers.py")[number], "x = 1\n")
    assert collect(archive, tmp_path / "ok") == []
    with pytest.raises(HandInError, match="at most 2"):
        collect(archive, tmp_path / "few", DEFAULTS.replace(hand_in_members=2))
    with pytest.raises(HandInError):
        collect(archive, tmp_path / "small", DEFAULTS.replace(hand_in_total_bytes=10))


def test_the_contract_states_the_augment_gain_that_earns_full_marks():
    points = f"{100 * DEFAULTS.full_marks_gain:g}"
    assert DEFAULTS.zero_marks_gain == 0.0
    assert f"full marks from +{points} points" in " ".join((ROOT / "EXERCISES.md").read_text().split())
    assert f"提高 {points} 个百分点即得满分，没有提高则不得分" in (ROOT / "EXERCISES.zh.md").read_text()


def test_the_contract_says_which_checks_have_a_time_limit():
    """Correct code may be slow, except in the trainings: each training check with a timeout
    setting (overfit_timeout, train_timeout, augment_timeout) is named in the contract as limited
    in time, in both languages (a loop conv, correct, lost the sanity training's points and
    train_lenet_small's while the contract promised no deadline but train_lenet's)."""
    from grader.checks.train import OVERFIT_DIGITS, OVERFIT_STEPS

    assert {"overfit_timeout", "train_timeout", "augment_timeout"} <= set(DEFAULTS.__dataclass_fields__)
    english = " ".join((ROOT / "EXERCISES.md").read_text().split())
    chinese = (ROOT / "EXERCISES.zh.md").read_text()
    assert (f"The trainings are the exception: the sanity check of `train.py` ({OVERFIT_STEPS} steps of SGD on {OVERFIT_DIGITS} digits), "
            "`train_lenet` and each run of `train_lenet_small` call your layers thousands of times within "
            "time limits") in english
    assert (f"训练是例外：`train.py` 的合理性检查（在 {OVERFIT_DIGITS} 个数字上做 {OVERFIT_STEPS} 步 SGD）、"
            "`train_lenet` 以及 `train_lenet_small` 的每次运行") in chinese
    assert "for a fixed number of epochs, within a time limit;" in english and "训练固定的轮数，限定时间；" in chinese


def test_the_worker_s_cpu_budget_never_cuts_a_grading_whose_checks_keep_their_limits():
    """One worker runs a whole grading, and RLIMIT_CPU counts its whole life: at 1,800 s a
    submission slow but within every check's own limit (train_lenet 600 s, the sanity training
    300 s, two train_lenet_small runs of 300 s, the networks) could be killed mid-check, told
    'a resource limit: memory or CPU time'. The budget is a backstop, not the tighter limit."""
    trainings = DEFAULTS.train_timeout + DEFAULTS.overfit_timeout + 2 * DEFAULTS.augment_timeout
    assert DEFAULTS.cpu_seconds >= trainings + DEFAULTS.network_timeout
    assert DEFAULTS.cpu_seconds >= DEFAULTS.student_time_limit
