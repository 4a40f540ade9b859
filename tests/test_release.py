"""The student bundle (`grader release`): what it holds, that it holds no solution code and
no hidden check anywhere, and that it installs and grades in two commands. Also: the
committed notebooks/ are what the notebooks' source builds."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from grader.assign import leaks, notebooks, release
from grader.assign.stubs import stub_sources
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS
from tests.leak_scanner import HIDDEN_DIR, scan, secret_lines, solution_blocks, solution_region_lines

PARTS = list(rubric_module.load().parts)


def test_the_scanner_has_teeth():
    secrets = secret_lines()
    assert len(secrets) > 150, f"only {len(secrets)} distinctive solution lines: the scan would miss leaks"
    assert len(solution_blocks()) > 50


# -- the bundle ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "bundle"
    result = subprocess.run([sys.executable, "-m", "grader", "release", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no solution code, no hidden check" in result.stdout
    return out


@pytest.mark.slow
def test_bundle_layout(bundle):
    for name in ("README.md", "pyproject.toml", "datasets/mnist5000.npz", "datasets/README.md",
                 "grader/cli.py", "grader/runner.py", "grader/data.py", "grader/rubric.toml",
                 "grader/checks/harness/base.py", "grader/worker/server.py", "grader/assign/nbgrader_course.py",
                 "grader/assign/templates/setup.sh", "grader/assign/lessons/en/conv.md"):
        assert (bundle / name).is_file(), f"{name} missing from the bundle"
    assert (bundle / "datasets/mnist5000.npz").read_bytes() == (ROOT / "datasets/mnist5000.npz").read_bytes()
    stubs = stub_sources(SOLUTIONS)
    assert sorted(p.name for p in (bundle / "assignments").iterdir()) == sorted(stubs)
    for name, text in stubs.items():
        assert (bundle / "assignments" / name).read_text() == text
    built = notebooks.student_notebook_texts()
    assert sorted(p.name for p in (bundle / "notebooks").iterdir()) == sorted(built)
    for name, text in built.items():
        assert (bundle / "notebooks" / name).read_text() == text
    public_package = {p.relative_to(ROOT / "grader") for p in (ROOT / "grader").rglob("*.py")
                      if HIDDEN_DIR not in p.parents and "__pycache__" not in p.parts}
    shipped = {p.relative_to(bundle / "grader") for p in (bundle / "grader").rglob("*.py")}
    assert shipped == public_package
    assert not list(bundle.rglob("__pycache__")) and not list(bundle.rglob("*.pyc"))
    for forbidden in ("solutions", "tests", "grader/hidden", "benchmarks", ".git"):
        assert not (bundle / forbidden).exists(), f"{forbidden} is in the bundle"


@pytest.mark.slow
def test_bundle_rubric_is_the_public_rubric(bundle):
    full = rubric_module.load()
    shipped = rubric_module.load(bundle / "grader" / "rubric.toml")
    assert shipped.parts == full.parts
    assert shipped.entries == tuple(full.select(include_hidden=False))
    assert any(entry.hidden for entry in full.entries), "no hidden check to leave out"


@pytest.mark.slow
def test_bundle_holds_no_solution_and_no_hidden_check(bundle):
    assert scan(bundle) == []
    assert leaks.leaks(bundle) == []


@pytest.mark.slow
def test_a_planted_leak_is_found(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (copy / "assignments" / "conv.py").write_bytes((SOLUTIONS / "conv.py").read_bytes())
    notebook = json.loads((copy / "notebooks" / "02_pooling.ipynb").read_text())
    line = sorted(set(solution_region_lines((SOLUTIONS / "pooling.py").read_text())) & secret_lines())[0]
    notebook["cells"][-1]["source"] = ["x = 1\n", f"    {line}\n"]
    (copy / "notebooks" / "02_pooling.ipynb").write_text(json.dumps(notebook))
    shutil.copytree(HIDDEN_DIR, copy / "grader" / "hidden")
    for found in (scan(copy), leaks.leaks(copy)):
        text = "\n".join(found)
        assert "conv.py" in text and "02_pooling.ipynb" in text and "hidden" in text, text


@pytest.mark.slow
def test_bundle_grader_has_no_hidden_checks_to_find(bundle):
    # -S: without site-packages, where this machine's editable install of the whole kit
    # would otherwise answer for any module the bundle lacks.
    code = ("import importlib.util, grader; print(grader.__file__); "
            "print(importlib.util.find_spec('grader.hidden'))")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=bundle, capture_output=True, text=True)
    assert out.stdout.splitlines() == [str(bundle / "grader" / "__init__.py"), "None"], out.stderr


@pytest.mark.slow
def test_student_pyproject(bundle):
    with open(bundle / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert {"numpy", "torch", "hypothesis", "matplotlib", "jupyterlab"} <= names
    assert not names & {"nbgrader", "pytest", "pytest-xdist"}
    assert project["scripts"]["grader"] == "grader.cli:main"


def test_release_refuses_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = subprocess.run([sys.executable, "-m", "grader", "release", "--out", str(precious)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "not an earlier bundle" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_release_replaces_an_earlier_bundle(tmp_path):
    out = tmp_path / "bundle"
    release.build(out)
    (out / "assignments" / "stale.py").write_text("x = 1\n")
    release.build(out)
    assert not (out / "assignments" / "stale.py").exists()
    assert (out / release.MARKER).exists()


# -- installing and grading, the README's two commands ----------------------------------------
@pytest.fixture(scope="module")
def student(bundle, tmp_path_factory):
    """A copy of the bundle set up by its README's own set-up line, run word for word. The
    packages come from the environment running the tests (on PYTHONPATH, so that pip finds them
    installed; setuptools for the build comes from PyPI, as on a student's machine)."""
    folder = tmp_path_factory.mktemp("student") / "cnn"
    shutil.copytree(bundle, folder)
    set_up = release.readme_block("set-up", folder / "README.md")
    outer = os.pathsep.join(site.getsitepackages())
    env = dict(os.environ, PYTHONPATH=outer, VIRTUAL_ENV="",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", "-c", f"set -euo pipefail\n{textwrap.dedent(set_up)}"], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    python = folder / ".venv" / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(inner, "outer-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return folder


@pytest.fixture(scope="module")
def installed(student):
    return student / ".venv" / "bin"


@pytest.mark.slow
def test_the_release_sets_up_the_cpu_torch_as_the_kit_does(bundle):
    for language in ("en", "zh"):
        readme = release.student_readme(language)
        line = release.readme_block("set-up", ROOT / "README.md")
        assert f"<!-- set-up -->\n{line}\n<!-- /set-up -->" in readme
        assert "--extra-index-url https://download.pytorch.org/whl/cpu" in line and "torch" in line
    assert release.readme_block("set-up", bundle / "README.md") == release.readme_block("set-up", ROOT / "README.md")


@pytest.mark.slow
def test_installed_grader_is_the_bundles(installed, student, tmp_path):
    out = subprocess.run([str(installed / "python"), "-c", "import grader; print(grader.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == str(student / "grader" / "__init__.py"), out.stderr


@pytest.mark.slow
def test_the_set_up_leaves_the_students_folder_clean_and_knows_its_version(installed, student, bundle):
    assert sorted(p.name for p in student.iterdir()) == sorted([*(p.name for p in bundle.iterdir()), ".venv"])
    assert not list(student.glob("*.egg-info")) and not (student / "build").exists()
    version = subprocess.run([str(installed / "grader"), "--version"], capture_output=True, text=True)
    with open(ROOT / "pyproject.toml", "rb") as handle:
        kit = tomllib.load(handle)["project"]["version"]
    assert version.stdout.strip() == f"grader {kit}", version.stdout + version.stderr


@pytest.mark.slow
def test_the_release_contract_has_no_instructors_text(bundle):
    for language, name in (("en", "EXERCISES.md"), ("zh", "EXERCISES.zh.md")):
        text = release.student_contract((ROOT / name).read_text(encoding="utf-8"))
        assert "solutions/" not in text and "everywhere at once" not in text and "同时修改" not in text
        assert "<!--" not in text and "`assignments/`" in text
    assert "solutions/" not in (bundle / "EXERCISES.md").read_text()


def test_the_readme_intro_names_every_part_and_augmentation():
    assert "augmentation" in release.student_readme("en").split("##")[0]
    assert "数据增广" in release.student_readme("zh").split("##")[0]  # the glossary's term


@pytest.mark.slow
def test_grader_check_on_the_untouched_bundle(installed, bundle):
    result = subprocess.run([str(installed / "grader"), "check"], cwd=bundle, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 1, result.stderr  # points were lost: every stub scores zero
    public_total = sum(e.points for e in rubric_module.load().select(include_hidden=False))
    assert f"Total: 0/{public_total:g} " in result.stdout
    assert "(hidden)" not in result.stdout


@pytest.mark.slow
def test_grader_check_in_the_bundle_gives_full_marks_to_the_reference(installed, bundle, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(bundle, work, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conv.py", "layers.py"):
        shutil.copyfile(SOLUTIONS / name, work / "assignments" / name)
    result = subprocess.run([str(installed / "grader"), "check", "assignments", "--part", "conv",
                             "--part", "layers", "--json", "results.json"], cwd=work,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads((work / "results.json").read_text())
    public = rubric_module.load().select(["conv", "layers"], include_hidden=False)
    assert data["score"] == sum(e.points for e in public)
    assert [t["status"] for t in data["tests"]] == ["passed"] * len(public)
    assert all(t["visibility"] == "visible" for t in data["tests"])


@pytest.mark.slow
@pytest.mark.parametrize("command", [["release", "--out", "again"], ["gradescope", "--out", "ag.zip"],
                                     ["stubs", "--out", "stubs"], ["notebooks", "--out", "nb"],
                                     ["course", "--out", "course"]])
def test_instructor_commands_say_so_in_the_bundle(installed, bundle, command):
    before = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if "__pycache__" not in p.parts)
    result = subprocess.run([str(installed / "grader"), *command], cwd=bundle, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "instructors' command" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    after = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if "__pycache__" not in p.parts)
    assert after == before, "an instructors' command wrote into the student bundle"


# -- the notebooks ------------------------------------------------------------------------------
def test_committed_notebooks_are_up_to_date():
    built = notebooks.student_notebook_texts()
    committed = ROOT / "notebooks"
    for name, text in built.items():
        path = committed / name
        assert path.exists(), f"notebooks/{name} is missing: run `grader notebooks`"
        assert path.read_text() == text, f"notebooks/{name} is stale: run `grader notebooks`"
    extra = {p.name for p in committed.glob("*.ipynb")} - set(built)
    assert not extra, f"notebooks/ holds notebooks no part builds: {sorted(extra)}"


@pytest.mark.parametrize("part", PARTS)
def test_notebook_file_cell_writes_the_stub_and_checks_follow_the_rubric(part):
    student = notebooks.student_notebook(part)
    source = notebooks.source_notebook(part)
    file_cells = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(file_cells) == 1
    header, _, body = file_cells[0].source.partition("\n")
    assert header == f"%%part_file {part}.py"
    assert body == (ASSIGNMENTS / f"{part}.py").read_text()
    [source_file] = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert source_file.source.partition("\n")[2] == (SOLUTIONS / f"{part}.py").read_text()

    rubric = rubric_module.load()
    entries = rubric.select([part], include_hidden=True) if part in rubric.parts else []
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata["nbgrader"]["points"] for c in graded] == [e.points for e in entries]
    for cell, entry in zip(graded, entries):
        assert f'assert_check("{entry.id}")' in cell.source
        if entry.hidden:
            assert "### BEGIN HIDDEN TESTS" in cell.source and entry.id not in cell.metadata["nbgrader"]["grade_id"]
    student_graded = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")]
    for cell, entry in zip(student_graded, entries):
        assert (entry.id in cell.source) != entry.hidden
    ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


def test_every_part_has_a_lesson_with_figures():
    for part in PARTS:
        notebook = notebooks.student_notebook(part)
        text = "\n".join(c.source for c in notebook.cells)
        assert "plt.show()" in text or part == "modules", f"{part}: no figure"
        assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 4


def test_the_leak_search_opens_archives_and_reads_notebook_outputs(tmp_path):
    # An autograder zip left in grader/ rode along in the release, the scanner passing it.
    bundle = tmp_path / "bundle"
    (bundle / "grader").mkdir(parents=True)
    hidden = sorted((ROOT / "grader" / "hidden").glob("*.py"))
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("solutions/x.txt", (SOLUTIONS / "conv.py").read_bytes())
    with zipfile.ZipFile(bundle / "grader" / "autograder.zip", "w") as archive:
        for path in hidden:
            archive.writestr(f"grader/hidden/{path.name}", path.read_bytes())
        archive.write(inner, "nested.zip")
    # A solution line printed by a cell (a traceback, getsource) is in its output, not its source.
    line = sorted(set(solution_region_lines((SOLUTIONS / "pooling.py").read_text())) & secret_lines())[0]
    notebook = {"cells": [{"cell_type": "code", "source": ["x = 1\n"], "metadata": {},
                           "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\n", f"  {line}\n"]}]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (bundle / "lesson.ipynb").write_text(json.dumps(notebook))
    found = "\n".join(leaks.leaks(bundle))
    assert f"grader/autograder.zip:grader/hidden/{hidden[-1].name} is a hidden check" in found, found
    assert "grader/autograder.zip:nested.zip:solutions/x.txt is solutions/conv.py" in found, found
    assert "lesson.ipynb holds a solution line" in found, found


def test_the_bundle_can_be_read_by_others(tmp_path, monkeypatch):
    monkeypatch.setattr(release, "write_bundle", lambda target, language: (target / release.MARKER).write_text(""))
    monkeypatch.setattr(leaks, "leaks", lambda bundle: [])
    old = os.umask(0o022)
    try:
        out = release.build(tmp_path / "bundle")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755
