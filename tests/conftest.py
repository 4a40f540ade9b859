"""Shared fixtures: the repository's folders and a way to grade a folder of files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"
LAYER_PARTS = ("conv", "pooling", "batchnorm", "layers")


@pytest.fixture
def solution_copy(tmp_path):
    """A copy of the reference solutions that a test may edit."""
    target = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, target)
    return target
