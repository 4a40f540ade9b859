"""How a run of the kit's own tests is laid out on the cores under pytest-xdist (used by
tests/conftest.py): the work units and the order they start in."""

from __future__ import annotations

import re
from pathlib import Path

try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:   # without pytest-xdist the tests run one at a time
    LoadScopeScheduling = object

TESTS = Path(__file__).parent

# The units of 15 s or more on the 2-core machine (a file whose tests share a fixture is one
# unit), longest first; a unit missing here only starts later than it could. Measured with
# `python -m pytest -q --durations=0`.
LONGEST_FIRST = (
    "tests/test_train_grading.py",
    "tests/test_networks_grading.py",
    "tests/test_nbgrader.py",
    "tests/test_augment_grading.py",
    "tests/test_install.py",
    "tests/test_fair_verdicts.py::test_every_planted_layer_bug_costs_points_in_its_own_part_only",
    "tests/test_batch_dask.py",
    "tests/test_batch.py",
    "tests/test_cli.py::test_a_grader_fault_is_a_grader_error_not_a_zero",
    "tests/test_benchmarks.py::test_benchmark_runs_at_its_smallest_size",
    "tests/test_alternatives_and_bugs.py",
    "tests/test_release.py",
    "tests/test_i18n.py",
    "tests/test_notebooks_run.py",
    "tests/test_gradescope.py",
    "tests/test_check_verdicts.py::test_a_state_dict_of_copies_still_loads_the_big_networks",
    "tests/test_report.py",
)


def _files_sharing_a_fixture() -> set:
    return {f"tests/{path.name}" for path in TESTS.glob("test_*.py")
            if re.search(r"scope=\"(module|session)\"", path.read_text())}


class UnitScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with one test per unit, but one file per unit where the file
    holds a module- or session-scoped fixture. (``--dist loadgroup`` with ``xdist_group`` marks
    does not group under pytest 9.2 and pytest-xdist 3.8: xdist renames ``item._nodeid``, which
    pytest no longer reads, and every worker computed the fixture for itself.)"""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        self.grouped = _files_sharing_a_fixture()

    def _split_scope(self, nodeid: str) -> str:
        file = nodeid.split("::", 1)[0]
        return file if file in self.grouped else nodeid
