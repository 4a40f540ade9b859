"""Fixtures shared by the test files, hypothesis' profile, and how a run is laid out. Under
pytest-xdist (both cores by default) each test is a work unit of its own, except that the tests
of a file holding a module- or session-scoped fixture stay together, so that the fixture is
computed once; the units start longest first, so that the workers finish together
(tests/layout.py). Without xdist the tests marked ``slow`` (they grade, train,
execute a notebook or build a release) run after the quick ones. The constants and plain
helpers are in tests/helpers.py."""

from __future__ import annotations

import os
import pickle
import shutil

import pytest
from filelock import FileLock
from hypothesis import settings

from tests.helpers import LAYER_PARTS, SOLUTIONS, own_checks
from tests.layout import LONGEST_FIRST, UnitScheduling

# Derandomised and without an example database: the same examples on every run and in every
# xdist worker, and no .hypothesis folder written.
settings.load_profile("ci")

# Every `grader check` the tests start grades from scratch: a result kept from an earlier test
# (grader.rerun) would hide what the test is about. tests/test_speed.py tests the reuse itself.
os.environ["GRADER_FRESH"] = "1"


@pytest.hookimpl(tryfirst=True)   # before xdist's own hook reads the options
def pytest_cmdline_main(config):
    """Both cores by default (``-n auto`` with ``UnitScheduling``), unless the command says
    otherwise (``-n 0``, ``-p no:xdist``, ``--dist``); set here rather than in addopts so that an
    environment without pytest-xdist still runs the tests, one at a time."""
    if (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and config.option.numprocesses is None and config.option.dist == "no"):
        config.option.numprocesses = "auto"
        config.option.dist = "loadscope"
        config.option.loadscopereorder = False   # keep LONGEST_FIRST's order
        config.stash[_UNITS] = True


_UNITS = pytest.StashKey[bool]()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.stash.get(_UNITS, False):
        return UnitScheduling(config, log)
    return None


def pytest_collection_modifyitems(config, items):
    def order(item):
        rank = next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONGEST_FIRST))
        return (rank, item.get_closest_marker("slow") is None) if distributed else \
            (item.get_closest_marker("slow") is not None,)

    distributed = config.getoption("dist", "no") != "no"
    items.sort(key=order)   # a stable sort


@pytest.fixture(autouse=True)
def _quick_tests_start_no_worker(request, monkeypatch):
    """A test not marked ``slow`` never starts the grader's worker (a grading): the quick run
    (``-m "not slow"``) stays a developer's inner loop."""
    if request.node.get_closest_marker("slow") is None:
        from grader.worker.client import Worker

        def refuse(self, *args, **kwargs):
            pytest.fail("this test starts the grader's worker: mark it @pytest.mark.slow", pytrace=False)

        monkeypatch.setattr(Worker, "start", refuse)


def computed_once(tmp_path_factory, name: str, compute):
    """``compute()``'s result, computed once per test run however many xdist workers ask for it:
    the first computes it under a file lock and leaves it in the run's temporary folder."""
    base = tmp_path_factory.getbasetemp()
    if base.name.startswith("popen-gw"):   # an xdist worker's folder: the run's is its parent
        base = base.parent
    path = base / f"{name}.pickle"
    with FileLock(f"{path}.lock"):
        if path.exists():
            return pickle.loads(path.read_bytes())
        result = compute()
        path.write_bytes(pickle.dumps(result))
        return result


def _graded_reference(parts, include_hidden=False):
    from grader.runner import grade   # not on the quick tests' path: it imports torch

    return lambda: grade(SOLUTIONS, parts=parts, include_hidden=include_hidden, rubric=own_checks(*parts))


@pytest.fixture(scope="session")
def reference_layers_report(tmp_path_factory):
    """The reference solutions graded on the layer parts, hidden checks included."""
    return computed_once(tmp_path_factory, "reference_layers_report", _graded_reference(LAYER_PARTS, True))


@pytest.fixture(scope="session")
def reference_train_report(tmp_path_factory):
    """The reference solutions graded on the train part: the one full training of the reference
    in the test processes."""
    return computed_once(tmp_path_factory, "reference_train_report", _graded_reference(["train"]))


@pytest.fixture
def solution_copy(tmp_path):
    """A copy of the reference solutions that a test may edit."""
    target = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, target)
    return target
