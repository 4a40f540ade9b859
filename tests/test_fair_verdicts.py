"""A bug costs points once, in the part whose file has it (issue: fair verdicts).

Under official grading (``grader batch``, where the kit's solutions are at hand) a part that
uses a file failing its own checks is graded with the reference file in its place; in a
student release the dependent check leads with "fix that file first". Reference code in the
worker must not leak through the feedback."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from grader import rubric as rubric_module
from grader.runner import grade
from tests.helpers import LAYER_FILES, ROOT, SOLUTIONS, restricted_rubric
from tests.planted_bugs import BUGS, apply_bug
BATCH_PARTS = ("conv", "pooling", "batchnorm", "layers", "modules")


def _with_bug(target, bug, files=None):
    """A copy of the reference with ``bug`` planted: every file, or only ``files`` (the bug's own among them)."""
    if files is None:
        shutil.copytree(SOLUTIONS, target)
    else:
        target.mkdir(parents=True)
        for name in {bug.file, *files}:
            shutil.copyfile(SOLUTIONS / name, target / name)
    path = target / bug.file
    path.write_text(apply_bug(bug, path.read_text()))
    return target


def _bn_bug():
    return next(bug for bug in BUGS if bug.id == "bn_running_var_biased")


@pytest.mark.slow
@pytest.mark.parametrize("file", LAYER_FILES)
def test_every_planted_layer_bug_costs_points_in_its_own_part_only(file, tmp_path):
    """Every planted bug of ``file``, one student each, graded through `grader batch` on its own
    part and the parts that run that file (the rubric's [uses]: modules), the student handing in
    those parts' files only: the batch grades the dependent part with the reference's files in
    place of the missing ones and of the failing one, and says so."""
    rubric = rubric_module.load()
    part = next(p for p, f in rubric.parts.items() if f == file)
    parts = [part, *(user for user, used in rubric.uses.items() if part in used and user in BATCH_PARTS)]
    assert "modules" in parts, parts
    bugs = [bug for bug in BUGS if bug.file == file]
    for bug in bugs:   # the graded parts' files only: the batch uses the reference for the rest
        _with_bug(tmp_path / "class" / bug.id, bug, files=[rubric.parts[graded] for graded in parts])
    out = tmp_path / "grades"
    command = [sys.executable, "-m", "grader", "batch", str(tmp_path / "class"), "--out", str(out), "--jobs", "1"]
    for graded in parts:
        command += ["--part", graded]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(out / "gradebook.csv") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    full = rubric.select(parts, include_hidden=True)
    maximum = {graded: sum(e.points for e in full if e.part == graded) for graded in parts}
    for bug in bugs:
        row = rows[bug.id]
        assert float(row[part]) < maximum[part], (bug.id, row)
        for graded in parts:
            if graded != part:
                assert float(row[graded]) == maximum[graded], (bug.id, graded, row)
        feedback = (out / "students" / bug.id / "feedback.md").read_text().lower()
        assert f"graded with the reference {file}, because yours fails" in feedback, bug.id


@pytest.mark.slow
def test_in_a_student_release_the_dependent_part_says_fix_that_file_first_once(tmp_path):
    report = grade(_with_bug(tmp_path / "s", _bn_bug()), parts=["batchnorm", "modules"], references=None)
    failed = [c for c in report.checks if c.part == "modules" and not c.passed]
    assert failed, "the bug should show in the modules part of a release (no references there)"
    own = sum(1 for c in report.checks if c.part == "batchnorm" and not c.passed)
    assert own >= 1
    assert report.notes["modules"] == [f"this part runs your batchnorm.py, which fails {own} of its own checks "
                                       "(their points are counted there): fix it first"]
    for check in failed:  # said once, at the part's head, not on each line
        assert "batchnorm.py" not in check.summary, check.summary
    text = report.render_text()
    assert text.count(f"which fails {own} of its own checks") == 1
    assert text.index(f"which fails {own}") < text.index(failed[0].title)


ATTACK = '''
import os as _os

_SECRET = 987654.0 + len(open(_os.path.join(_os.path.dirname(__file__), "batchnorm.py")).read())


class BatchNorm1d(BatchNorm1d):
    def forward(self, x):
        out = super().forward(x)
        return np.full_like(out, _SECRET)
'''


@pytest.mark.slow
def test_reference_code_in_the_worker_cannot_be_smuggled_out(tmp_path):
    """The student's batchnorm.py fails its checks, so modules runs beside the reference one;
    their modules.py reads it and returns its length in every output value."""
    root = tmp_path / "class"
    student = _with_bug(root / "mallory", _bn_bug())
    with open(student / "modules.py", "a") as handle:
        handle.write(ATTACK)
    out = tmp_path / "grades"
    run = subprocess.run([sys.executable, "-m", "grader", "batch", str(root), "--out", str(out),
                          "--part", "batchnorm", "--part", "modules"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    folder = out / "students" / "mallory"
    results = json.loads((folder / "results.json").read_text())
    batchnorm1d = next(t for t in results["tests"] if t["name"].startswith("modules.py: BatchNorm1d"))
    assert batchnorm1d["score"] == 0, "the attack's wrong outputs must fail"
    secret = 987654 + len((SOLUTIONS / "batchnorm.py").read_text())
    for text in ((folder / "feedback.md").read_text(), json.dumps(results)):
        assert str(secret) not in text and f"{secret:.3g}" not in text


def test_withheld_feedback_keeps_the_departing_layer_and_nothing_computed():
    from grader.checks.harness.network import DepartureLine
    from grader.results import CheckResult
    from grader.runner import _withhold

    result = CheckResult("networks.lenet5", "networks", "LeNet5", "t", 4.0,
                         summary="out differs: the largest by 987654 at index [0]",
                         lines=[DepartureLine("    The first layer that departs is `conv1`"), "    987654.0"],
                         example="x (2, 1, 32, 32)")
    _withhold(result)
    assert result.lines == ["The first layer that departs is `conv1`"] and result.example is None
    assert "987654" not in result.message()
    stub = CheckResult("modules.linear", "modules", "Linear", "t", 3.0,  # a stub is a fact, not its wording
                       summary="not implemented yet (the function raises NotImplementedError)", unwritten=True)
    _withhold(stub)
    assert stub.summary.startswith("not implemented yet")


@pytest.mark.slow
def test_a_file_that_is_not_handed_in_is_called_missing_not_failing(tmp_path):
    (tmp_path / "train.py").write_bytes((SOLUTIONS / "train.py").read_bytes())
    # train's cheapest check (the notes are what this is about); the earlier parts' checks stay
    rubric = restricted_rubric(keep=lambda entry: entry.part != "train" or entry.id == "train.sgd_step")
    released = grade(tmp_path, parts=["train"], references=None, rubric=rubric)
    assert "this part runs your networks.py, which is missing: write it first" in released.notes["train"]
    official = grade(tmp_path, parts=["train"], rubric=rubric)
    assert "graded with the reference networks.py, because yours is missing" in official.notes["train"]
    assert not any("fails" in note for note in official.notes["train"] + released.notes["train"])
