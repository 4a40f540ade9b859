"""How the kit's own tests are laid out on the cores (tests/layout.py): a file's tests share a
work unit only where they share a fixture wider than a test, and every name in LONGEST_FIRST
still names a test, so that the longest units really start first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.layout import LONGEST_FIRST, TESTS, UnitScheduling, _files_sharing_a_fixture

xdist = pytest.importorskip("xdist")


def test_a_file_is_one_unit_only_where_its_tests_share_a_fixture():
    grouped = _files_sharing_a_fixture()
    assert "tests/test_train_grading.py" in grouped     # its module-scoped report of another train.py
    assert "tests/test_cli.py" not in grouped
    scheduling = SimpleNamespace(grouped=grouped, _split_scope=UnitScheduling._split_scope)
    assert scheduling._split_scope(scheduling, "tests/test_train_grading.py::test_stubs_get_zero_cleanly") == \
        "tests/test_train_grading.py"
    assert scheduling._split_scope(scheduling, "tests/test_cli.py::test_exit_codes_follow_the_verdict") == \
        "tests/test_cli.py::test_exit_codes_follow_the_verdict"


def test_every_longest_first_name_is_a_test():
    for prefix in LONGEST_FIRST:
        file, _, test = prefix.partition("::")
        path = TESTS.parent / file
        assert path.is_file(), prefix
        assert not test or f"def {test}" in path.read_text(), prefix
