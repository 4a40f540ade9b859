"""The kit installed without -e (a wheel, as a grading server installs it) grades in full:
the digits of the training part travel with it."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from tests.helpers import ROOT, SOLUTIONS

pytestmark = pytest.mark.slow   # every test here grades, builds or executes


def test_a_wheel_install_grades_the_training_part_in_full(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                            "-w", str(tmp_path / "wheels")], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies from the environment running the tests; the kit itself from the wheel
    Path(inner, "outer-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True).stdout.strip()
    assert where.startswith(inner), where

    submission = tmp_path / "work"
    shutil.copytree(SOLUTIONS, submission)
    run = subprocess.run([str(venv / "bin" / "grader"), "check", str(submission), "--part", "train", "-q"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    full = sum(e.points for e in rubric_module.load().select(["train"]))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"Total: {full:g}/{full:g} "), run.stdout
