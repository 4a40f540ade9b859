"""The augmentation part: full marks for the reference and for a correct submission written
another way, zero for the stubs, every planted bug losing points on its own check, and a
gain check that marks down an augmentation that hurts and refuses a baseline that did not learn."""

import re
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from grader.runner import grade
from tests.helpers import ASSIGNMENTS, SOLUTIONS, assemble, failures, own_checks, restricted_rubric
from tests.planted_bugs_augment import BUGS, CHECK_OF_BUG, apply_bug, plant

OTHER_AUGMENT = Path(__file__).resolve().parent / "submissions" / "other_augment"


def _rubric(keep) -> rubric_module.Rubric:
    """The augment part's rubric restricted to the checks ``keep(entry)`` selects."""
    return restricted_rubric(parts={"augment"}, keep=keep)


WITHOUT_GAIN = _rubric(lambda e: e.id != "augment.gain")
GAIN_ONLY = _rubric(lambda e: e.id == "augment.gain")


@pytest.fixture(scope="module")
def reference_report():
    return grade(SOLUTIONS, parts=["augment"], include_hidden=True, rubric=own_checks("augment"))


@pytest.mark.slow
def test_reference_gets_full_marks(reference_report):
    assert {c.id for c in reference_report.checks} == {e.id for e in _rubric(lambda e: True).entries}
    assert reference_report.score == reference_report.max_score > 0, failures(reference_report)
    gained = next(c for c in reference_report.checks if c.id == "augment.gain")
    assert "held-out accuracy" in gained.output and "without augmentation: training" in gained.output


@pytest.mark.slow
def test_stubs_get_zero_cleanly():
    report = grade(ASSIGNMENTS, parts=["augment"])
    assert report.score == 0
    assert all("Traceback" not in c.output and "internal grader error" not in c.output for c in report.checks)


@pytest.mark.slow
def test_other_augment_gets_full_marks(tmp_path):
    """Its own matrix construction, loops, composition and training recipe, over the reference
    layers, networks and train.py."""
    folder = assemble(tmp_path / "submission", SOLUTIONS, OTHER_AUGMENT)
    report = grade(folder, parts=["augment"], include_hidden=True, rubric=own_checks("augment"))
    assert report.score == report.max_score > 0, failures(report)


# ------------------------------------------------------------------------------ planted bugs

def test_every_planted_bug_names_its_check():
    assert set(CHECK_OF_BUG) == {bug.id for bug in BUGS}
    entries = {e.id: e for e in rubric_module.load().entries}
    assert all(entries[CHECK_OF_BUG[bug.id]].name == bug.function for bug in BUGS)


@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_augment_bug_applies_cleanly(bug):
    text = (SOLUTIONS / bug.file).read_text()
    mutated = apply_bug(bug, text)          # raises unless old occurs exactly once
    assert mutated != text
    compile(mutated, bug.file, "exec")


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_augment_bug_loses_points_on_its_check(bug, solution_copy):
    """Graded without the (slow) gain check, unless the bug is the gain check's (its two trainings):
    every other bug is a contract bug that a faster check sees."""
    plant(bug, solution_copy)
    gain = CHECK_OF_BUG[bug.id] == "augment.gain"
    report = grade(solution_copy, rubric=GAIN_ONLY if gain else WITHOUT_GAIN)
    checks = {c.id: c for c in report.checks}
    own = checks[CHECK_OF_BUG[bug.id]]
    assert own.score < own.max_score, f"{bug.id} ({bug.why}) lost no points on {own.id}"
    if gain:   # the one bug of the gain check leaves train_lenet_small's default augment=True untrue
        assert "trained exactly the weights of augment=False" in own.output, own.output
    else:
        # a drawn example ("x (2, 1, 4, 4) uniform ...") or, for a ValueError, the call as made ("affine(x (2, 1, 4, 4), ...")
        assert re.search(r"Smallest failing example: (\w+\()?x \(", own.output), own.output
    assert all("internal grader error" not in c.output and "Traceback" not in c.output for c in report.checks)


# -------------------------------------------------------------------------------- the gain check

HARMFUL_AUGMENTATION = """

def augment_batch(x, rng):
    # mirrored and turned upside down at random: many digits become other digits or none
    turned = random_affine(x, 180.0, (0.9, 1.1), 2.0, rng)
    return horizontal_flip(turned, 0.5, rng)
"""

NO_TRAINING = """

def train_lenet_small(X, y, rng, augment=True):
    return LeNet5(activation="relu").eval()
"""


@pytest.mark.slow
def test_augmentation_that_hurts_loses_the_gain_points(solution_copy):
    path = solution_copy / "augment.py"
    path.write_text(path.read_text() + HARMFUL_AUGMENTATION)
    (check,) = grade(solution_copy, rubric=GAIN_ONLY).checks
    assert check.score < 0.5 * check.max_score, check.output
    assert "changed the held-out accuracy by" in check.output


@pytest.mark.slow
def test_a_baseline_that_did_not_learn_is_refused(solution_copy):
    path = solution_copy / "augment.py"
    path.write_text(path.read_text() + NO_TRAINING)
    (check,) = grade(solution_copy, rubric=GAIN_ONLY).checks
    assert check.score == 0
    assert "on its own 500 training digits" in check.output, check.output
