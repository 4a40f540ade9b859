"""The grader against known-good and known-bad submissions.

(a) Every alternative correct submission in ``tests/submissions/`` (written
    another way than the reference: loops, einsum, other derivations, other
    cache layouts, other memory layouts) gets full marks on every check.
(b) Every planted bug of ``tests/planted_bugs.py``, applied to a copy of the
    reference solutions, loses points, and on a check of the contract name the
    bug is in (only that name's checks are graded: the others are not the bug's).

Grading includes the hidden checks: the score that counts is the one of
``grader batch``, which runs them.
"""

from __future__ import annotations

import shutil

import pytest

from grader.runner import grade
from tests.helpers import LAYER_FILES as FILES, LAYER_PARTS as PARTS, SOLUTIONS, SUBMISSIONS, failures, restricted_rubric
from tests.planted_bugs import BUGS, apply_bug, plant

ALTERNATIVES = ("loops", "einsum")
INCLUDE_HIDDEN = True


# --------------------------------------------------------------- (a) alternatives

@pytest.fixture(scope="module", params=ALTERNATIVES)
def alternative_report(request):
    """Each alternative is graded once per module (the loops one is slow)."""
    folder = SUBMISSIONS / request.param
    assert all((folder / name).is_file() for name in FILES), f"{folder} must hold {FILES}"
    return grade(folder, parts=PARTS, include_hidden=INCLUDE_HIDDEN)


@pytest.mark.slow
def test_alternative_gets_full_marks(alternative_report):
    report = alternative_report
    assert report.checks, "the grader ran no checks"
    assert set(PARTS) <= {check.part for check in report.checks}
    assert report.score == report.max_score, (
        f"a correct submission ({report.submission}) lost points: "
        f"{report.score:g}/{report.max_score:g}\n{failures(report)}")
    assert all(check.passed and check.score == check.max_score for check in report.checks)


@pytest.mark.slow
def test_reference_gets_full_marks(reference_layers_report):
    """The baseline of (b): the unmodified reference solutions pass everything."""
    report = reference_layers_report
    assert {check.part for check in report.checks} == set(PARTS) and INCLUDE_HIDDEN
    assert any(check.hidden for check in report.checks)
    assert report.score == report.max_score, failures(report)


# ------------------------------------------------------------------ (b) planted bugs

@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_applies_cleanly(bug):
    """``old`` occurs exactly once in the current reference, and the edit changes it."""
    assert bug.file in FILES
    text = (SOLUTIONS / bug.file).read_text()
    mutated = apply_bug(bug, text)          # raises unless old occurs exactly once
    assert mutated != text
    compile(mutated, bug.file, "exec")      # still valid Python


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_loses_points(bug, tmp_path):
    for name in FILES:
        shutil.copy(SOLUTIONS / name, tmp_path / name)
    plant(bug, tmp_path)
    own_checks = restricted_rubric(names={bug.function}, parts={bug.part})
    report = grade(tmp_path, rubric=own_checks, include_hidden=INCLUDE_HIDDEN)
    summary = ", ".join(f"{c.id}={c.score:g}/{c.max_score:g}" for c in report.checks)
    assert report.score < report.max_score, (
        f"bug {bug.id} ({bug.why}) kept full marks: {summary}")
    failed_names = {check.name for check in report.checks if not check.passed}
    assert bug.function in failed_names, (
        f"bug {bug.id} is in {bug.function}, but the failing checks name {sorted(failed_names)}: "
        f"{summary}")
