"""The notebooks as an nbgrader course, with real nbgrader, headless, in a temporary course
holding all seven notebooks as one assignment:

- ``generate_assignment`` gives exactly the student notebooks of notebooks/ (no solution,
  no hidden test, the file cell writing the stub of assignments/);
- ``autograde`` of a filled-in copy gives the score that the grader gives the same files,
  check by check. One student hands in conv and layers only (two parts keep it fast, and
  conv has a hidden test; the five notebooks not handed in score zero);
- ``autograde`` of the untouched release (all seven notebooks, another student) gives zero,
  and no cell but the graded test cells raises.

Both students are autograded in one nbgrader run.
"""

from __future__ import annotations

import json
import shutil
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import rubric as rubric_module
from grader.assign import notebooks
from grader.assign.nbgrader_course import write_course
from grader.runner import grade
from tests.helpers import ASSIGNMENTS

pytestmark = pytest.mark.slow   # every test here grades, builds or executes

ASSIGNMENT = "cnn"
PARTS = list(rubric_module.load().parts)
FILLED_PARTS = ("conv", "layers")  # what alice hands in, filled in; bob hands in everything untouched


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs its own commands (alembic) by name: those of this environment, activated or not
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True,
                            text=True, timeout=1800, env=dict(os.environ, PATH=path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    write_course(course, assignment=ASSIGNMENT)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


@pytest.fixture(scope="module")
def autograded(course):
    submit(course, "alice", FILLED_PARTS, fill=True)
    submit(course, "bob", PARTS, fill=False)
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return course


def grade_cells(notebook):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]


def test_generate_assignment_gives_the_student_notebooks(course):
    for part in PARTS:
        released = nbformat.read(course / "release" / ASSIGNMENT / notebooks.notebook_name(part), as_version=4)
        ours = notebooks.student_notebook(part)  # what notebooks/ holds (tests/test_release.py)
        assert [(c.cell_type, c.source) for c in released.cells] == \
               [(c.cell_type, c.source) for c in ours.cells], f"{part}: nbgrader's student version differs"
        text = "\n".join(c.source for c in released.cells)
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text
        file_cell = next(c for c in released.cells if c.source.startswith("%%part_file"))
        assert file_cell.source.partition("\n")[2] == (ASSIGNMENTS / f"{part}.py").read_text()
        hidden = [e.id for e in rubric_module.load().entries if e.hidden and e.part == part]
        assert not any(check_id in text for check_id in hidden)


def submit(course: Path, student: str, parts, fill: bool) -> None:
    """The released notebooks of ``parts`` as a student hands them in, the file cells filled
    with the solution (``fill``) or untouched."""
    target = course / "submitted" / student / ASSIGNMENT
    target.mkdir(parents=True)
    for part in parts:
        name = notebooks.notebook_name(part)
        notebook = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
        if fill:
            source = nbformat.read(course / "source" / ASSIGNMENT / name, as_version=4)
            solution = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                        if c.metadata.get("nbgrader", {}).get("solution")}
            for cell in notebook.cells:
                if cell.metadata.get("nbgrader", {}).get("solution"):
                    cell.source = solution[cell.metadata["nbgrader"]["grade_id"]]
        nbformat.write(notebook, target / name)


def cell_scores(course: Path, student: str) -> dict:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        for notebook in submission.notebooks:
            for grade_ in notebook.grades:
                scores[(notebook.name, grade_.name)] = (grade_.score, grade_.max_score)
        return {"total": (submission.score, submission.max_score), "cells": scores}


def test_autograde_of_a_filled_in_copy_matches_the_grader(autograded, tmp_path):
    course = autograded
    scores = cell_scores(course, "alice")
    folder = course / "autograded" / "alice" / ASSIGNMENT
    assert sorted(p.name for p in folder.glob("*.py")) == sorted(f"{p}.py" for p in FILLED_PARTS)

    report = grade(folder, parts=list(FILLED_PARTS), include_hidden=True)
    assert report.score == report.max_score
    assert scores["total"][0] == report.score
    by_cell = {}
    for part in FILLED_PARTS:
        source = nbformat.read(course / "source" / ASSIGNMENT / notebooks.notebook_name(part), as_version=4)
        for cell in grade_cells(source):
            check_id = cell.source.split('assert_check("')[1].split('")')[0]
            by_cell[(notebooks.notebook_name(part)[:-6], cell.metadata["nbgrader"]["grade_id"])] = check_id
    result_of = {check.id: check for check in report.checks}
    assert set(by_cell.values()) == set(result_of)
    for key, check_id in by_cell.items():
        assert scores["cells"][key] == (result_of[check_id].score, result_of[check_id].max_score), key

    # `grader check` (public checks) on the same files: the public cells' scores.
    out = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "grader", "check", str(folder), "--part", "conv", "--part", "layers",
                    "--json", str(out)], check=True, capture_output=True, timeout=600)
    public = json.loads(out.read_text())
    hidden_cells = {key for key, check_id in by_cell.items() if result_of[check_id].hidden}
    assert hidden_cells, "the round trip should cover a hidden test"
    assert public["score"] == sum(score for key, (score, _) in scores["cells"].items() if key not in hidden_cells)

    conv = nbformat.read(folder / notebooks.notebook_name("conv"), as_version=4)
    images = sum("image/png" in output.get("data", {}) for c in conv.cells for output in c.get("outputs", []))
    assert images >= 3, "the lesson's figure, the feature maps and the receptive fields"


def test_autograde_of_the_untouched_release_gives_zero_without_errors(autograded):
    course = autograded
    scores = cell_scores(course, "bob")
    total, out_of = scores["total"]
    assert total == 0 and out_of == sum(e.points for e in rubric_module.load().select(include_hidden=True)
                                        if e.part in PARTS)
    folder = course / "autograded" / "bob" / ASSIGNMENT
    for part in PARTS:
        notebook = nbformat.read(folder / notebooks.notebook_name(part), as_version=4)
        for cell in notebook.cells:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            if cell.metadata.get("nbgrader", {}).get("grade"):
                assert all(e.ename == "AssertionError" for e in errors), (part, cell.source, errors)
            else:
                assert not errors, (part, cell.source[:200], [(e.ename, e.evalue) for e in errors])
        assert (folder / f"{part}.py").read_text() == (ASSIGNMENTS / f"{part}.py").read_text()


def test_course_config_and_cli(tmp_path):
    result = subprocess.run([sys.executable, "-m", "grader", "course", "--out", str(tmp_path / "c"),
                             "--part", "conv"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    config = (tmp_path / "c" / "nbgrader_config.py").read_text()
    assert "configure(c)" in config and "course_id" in config
    assert sorted(p.name for p in (tmp_path / "c" / "source" / "cnn").iterdir()) == ["01_conv.ipynb"]
    shutil.rmtree(tmp_path / "c")
