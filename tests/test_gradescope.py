"""The Gradescope autograder (`grader gradescope`): the zip's contents, and its run_autograder
run in a temporary copy of Gradescope's folder layout on the reference solution (full
marks) and on the stubs (zero), writing results.json per Gradescope's specification."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS
from tests.leak_scanner import scan

pytestmark = pytest.mark.slow   # every test here grades, builds or executes

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    result = subprocess.run([sys.executable, "-m", "grader", "gradescope", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def unpacked(autograder_zip, tmp_path_factory):
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(folder)
    return folder


def test_zip_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    for name in ("setup.sh", "run_autograder"):
        assert name in names, f"{name} must be at the root of the zip"
        assert modes[name] & stat.S_IXUSR, f"{name} must be executable"
    assert {"pyproject.toml", "grader/cli.py", "grader/runner.py", "grader/rubric.toml",
            "datasets/mnist5000.npz", "grader/hidden/__init__.py"} <= names
    hidden_modules = {f"grader/hidden/{p.name}" for p in (ROOT / "grader" / "hidden").glob("*.py")}
    assert hidden_modules <= names
    for name in names:
        top = name.split("/")[0]
        assert top in {"setup.sh", "run_autograder", "pyproject.toml", "grader", "datasets", "solutions"}, name
        assert "__pycache__" not in name and not name.endswith(".pyc")


def test_zip_holds_hidden_checks_and_the_reference_files_only_in_solutions(unpacked, tmp_path):
    """The reference files are there for official grading (a part runs with the reference file
    in place of a used file that fails its own checks), in solutions/ only; nothing else leaks."""
    rubric = rubric_module.load(unpacked / "grader" / "rubric.toml")
    assert rubric == rubric_module.load(), "the autograder's rubric must be the full one"
    assert any(entry.hidden for entry in rubric.entries)
    assert sorted(p.name for p in (unpacked / "solutions").iterdir()) == sorted(p.name for p in SOLUTIONS.glob("*.py"))
    rest = tmp_path / "rest"
    shutil.copytree(unpacked, rest, ignore=lambda folder, names: ["solutions"] if Path(folder) == unpacked else [])
    assert scan(rest, hidden_checks_allowed=True) == []
    solution_names = {p.name for p in SOLUTIONS.glob("*.py")}
    assert not [p for p in rest.rglob("*.py") if p.name in solution_names and "grader" not in p.parts]


def test_a_bug_costs_points_in_its_own_part_on_gradescope(unpacked, tmp_path):
    from tests.planted_bugs import BUGS, apply_bug

    bug = next(b for b in BUGS if b.id == "bn_running_var_biased")
    files = {p.name: p.read_bytes() for p in SOLUTIONS.glob("*.py")}
    files[bug.file] = apply_bug(bug, files[bug.file].decode()).encode()
    data = run_autograder(unpacked, tmp_path, files, parts="batchnorm modules")
    lost = {t["tags"][0] for t in data["tests"] if t["score"] < t["max_score"]}
    assert lost == {"batchnorm"}, data["output"]
    assert "modules.py: graded with the reference batchnorm.py" in data["output"]


def test_scripts_are_valid_bash(unpacked):
    for name in ("setup.sh", "run_autograder"):
        result = subprocess.run(["bash", "-n", str(unpacked / name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    setup = (unpacked / "setup.sh").read_text()
    assert "-m venv" in setup and "pip install" in setup and '-e "$ROOT/source"' in setup


def test_setup_hides_the_forbidden_libraries_from_the_workers_user(unpacked, tmp_path):
    """Where Gradescope's container allows no mount namespace, the worker (another user) must
    still not read torch: setup.sh leaves the forbidden libraries' folders to root alone."""
    line = next(line for line in (unpacked / "setup.sh").read_text().splitlines() if "forbidden_locations" in line)
    listed = subprocess.run(["bash", "-c", line.rstrip(" |").replace('"$VENV/bin/python"', shlex.quote(sys.executable))],
                            capture_output=True, text=True, check=True).stdout.split("\n")
    import torch

    assert str(Path(torch.__file__).parent) in listed


def test_autograder_pyproject(unpacked):
    with open(unpacked / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert {"numpy", "torch", "hypothesis", "matplotlib"} <= names
    assert not names & {"nbgrader", "pytest", "jupyterlab"}


def run_autograder(unpacked: Path, root: Path, files: dict, parts: str | None = None,
                   tweak_rubric: bool = False) -> dict:
    """Gradescope's layout under ``root``: source/ (the unpacked zip), submission/ (``files``,
    name -> bytes), results/; runs run_autograder and returns results.json."""
    shutil.copytree(unpacked, root / "source")
    if tweak_rubric:  # proves that the grader inside the zip is the one that ran
        rubric = root / "source" / "grader" / "rubric.toml"
        rubric.write_text(rubric.read_text().replace('title = "output size formula',
                                                     'title = "FROM THE ZIP: output size formula'))
    for name, data in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "submission").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    if parts:
        env["AUTOGRADER_PARTS"] = parts
    result = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def check_spec(data: dict, entries) -> None:
    """results.json as Gradescope specifies it, one test per rubric entry, in order."""
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["execution_time"], (int, float)) and data["execution_time"] >= 0
    assert isinstance(data["output"], str)
    assert len(data["tests"]) == len(entries)
    for test, entry in zip(data["tests"], entries):
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert test["max_score"] == entry.points
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
        assert test["visibility"] == ("after_published" if entry.hidden else "visible")
        assert test["tags"] == [entry.part, entry.name]
        assert isinstance(test["name"], str) and entry.name in test["name"]
    assert data["score"] == pytest.approx(sum(test["score"] for test in data["tests"]))


def test_reference_solution_gets_full_marks(unpacked, tmp_path):
    # Two parts that have hidden checks keep this fast; tests/test_grading.py grades every part.
    parts = ["conv", "pooling"]
    files = {f"hw2/{p.name}": p.read_bytes() for p in SOLUTIONS.glob("*.py")}
    data = run_autograder(unpacked, tmp_path, files, parts=" ".join(parts), tweak_rubric=True)
    entries = rubric_module.load().select(parts, include_hidden=True)
    assert any(entry.hidden for entry in entries)
    check_spec(data, entries)
    assert data["score"] == sum(entry.points for entry in entries)
    assert all(test["status"] == "passed" for test in data["tests"])
    assert "FROM THE ZIP" in data["tests"][0]["name"]
    assert "files taken from the folder hw2" in data["output"]
    assert not (tmp_path / "source" / "grader" / "hidden").stat().st_mode & 0o077, \
        "the hidden checks must not be readable by the students' code"


def test_stubs_get_zero(unpacked, tmp_path):
    files = {p.name: p.read_bytes() for p in ASSIGNMENTS.glob("*.py")}
    data = run_autograder(unpacked, tmp_path, files)
    entries = rubric_module.load().select(include_hidden=True)
    check_spec(data, entries)
    assert data["score"] == 0
    assert all(test["status"] == "failed" for test in data["tests"])
    hidden = [t for t, e in zip(data["tests"], entries) if e.hidden]
    assert hidden and all("inputs are not shown" in t["output"] for t in hidden)


def test_a_submission_without_exercise_files_scores_zero_with_a_reason(unpacked, tmp_path):
    data = run_autograder(unpacked, tmp_path, {"notes.txt": b"I did not finish"})
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"] and "no exercise file" in data["output"]
