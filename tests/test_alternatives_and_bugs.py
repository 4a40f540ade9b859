"""The grader against known-good and known-bad submissions.

(a) Every alternative correct submission in ``tests/submissions/`` (written
    another way than the reference: loops, einsum, other derivations, other
    cache layouts, other memory layouts) gets full marks on every check.
(b) Every planted bug of ``tests/planted_bugs.py``, applied to a copy of the
    reference solutions, loses points, and on a check of the contract name the
    bug is in.

Grading includes the hidden checks: the score that counts is the one of
``grader batch``, which runs them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.runner import grade
try:  # tests/ is a package (tests/__init__.py); fall back to a plain directory on sys.path
    from tests.planted_bugs import BUGS, apply_bug, plant
except ImportError:  # pragma: no cover
    from planted_bugs import BUGS, apply_bug, plant

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
FILES = ("conv.py", "pooling.py", "batchnorm.py", "layers.py")
PARTS = [name[:-3] for name in FILES]
ALTERNATIVES = ("loops", "einsum")
INCLUDE_HIDDEN = True


def _failures(report) -> str:
    lines = []
    for check in report.checks:
        if not check.passed:
            lines.append(f"--- {check.id} ({check.name}): {check.score:g}/{check.max_score:g}")
            lines.extend("    " + line for line in check.output.splitlines())
    return "\n".join(lines)


# --------------------------------------------------------------- (a) alternatives

@pytest.fixture(scope="module", params=ALTERNATIVES)
def alternative_report(request):
    """Each alternative is graded once per module (the loops one is slow)."""
    folder = SUBMISSIONS / request.param
    assert all((folder / name).is_file() for name in FILES), f"{folder} must hold {FILES}"
    return grade(folder, parts=PARTS, include_hidden=INCLUDE_HIDDEN)


def test_alternative_gets_full_marks(alternative_report):
    report = alternative_report
    assert report.checks, "the grader ran no checks"
    assert set(PARTS) <= {check.part for check in report.checks}
    assert report.score == report.max_score, (
        f"a correct submission ({report.submission}) lost points: "
        f"{report.score:g}/{report.max_score:g}\n{_failures(report)}")
    assert all(check.passed and check.score == check.max_score for check in report.checks)


def test_reference_gets_full_marks():
    """The baseline of (b): the unmodified reference solutions pass everything."""
    report = grade(SOLUTIONS, parts=PARTS, include_hidden=INCLUDE_HIDDEN)
    assert report.score == report.max_score, _failures(report)


# ------------------------------------------------------------------ (b) planted bugs

@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_applies_cleanly(bug):
    """``old`` occurs exactly once in the current reference, and the edit changes it."""
    assert bug.file in FILES
    text = (SOLUTIONS / bug.file).read_text()
    mutated = apply_bug(bug, text)          # raises unless old occurs exactly once
    assert mutated != text
    compile(mutated, bug.file, "exec")      # still valid Python


@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_loses_points(bug, tmp_path):
    for name in FILES:
        shutil.copy(SOLUTIONS / name, tmp_path / name)
    plant(bug, tmp_path)
    report = grade(tmp_path, parts=[bug.part], include_hidden=INCLUDE_HIDDEN)
    summary = ", ".join(f"{c.id}={c.score:g}/{c.max_score:g}" for c in report.checks)
    assert report.score < report.max_score, (
        f"bug {bug.id} ({bug.why}) kept full marks: {summary}")
    failed_names = {check.name for check in report.checks if not check.passed}
    assert bug.function in failed_names, (
        f"bug {bug.id} is in {bug.function}, but the failing checks name {sorted(failed_names)}: "
        f"{summary}")
