"""The student bundle (`grader release`): what it holds, that it holds no solution code and
no hidden check anywhere, and that it installs and grades in two commands. Also: the
committed notebooks/ are what the notebooks' source builds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from grader.assign import leaks, notebooks, release
from grader.assign.markers import SOLUTION
from grader.assign.stubs import stub_sources
from tests.conftest import ASSIGNMENTS, ROOT, SOLUTIONS

HIDDEN_DIR = ROOT / "grader" / "hidden"
BEGIN, END = SOLUTION.begin, SOLUTION.end
MARKER_LINES = {BEGIN, END, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
PARTS = list(rubric_module.load().parts)


# -- an independent leak scanner (not grader.assign.leaks) -------------------------------------------
def solution_region_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def public_lines() -> set[str]:
    """Every stripped line of what students may legitimately see."""
    seen = set()
    for folder in (ROOT / "grader", ASSIGNMENTS):
        for path in folder.rglob("*.py"):
            if HIDDEN_DIR in path.parents or "__pycache__" in path.parts:
                continue
            seen.update(line.strip() for line in path.read_text().splitlines())
    return seen


def secret_lines(hidden_checks: bool = True) -> set[str]:
    """Lines of the solution regions (and of the hidden checks) that appear nowhere public:
    distinctive enough (25+ characters, not a comment) that finding one means a leak."""
    public = public_lines()
    candidates = []
    for path in SOLUTIONS.glob("*.py"):
        candidates += solution_region_lines(path.read_text())
    for path in HIDDEN_DIR.glob("*.py") if hidden_checks else ():
        candidates += [line.strip() for line in path.read_text().splitlines()]
    return {line for line in candidates
            if len(line) >= 25 and not line.startswith(("#", '"""', "from ", "import ")) and line not in public}


def public_text() -> str:
    texts = []
    for folder in (ROOT / "grader", ASSIGNMENTS):
        for path in folder.rglob("*.py"):
            if HIDDEN_DIR not in path.parents and "__pycache__" not in path.parts:
                texts.append(" ".join(path.read_text().split()))
    return "\n".join(texts)


def solution_blocks() -> list[str]:
    """Each solution region whole, whitespace-normalised (60+ characters): the body of a
    solution function, or its private helpers; minus those the public grader holds too
    (``return ResNet(BasicBlock, [2, 2, 2, 2], ...)`` is no secret)."""
    public = public_text()
    blocks = []
    for path in SOLUTIONS.glob("*.py"):
        region, inside = [], False
        for line in path.read_text().splitlines():
            if line.strip() == BEGIN:
                region, inside = [], True
            elif line.strip() == END:
                inside = False
                normalised = " ".join(" ".join(region).split())
                if len(normalised) >= 60 and normalised not in public:
                    blocks.append(normalised)
            elif inside:
                region.append(line)
    return blocks


def readable_texts(folder: Path):
    """(relative path, text) of every file; a notebook also yields its cells' sources."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(cell["source"]) for cell in cells)
        yield path.relative_to(folder), data, text


def scan(folder: Path, hidden_checks_allowed: bool = False) -> list[str]:
    """Every trace of solution code (and, unless allowed, of hidden checks) in ``folder``."""
    secrets = secret_lines(hidden_checks=not hidden_checks_allowed)
    blocks = solution_blocks()
    solution_digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SOLUTIONS.glob("*.py")}
    hidden_ids = {e.id for e in rubric_module.load().entries if e.hidden}
    hidden_words = hidden_ids | {i.partition(".")[2] for i in hidden_ids}
    hidden_modules = {f"grader.hidden.{p.stem}" for p in HIDDEN_DIR.glob("*.py") if p.stem != "__init__"}
    if hidden_checks_allowed:
        hidden_words, hidden_modules = set(), set()
    problems = []
    for name, data, text in readable_texts(folder):
        if name.parts[:1] == ("solutions",) or ("hidden" in name.parts[:-1] and not hidden_checks_allowed):
            problems.append(f"{name}: a hidden-check or solutions folder")
        if hashlib.sha256(data).hexdigest() in solution_digests:
            problems.append(f"{name}: a solution file")
        if name.suffix in (".npz",):
            continue
        lines = {line.strip() for line in text.splitlines()}
        if lines & MARKER_LINES:
            problems.append(f"{name}: solution or hidden-test markers")
        if lines & secrets:
            problems.append(f"{name}: solution or hidden-check lines {sorted(lines & secrets)[:3]}")
        flat = " ".join(text.split())
        problems += [f"{name}: a whole solution region" for block in blocks if block in flat][:1]
        problems += [f"{name}: names hidden check {word}" for word in hidden_words
                     if f'"{word}"' in text or f"'{word}'" in text or f".{word}" in text or f" {word}" in text]
        problems += [f"{name}: names {module}" for module in hidden_modules if module in text]
    return problems


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


def test_bundle_rubric_is_the_public_rubric(bundle):
    full = rubric_module.load()
    shipped = rubric_module.load(bundle / "grader" / "rubric.toml")
    assert shipped.parts == full.parts
    assert shipped.entries == tuple(full.select(include_hidden=False))
    assert any(entry.hidden for entry in full.entries), "no hidden check to leave out"


def test_bundle_holds_no_solution_and_no_hidden_check(bundle):
    assert scan(bundle) == []
    assert leaks.leaks(bundle) == []


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


def test_bundle_grader_has_no_hidden_checks_to_find(bundle):
    # -S: without site-packages, where this machine's editable install of the whole kit
    # would otherwise answer for any module the bundle lacks.
    code = ("import importlib.util, grader; print(grader.__file__); "
            "print(importlib.util.find_spec('grader.hidden'))")
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=bundle, capture_output=True, text=True)
    assert out.stdout.splitlines() == [str(bundle / "grader" / "__init__.py"), "None"], out.stderr


def test_student_pyproject(bundle):
    with open(bundle / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert {"numpy", "torch", "hypothesis", "matplotlib", "jupyterlab"} <= names
    assert not names & {"nbgrader", "pytest"}
    assert project["scripts"]["grader"] == "grader.cli:main"


def test_release_refuses_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = subprocess.run([sys.executable, "-m", "grader", "release", "--out", str(precious)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "not an earlier bundle" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


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
    assert "数据增强" in release.student_readme("zh").split("##")[0]


def test_grader_check_on_the_untouched_bundle(installed, bundle):
    result = subprocess.run([str(installed / "grader"), "check"], cwd=bundle, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 1, result.stderr  # points were lost: every stub scores zero
    public_total = sum(e.points for e in rubric_module.load().select(include_hidden=False))
    assert f"Total: 0/{public_total:g} " in result.stdout
    assert "(hidden)" not in result.stdout


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
    assert header == f"%%writefile {part}.py"
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
