"""The rubric (data) and the registered checks (code) agree."""

import pytest

from grader import rubric
from grader.checks.harness.base import CHECKS
from grader.runner import load_checks


def test_every_rubric_entry_has_a_check_and_every_check_is_graded():
    loaded = rubric.load()
    load_checks(loaded.parts, include_hidden=True)
    ids = {entry.id for entry in loaded.entries}
    assert ids == set(CHECKS), (ids ^ set(CHECKS))
    assert all(entry.points > 0 for entry in loaded.entries)


def test_rubric_errors_are_clear(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('[parts]\nconv = "conv.py"\n[[checks]]\nid = "nope.x"\nname = "x"\n')
    with pytest.raises(ValueError, match="belongs to no part"):
        rubric.load(path)
    path.write_text('[parts]\nconv = "conv.py"\n[[checks]]\nid = "conv.x"\nname = "x"\npoints = -1\n')
    with pytest.raises(ValueError, match="invalid points"):
        rubric.load(path)
