"""Shared fixtures: the repository's folders and a way to grade a folder of files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Every `grader check` the tests start grades from scratch: a result kept from an earlier test
# (grader.rerun) would hide what the test is about. tests/test_speed.py tests the reuse itself.
os.environ["GRADER_FRESH"] = "1"

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"
LAYER_PARTS = ("conv", "pooling", "batchnorm", "layers")
SUBMISSIONS = ROOT / "tests" / "submissions"


def assemble(target: Path, *folders: Path) -> Path:
    """A submission in ``target`` made of the .py files of ``folders``, a later folder's file
    replacing an earlier one's: an alternative keeps only the files it writes its own way."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            shutil.copyfile(path, target / path.name)
    return target


@pytest.fixture
def solution_copy(tmp_path):
    """A copy of the reference solutions that a test may edit."""
    target = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, target)
    return target
