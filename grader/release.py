"""``grader release --out DIR``: the student bundle.

What goes in::

    README.md          for students: set-up, working, checking, handing in
    pyproject.toml     ``python -m pip install -e .`` then ``grader check``
    EXERCISES.md       the contract, when the course's shared folder has it
    assignments/       the stubs, generated from solutions/ (grader.stubs)
    notebooks/         the lesson notebooks, student version (grader.notebooks)
    grader/            the grader with its PUBLIC checks: no grader/hidden/, and a
                       rubric.toml without the hidden entries
    datasets/          mnist5000.npz and its README (source and licence)

Never: solutions/, tests/, hidden checks. :func:`leaks` looks for them in the written
bundle (solution markers, solution files, distinctive lines of the solution regions,
hidden check ids and modules) and the release is refused if it finds any.

In the bundle itself the instructors' commands (release, gradescope) say they are
instructors' tools instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

from grader import rubric as rubric_module
from grader.stubs import BEGIN, END, stub_sources

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "grader"
SOLUTIONS = ROOT / "solutions"
MARKER = ".cnn-kit-release"  # marks a folder that release wrote (and may replace)
DATA_FILES = ("mnist5000.npz", "README.md")
#: Packages the students do not need (instructors' tools and the kit's own tests).
INSTRUCTOR_ONLY_PACKAGES = {"nbgrader", "pytest", "nbformat", "nbclient", "nbconvert"}
NOTEBOOK_PACKAGES = ["jupyterlab>=4,<5", "ipykernel>=6,<8"]
SKIPPED_NAMES = {"__pycache__", "hidden", ".pytest_cache", ".hypothesis"}
MARKERS = {BEGIN, END, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
MIN_DISTINCTIVE = 30  # characters: shorter solution lines may well occur anywhere


class ReleaseError(RuntimeError):
    """The bundle cannot be written (or would leak); the message says why."""


def is_instructor_kit() -> bool:
    return SOLUTIONS.is_dir() and (PACKAGE / "hidden").is_dir()


def run(args) -> int:
    if not is_instructor_kit():
        print("grader release is an instructors' command: it needs the kit's solutions/ and "
              "grader/hidden/, which the student bundle does not have.", file=sys.stderr)
        return 2
    try:
        out = build(Path(args.out))
    except ReleaseError as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    files = sum(1 for path in out.rglob("*") if path.is_file())
    print(f"student bundle written to {out}/ ({files} files); checked: no solution code, no hidden check")
    return 0


# -- building ---------------------------------------------------------------------------------
def build(out: Path) -> Path:
    """Writes the bundle to ``out`` (replacing an earlier bundle there) and returns it."""
    out = Path(out).resolve()
    kit_folders = (PACKAGE, SOLUTIONS, ROOT / "assignments", ROOT / "notebooks", ROOT / "datasets")
    if out == ROOT or any(out == folder or folder in out.parents for folder in kit_folders):
        raise ReleaseError(f"refusing to write the bundle to {out}: pick a folder of its own")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReleaseError(f"{out} exists and is not an earlier bundle: pick an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_bundle(staging)
        found = leaks(staging)
        if found:
            raise ReleaseError("the bundle would leak solutions or hidden checks:\n  " + "\n  ".join(found[:20]))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def write_bundle(target: Path) -> None:
    from grader import notebooks

    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("written by `grader release`; the next release replaces this folder\n")
    stubs = stub_sources(SOLUTIONS)
    (target / "assignments").mkdir()
    for name, text in stubs.items():
        (target / "assignments" / name).write_text(text)
    (target / "notebooks").mkdir()
    for name, text in notebooks.student_notebook_texts(SOLUTIONS).items():
        (target / "notebooks" / name).write_text(text)
    _copy_package(target / "grader")
    (target / "grader" / "rubric.toml").write_text(public_rubric_text(rubric_module.RUBRIC_FILE.read_text()))
    (target / "datasets").mkdir()
    for name in DATA_FILES:
        source = ROOT / "datasets" / name
        if not source.is_file():
            raise ReleaseError(f"{source} is missing")
        shutil.copyfile(source, target / "datasets" / name)
    contract = _contract()
    if contract is not None:
        shutil.copyfile(contract, target / "EXERCISES.md")
    (target / "pyproject.toml").write_text(student_pyproject())
    (target / "README.md").write_text(student_readme(contract is not None))


def _copy_package(target: Path) -> None:
    def ignore(folder, names):
        skipped = {name for name in names
                   if name in SKIPPED_NAMES - {"hidden"} or name.endswith((".pyc", ".pyo"))}
        if Path(folder).resolve() == PACKAGE and "hidden" in names:
            skipped.add("hidden")  # grader/hidden/: the hidden checks
        return skipped

    shutil.copytree(PACKAGE, target, ignore=ignore)


def _contract() -> Path | None:
    for candidate in (ROOT / "EXERCISES.md", ROOT.parent / "shared" / "EXERCISES.md"):
        if candidate.is_file():
            return candidate
    return None


def public_rubric_text(text: str) -> str:
    """``rubric.toml`` without its hidden entries, comments and order kept."""
    blocks = re.split(r"(?m)^(?=\[\[checks\]\]\s*$)", text)
    kept = [blocks[0]]
    for block in blocks[1:]:
        entries = tomllib.loads(block).get("checks", [])
        if not any(entry.get("hidden", False) for entry in entries):
            kept.append(block)
    result = "".join(kept)
    if not result.endswith("\n"):
        result += "\n"
    return result


def derived_pyproject(name: str, description: str, extra_dependencies=(), readme: bool = False) -> str:
    """A pyproject.toml for a bundle made from this kit: the kit's dependencies minus the
    instructors' tools, plus ``extra_dependencies``; the same ``grader`` command."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    dependencies = [d for d in project.get("dependencies", [])
                    if re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].strip().lower() not in INSTRUCTOR_ONLY_PACKAGES]
    dependencies += [d for d in extra_dependencies if d.split(">")[0] not in " ".join(dependencies)]
    lines = "\n".join(f"    {_toml_string(d)}," for d in dependencies)
    readme_line = 'readme = "README.md"\n' if readme else ""
    return f'''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {_toml_string(name)}
version = {_toml_string(project.get("version", "0.1.0"))}
description = {_toml_string(description)}
{readme_line}requires-python = {_toml_string(project.get("requires-python", ">=3.11"))}
dependencies = [
{lines}
]

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["*.toml"]
'''


def student_pyproject() -> str:
    return derived_pyproject(
        "cnn-exercise-kit-student",
        "CNNs from scratch in NumPy: the exercises, the lessons and the grader's public checks",
        NOTEBOOK_PACKAGES, readme=True)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def student_readme(with_contract: bool) -> str:
    rubric = rubric_module.load()
    public = rubric.select(include_hidden=False)
    hidden = [e for e in rubric.entries if e.hidden]
    parts = ", ".join(f"`{name}`" for name in rubric.parts.values())
    contract = ("`EXERCISES.md` is the contract: the files, the names and what each must compute;\n"
                "every docstring in `assignments/` repeats what its function must do."
                if with_contract else "Every docstring in `assignments/` says what its function must do.")
    hidden_note = (f"\n\nWhen your work is graded, {len(hidden)} more checks run on top of these (larger\n"
                   "inputs, more examples): passing every check here is necessary, and very likely\n"
                   "but not certainly enough." if hidden else "")
    return f"""\
# CNNs from scratch: the exercises

You write the pieces of a convolutional network yourself, in NumPy: convolution, pooling,
BatchNorm, the fully connected layer, activations, dropout and the loss, then layers in
the style of `torch.nn`, the classic networks (LeNet-5, AlexNet, VGG-16, ResNet), and
finally you train your own LeNet-5 on real handwritten digits. A grader compares your
code with PyTorch on examples it draws itself and, when something is wrong, shows you
the smallest example it found, where your numbers differ, and a hint.

{contract}

## Set up (once)

Python 3.11 or newer. In this folder (a virtual environment is a good idea:
`python -m venv .venv`, then `source .venv/bin/activate`, or `.venv\\Scripts\\activate` on
Windows):

    python -m pip install -e .

This installs the `grader` command and what it needs: NumPy, the CPU build of PyTorch
(the grader's reference; your code may not use it), hypothesis, matplotlib and
JupyterLab.

## Work

The parts, in order: {parts}.
Each builds on the ones before it. Work in one of two ways, and keep to it:

- **files**: fill in `assignments/<part>.py` in your editor;
- **notebooks**: `jupyter lab notebooks/`. Each notebook teaches its part (what it is, why,
  worked examples, figures), holds the part's file in one cell that you fill in and run
  (it writes `<part>.py` next to the notebook, in `notebooks/`), and runs the checks.

The later parts import the files of the earlier ones from the same folder, and the grader
grades one folder at a time: `assignments/` or `notebooks/`.

Your files may import `numpy`, `math` and the standard library only. A file that imports
`torch`, `scipy` or another library that computes the answer scores zero.

## Check

    grader check                          # assignments/, every part
    grader check --part conv              # one part (repeatable)
    grader check notebooks --part conv    # the files the notebooks wrote
    grader check --json results.json      # also a machine-readable report

The report lists every check with its points ({sum(e.points for e in public):g} in all),
and for a failing one the smallest failing example, your values against the expected
ones, and a hint.{hidden_note}

## Hand in

Hand in your seven files, `conv.py`, `pooling.py`, `batchnorm.py`, `layers.py`,
`modules.py`, `networks.py` and `train.py`, the way your course says (for example, upload
them to Gradescope: at the top level or in one folder, or as one `.zip`). Keep the file
names, and keep the names and signatures of the functions and classes as they are.

## What is here

| folder | what |
| --- | --- |
| `assignments/` | the files you fill in |
| `notebooks/` | the lessons, one notebook per part |
| `grader/` | the grader and its public checks (`grader/rubric.toml`: points and hints) |
| `datasets/` | 5,000 MNIST digits for the training part, and their source and licence |

`grader stubs`, `grader batch`, `grader release` and `grader gradescope` are the
instructors' commands; in this bundle they have nothing to work on.
"""


# -- looking for leaks ------------------------------------------------------------------------
def solution_regions(text: str) -> list[str]:
    """The lines inside the solution regions of a solution file."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def distinctive_solution_lines(solutions_dir: Path = SOLUTIONS, public_roots=None) -> set[str]:
    """Solution lines (stripped, at least MIN_DISTINCTIVE characters) that no public file of
    the kit holds: finding one in a bundle means solution code got in."""
    public_text = set()
    for root in public_roots or (PACKAGE, ROOT / "assignments"):
        for path in Path(root).rglob("*.py"):
            if "hidden" in path.relative_to(root).parts or "__pycache__" in path.parts:
                continue
            public_text.update(line.strip() for line in path.read_text(errors="replace").splitlines())
    public_text.update(line.strip() for text in stub_sources(solutions_dir).values()
                       for line in text.splitlines())
    found = set()
    for path in sorted(Path(solutions_dir).glob("*.py")):
        for line in solution_regions(path.read_text()):
            line = line.strip()
            if len(line) >= MIN_DISTINCTIVE and line not in public_text and not line.startswith("#"):
                found.add(line)
    return found


def hidden_check_names() -> set[str]:
    """Hidden check ids, the function names after the part, and the hidden modules' names."""
    names = set()
    for entry in rubric_module.load().entries:
        if entry.hidden:
            names.add(entry.id)
            names.add(entry.id.partition(".")[2])
    return names


def _text_files(folder: Path):
    """(path, text) of every text file; a notebook's text is its cells' sources."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix in (".npz", ".png", ".pyc", ".zip"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            try:
                cells = json.loads(text).get("cells", [])
                text += "\n" + "\n".join("".join(cell.get("source", "")) for cell in cells)
            except (ValueError, AttributeError):
                pass
        yield path, text


def leaks(bundle: Path) -> list[str]:
    """Every way in which ``bundle`` holds solution code or hidden checks, as messages."""
    bundle = Path(bundle)
    found = []
    if (bundle / "grader" / "hidden").exists():
        found.append("grader/hidden/ is in the bundle")
    if (bundle / "solutions").exists():
        found.append("solutions/ is in the bundle")
    solution_hashes = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in SOLUTIONS.glob("*.py")}
    distinctive = distinctive_solution_lines()
    hidden = hidden_check_names()
    hidden_titles = {e.title for e in rubric_module.load().entries if e.hidden and len(e.title) >= 20}
    bundle_rubric = bundle / "grader" / "rubric.toml"
    if bundle_rubric.is_file():
        if any(entry.hidden for entry in rubric_module.load(bundle_rubric).entries):
            found.append("grader/rubric.toml lists hidden checks")
    for path, text in _text_files(bundle):
        name = path.relative_to(bundle)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in solution_hashes:
            found.append(f"{name} is solutions/{solution_hashes[digest]}")
        if any(line.strip() in MARKERS for line in text.splitlines()):
            found.append(f"{name} holds solution or hidden-test markers")
        for line in text.splitlines():
            if line.strip() in distinctive:
                found.append(f"{name} holds a solution line: {line.strip()[:80]}")
                break
        for word in hidden:
            if re.search(rf"(?<![\w.]){re.escape(word)}(?!\w)", text):
                found.append(f"{name} names the hidden check {word}")
        for title in hidden_titles:
            if title in text:
                found.append(f"{name} holds the title of a hidden check: {title}")
    return found
