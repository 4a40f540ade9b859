"""Which file belongs to which part is the rubric's [parts] alone: rename a file there and the
grader imports, names and replays the renamed file."""

import dataclasses
import shutil

import pytest

from grader import rubric as rubric_module
from grader.config import RUBRIC_FILE
from grader.runner import grade
from tests.helpers import SOLUTIONS


@pytest.fixture
def renamed(tmp_path):
    """A rubric whose conv part is convolution.py (two of its checks), and a submission holding it."""
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC_FILE.read_text(encoding="utf-8").replace(
        'conv = "conv.py"', 'conv = "convolution.py"'), encoding="utf-8")
    rubric = rubric_module.load(path)
    rubric = dataclasses.replace(rubric, entries=tuple(
        e for e in rubric.entries if e.id in ("conv.conv_output_size", "conv.receptive_field")))
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copyfile(SOLUTIONS / "conv.py", submission / "convolution.py")
    return rubric, submission


@pytest.mark.slow
def test_a_part_renamed_in_the_rubric_is_graded_from_its_file(renamed):
    rubric, submission = renamed
    report = grade(submission, parts=["conv"], rubric=rubric, references=None)
    assert report.score == report.max_score > 0, report.render_text()
    assert "== convolution.py" in report.render_text()
    assert "## convolution.py" in report.render_markdown("t")
    assert all(t["name"].startswith("convolution.py: ") for t in report.to_gradescope()["tests"])


@pytest.mark.slow
def test_a_renamed_part_s_failure_names_and_replays_its_file(renamed):
    rubric, submission = renamed
    source = (submission / "convolution.py").read_text()
    (submission / "convolution.py").write_text(source.replace(
        "    size = _int(size, \"size\")", "    size = _int(size, \"size\") + 1", 1))
    report = grade(submission, parts=["conv"], rubric=rubric, references=None)
    failed = next(c for c in report.checks if c.id == "conv.conv_output_size")
    assert not failed.passed
    assert "import convolution" in failed.output and "convolution.conv_output_size(" in failed.output
    (submission / "convolution.py").unlink()
    missing = grade(submission, parts=["conv"], rubric=rubric, references=None)
    assert "convolution.py is missing" in missing.checks[0].output
